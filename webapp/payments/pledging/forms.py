"""The pledge form."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from webapp.forms import BaseForm, MoneyField, strip


class PledgeForm(BaseForm):
    tier = RadioField(_l("Reward"), validate_choice=False, default="")
    #: the currency the amount is typed in: the campaign's, or the backer's own where the campaign takes it
    amount_currency = SelectField(_l("Your pledge is in"), validate_choice=True)
    amount = MoneyField(_l("Your pledge"), validators=[DataRequired()], currency_field="amount_currency")
    pay_currency = SelectField(_l("Pay in"), validate_choice=True)
    email = EmailField(_l("Email for the receipt"), filters=[strip], validators=[Optional(), Email(), Length(max=254)])
    display_name = StringField(_l("Name shown with your pledge"), validators=[Optional(), Length(max=80)])
    anonymous = BooleanField(_l("Pledge anonymously"))
    message = TextAreaField(_l("A message for the organization (public, optional)"), validators=[Optional(), Length(max=500)])
    tip = MoneyField(_l("A tip for Harambee (optional)"), validators=[Optional()], currency_field=None)
    client_token = HiddenField(validators=[DataRequired(), Length(min=16, max=64)])

    def __init__(self, *args, currency: str, pay_currencies: list[str], guest: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.tip.fixed_currency = currency
        self.pay_currency.choices = [(c, c) for c in pay_currencies]
        self.amount_currency.choices = [(c, c) for c in pay_currencies]
        if not self.amount_currency.data:  # a form without the field (older pages, API clients): the campaign's
            self.amount_currency.data = currency
        if guest:
            self.email.validators = [DataRequired(), Email(), Length(max=254)]


class CurrencyChoiceForm(BaseForm):
    currency = SelectField(_l("Show amounts also in"), validate_choice=True)
