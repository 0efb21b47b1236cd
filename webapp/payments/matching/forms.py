"""The form an institution fills to open a match fund."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from webapp import geo
from webapp.campaigns.labels import CATEGORY_LABELS, FUNDING_MODEL_LABELS
from webapp.forms import BaseForm, MoneyField, currency_choices


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _codes(text: str) -> list[str]:
    return [c.strip().upper() for c in (text or "").replace(";", ",").split(",") if c.strip()]


class FundForm(BaseForm):
    name = StringField(_l("Name of the fund"), validators=[DataRequired(), Length(max=120)])
    institution = StringField(_l("Institution"), validators=[DataRequired(), Length(max=120)])
    currency = SelectField(_l("Currency"), validators=[DataRequired()])
    budget = MoneyField(_l("Budget"), validators=[DataRequired()])
    ratio_numerator = IntegerField(_l("The fund adds"), default=1, validators=[DataRequired(), NumberRange(1, 10)])
    ratio_denominator = IntegerField(_l("for every"), default=1, validators=[DataRequired(), NumberRange(1, 10)])
    cap_per_pledge = MoneyField(_l("Cap per pledge (optional)"), validators=[Optional()])
    cap_per_campaign = MoneyField(_l("Cap per campaign (optional)"), validators=[Optional()])
    categories = MultiCheckboxField(_l("Categories (none ticked: all)"),
                                    choices=[(c.value, label) for c, label in CATEGORY_LABELS.items()])
    countries = StringField(_l("Countries, ISO codes separated by commas (empty: all)"), validators=[Length(max=300)])
    regions = StringField(_l("Regions, ISO 3166-2 codes separated by commas (empty: all)"), validators=[Length(max=300)])
    funding_models = MultiCheckboxField(_l("Funding models (none ticked: all)"),
                                        choices=[(m.value, label) for m, label in FUNDING_MODEL_LABELS.items()])
    starts_on = DateField(_l("From"), validators=[DataRequired()])
    ends_on = DateField(_l("Until"), validators=[DataRequired()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency.choices = currency_choices()

    def validate_countries(self, field):
        bad = [c for c in _codes(field.data) if not geo.is_country(c)]
        if bad:
            raise ValidationError(_l("Unknown country codes: %(codes)s", codes=", ".join(bad)))

    def validate_regions(self, field):
        bad = [c for c in _codes(field.data) if not geo.is_region(c)]
        if bad:
            raise ValidationError(_l("Unknown region codes: %(codes)s", codes=", ".join(bad)))

    def validate_ends_on(self, field):
        if self.starts_on.data and field.data and field.data < self.starts_on.data:
            raise ValidationError(_l("The end must come after the start."))

    def codes(self, name: str) -> list[str]:
        return _codes(self[name].data)
