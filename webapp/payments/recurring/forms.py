"""The forms of recurring support: start a gift, change its amount, an organization's currency."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField
from wtforms.validators import DataRequired, Optional

from webapp.forms import BaseForm, MoneyField, currency_choices

#: a short list first (the supporters we serve), then every zone the form accepts by name
COMMON_ZONES = ("Europe/Paris", "America/Toronto", "America/Montreal", "Europe/London", "Europe/Brussels",
                "America/New_York", "Africa/Porto-Novo", "Africa/Dakar", "Africa/Casablanca", "Africa/Abidjan",
                "Africa/Douala", "Africa/Kigali", "Africa/Nairobi", "Africa/Lagos", "UTC")


class StartSupportForm(BaseForm):
    amount = MoneyField(_l("Amount each time"), validators=[DataRequired()])
    currency = SelectField(_l("Currency"), validate_choice=True)
    interval = RadioField(_l("How often"), choices=[("monthly", _l("Every month")), ("yearly", _l("Every year"))],
                          default="monthly", validate_choice=True)
    timezone = SelectField(_l("Your time zone (the dates of your gift follow it)"), validate_choice=False)
    tip = MoneyField(_l("A tip for Harambee each time (optional)"), validators=[Optional()])

    def __init__(self, *args, currencies: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency.choices = [(c, c) for c in currencies] if currencies else currency_choices()
        self.timezone.choices = [(z, z) for z in COMMON_ZONES]


class AmountForm(BaseForm):
    amount = MoneyField(_l("New amount"), validators=[DataRequired()], currency_field=None)

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.amount.fixed_currency = currency


class OrganizationCurrencyForm(BaseForm):
    currency = SelectField(_l("Currency the organization's own income is booked in"), validate_choice=True)
    accepts = RadioField(_l("Supporters may give in their own currency"),
                         choices=[("1", _l("Yes: converted at the rate of the day each payment is made")),
                                  ("0", _l("No: only in the organization's currency"))], validate_choice=True)

    def __init__(self, *args, currencies: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.currency.choices = [(c, c) for c in currencies]
