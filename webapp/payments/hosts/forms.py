"""Forms for choosing a payout route, deciding on an organization, and granting the host role."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from webapp.forms import BaseForm, BoundedIntegerField
from webapp.payments.hosts.models import PayoutMethod

METHOD_CHOICES = [(PayoutMethod.BANK_TRANSFER.value, _l("Bank transfer")),
                  (PayoutMethod.MOBILE_MONEY.value, _l("Mobile money"))]


class RouteForm(BaseForm):
    #: "connect" or "host-<profile id>"
    route = SelectField(_l("How the money reaches you"), validators=[DataRequired()])


class RouteDecisionForm(BaseForm):
    decision = SelectField(_l("Decision"), choices=[("accept", _l("Accept")), ("refuse", _l("Refuse"))])


class HostGrantForm(BaseForm):
    organization = StringField(_l("Organization (its web address, as in /organizations/…)"),
                               validators=[DataRequired(), Length(max=80)])
    countries = StringField(_l("Countries it serves (two-letter codes, comma-separated)"),
                            validators=[DataRequired(), Length(max=300)])
    currencies = StringField(_l("Currencies it holds and pays in (three-letter codes, comma-separated)"),
                             validators=[DataRequired(), Length(max=200)])
    fee_basis_points = BoundedIntegerField(_l("Its fee on each payment, in basis points (150 = 1.5 %)"),
                                           minimum=0, maximum=5000, default=0)
    methods = SelectMultipleField(_l("How it pays"), choices=METHOD_CHOICES, widget=ListWidget(prefix_label=False),
                                  option_widget=CheckboxInput())
