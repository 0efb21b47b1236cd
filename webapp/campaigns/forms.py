"""Forms for writing a campaign, its reward tiers and updates, and for moderating it."""
from __future__ import annotations

from datetime import date

from babel.core import Locale, UnknownLocaleError
from babel.numbers import get_territory_currencies
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import DateField, IntegerField, MonthField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from webapp.campaigns.labels import CATEGORY_LABELS, FUNDING_MODEL_LABELS
from webapp.forms import BaseForm, BoundedIntegerField, CountryField, MoneyField, RegionField, currency_choices


def default_currency(country: str | None) -> str:
    """The currency a new campaign starts in: its organization's country's own, where the platform takes it.

    A cooperative in Benin counts in francs CFA, not in the first currency of the list; a country whose legal tender
    is not supported (or no country) falls back to the first supported currency.
    """
    supported = current_app.config["SUPPORTED_CURRENCIES"]
    if country:
        try:
            local = get_territory_currencies(country.upper(), date.today(), tender=True, non_tender=False)
        except (KeyError, ValueError, UnknownLocaleError):  # a code Babel does not know
            local = []
        for code in local:
            if code in supported:
                return code
    return supported[0]


class CampaignForm(BaseForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    slug = StringField(_l("Web address (optional)"), validators=[Optional(), Length(max=80)])
    summary = StringField(_l("One-line summary"), validators=[DataRequired(), Length(max=200)])
    story_md = TextAreaField(_l("Story"), validators=[Optional(), Length(max=50_000)])
    category = SelectField(_l("Category"), choices=[(c.value, label) for c, label in CATEGORY_LABELS.items()])
    country = CountryField(_l("Country the campaign serves"), validators=[DataRequired()])
    region = RegionField(_l("Region (optional)"), validators=[Optional()])
    currency = SelectField(_l("Currency"), validators=[DataRequired()])
    funding_model = SelectField(_l("Funding model"), choices=[(m.value, label) for m, label in FUNDING_MODEL_LABELS.items()])
    goal = MoneyField(_l("Goal"), validators=[DataRequired()])
    minimum = MoneyField(_l("Minimum (for minimum and optimum)"), validators=[Optional()])
    start_date = DateField(_l("Start date"), validators=[DataRequired()])
    end_date = DateField(_l("End date"), validators=[DataRequired()])
    cover = FileField(_l("Cover image (JPEG, PNG or WebP, at most 5 MB)"))
    language = SelectField(_l("Language it is written in"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency.choices = currency_choices()
        self.language.choices = [(code, Locale.parse(code).get_display_name(code).capitalize())
                                 for code in current_app.config["LANGUAGES"]]

    def validate_goal(self, field):
        if field.money is not None and field.money.amount <= 0:
            raise ValidationError(_l("The goal must be greater than zero."))


class TierForm(BaseForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(_l("What the backer receives"), validators=[Optional(), Length(max=2000)])
    minimum = MoneyField(_l("Minimum pledge"), validators=[DataRequired()], currency_field=None)
    quantity_limit = BoundedIntegerField(_l("How many are available (leave empty for no limit)"),
                                  validators=[Optional(), NumberRange(min=1, max=1_000_000)])
    delivery_month = MonthField(_l("Estimated delivery (month)"), validators=[Optional()])

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.minimum.fixed_currency = currency

    def validate_delivery_month(self, field):
        if field.data and field.data < date.today().replace(day=1):
            raise ValidationError(_l("The delivery month has already passed."))


class UpdateForm(BaseForm):
    # Own ids: the form sits on the campaign's editing page next to the campaign form's own title field.
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)], id="update-title")
    body = TextAreaField(_l("News for your backers"), validators=[DataRequired(), Length(max=20_000)], id="update-body")


class ReviewForm(BaseForm):
    reason = TextAreaField(_l("What should the organizer change?"), validators=[Optional(), Length(max=2000)])


class RevisionDecisionForm(BaseForm):
    reason = TextAreaField(_l("Reason (required to refuse; the organizer reads it)"),
                           validators=[Optional(), Length(max=2000)])
    #: the version of the revision the moderator read: a decision on an older one is refused
    version = BoundedIntegerField(minimum=1, validators=[DataRequired(message=_l("Reload the page: the version is missing."))])


class BudgetLineForm(BaseForm):
    # Own ids: the form sits on the campaign's editing page next to the campaign's own fields.
    title = StringField(_l("What it pays for"), validators=[DataRequired(), Length(max=120)], id="budget-title")
    amount = MoneyField(_l("Amount"), validators=[DataRequired()], currency_field=None, id="budget-amount")
    required = SelectField(_l("Needed for"), choices=[("yes", _l("the minimum")), ("no", _l("the optimum only"))],
                           id="budget-required")

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.amount.fixed_currency = currency

    def validate_amount(self, field):
        if field.money is not None and field.money.amount <= 0:
            raise ValidationError(_l("The amount must be greater than zero."))


class TranslationForm(BaseForm):
    """The campaign's title, summary and story in another language."""
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    summary = StringField(_l("One-line summary"), validators=[DataRequired(), Length(max=200)])
    story_md = TextAreaField(_l("Story"), validators=[Optional(), Length(max=50_000)])
