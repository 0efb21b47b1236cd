"""The form that confirms an account's deletion."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField
from wtforms.validators import DataRequired, Length

from webapp.forms import BaseForm


class DeleteAccountForm(BaseForm):
    password = PasswordField(_l("Your password"), validators=[DataRequired(), Length(max=200)])
    confirm = BooleanField(_l("I understand that my account and my personal data will be erased, and that this "
                              "cannot be undone."),
                           validators=[DataRequired(message=_l("Tick the box to confirm."))])
