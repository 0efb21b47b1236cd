"""Forms for an organization's profile and its invitations."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import EmailField, SelectField, StringField, TextAreaField, URLField
from wtforms.validators import DataRequired, Email, Length, Optional, URL

from webapp.forms import BaseForm, CountryField, RegionField, strip
from webapp.organizations.labels import LEGAL_FORM_LABELS


class OrganizationForm(BaseForm):
    name = StringField(_l("Name of the organization"), validators=[DataRequired(), Length(max=120)])
    legal_form = SelectField(_l("Legal form"), choices=[(f.value, label) for f, label in LEGAL_FORM_LABELS.items()])
    country = CountryField(_l("Country"), validators=[DataRequired()])
    region = RegionField(_l("Region"), validators=[Optional()])
    description = TextAreaField(_l("What does your organization do?"), validators=[DataRequired(), Length(max=5000)])
    website = URLField(_l("Website (optional)"), validators=[Optional(), URL(require_tld=True), Length(max=255)])
    logo = FileField(_l("Logo (optional, JPEG, PNG or WebP)"))


class InviteForm(BaseForm):
    email = EmailField(_l("Email of the person to invite"), filters=[strip], validators=[DataRequired(), Email(), Length(max=254)])
