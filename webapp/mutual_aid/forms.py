"""Forms for disaster events, offers, requests, reports, channels and standing commitments."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    FloatField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from webapp import geo
from webapp.forms import BaseForm, BoundedIntegerField, CountryField, MoneyField, RegionField, coerce_id, currency_choices
from webapp.i18n import locale_code
from webapp.mutual_aid.labels import CATEGORY_LABELS, EVENT_KIND_LABELS, SEVERITY_LABELS, URGENCY_LABELS
from webapp.mutual_aid.services.events import MAX_RADIUS_KM, MIN_RADIUS_KM


class RegionsField(SelectMultipleField):
    """Regions of the country chosen in `country_field`; codes of other countries go in a text field."""

    def __init__(self, label=None, validators=None, country_field: str = "country", **kwargs):
        super().__init__(label, validators, validate_choice=False, **kwargs)
        self.country_field = country_field

    def iter_choices(self):
        self.choices = geo.regions_of(getattr(self, "_country", None), locale_code())
        return super().iter_choices()


class EventForm(BaseForm):
    name = StringField(_l("Name of the event"), validators=[DataRequired(), Length(max=120)])
    kind = SelectField(_l("Type"), choices=[(k.value, label) for k, label in EVENT_KIND_LABELS.items()])
    severity = SelectField(_l("Severity"), choices=[(s.value, label) for s, label in SEVERITY_LABELS.items()])
    starts_on = DateField(_l("Start date"), validators=[DataRequired()])
    relief_organization_id = SelectField(_l("Relief organization (receives the emergency fund)"), coerce=coerce_id,
                                         validate_choice=False)
    public_message = TextAreaField(_l("Public message (opens every call)"),
                                   validators=[DataRequired(), Length(max=500)])
    country = CountryField(_l("Country of the affected regions"), validators=[Optional()])
    regions = RegionsField(_l("Affected regions"))
    other_regions = StringField(_l("Other regions (ISO 3166-2 codes, comma-separated, e.g. TG-M)"),
                                validators=[Optional(), Length(max=500)])
    centre_latitude = FloatField(_l("Centre latitude (optional)"), validators=[Optional()])
    centre_longitude = FloatField(_l("Centre longitude (optional)"), validators=[Optional()])
    radius_km = FloatField(_l("Radius in km around the centre (optional, 1 to 1,000)"), validators=[
        Optional(), NumberRange(MIN_RADIUS_KM, MAX_RADIUS_KM,
                                message=_l("The radius must be at least %(min)s km and at most %(max)s km."))])
    fund_currency = SelectField(_l("Currency of the emergency fund"), validators=[DataRequired()])
    fund_goal = MoneyField(_l("Goal of the emergency fund"), validators=[DataRequired()],
                           currency_field="fund_currency")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fund_currency.choices = currency_choices()
        self.regions._country = self.country.data

    def region_codes(self) -> tuple[str, ...]:
        others = [code.strip() for code in (self.other_regions.data or "").replace(";", ",").split(",")]
        return tuple(list(self.regions.data or []) + [code for code in others if code])


class ActivateForm(BaseForm):
    confirm = BooleanField(_l("I confirm: open the emergency fund and send the solidarity calls now."),
                           validators=[InputRequired(message=_l("Tick the box to confirm the activation."))])


class PlaceFields:
    """Where: a region, and optionally a point (only its grid cell is ever public)."""

    country = CountryField(_l("Country"), validators=[Optional()])
    region = RegionField(_l("Region"), validators=[Optional()])
    latitude = FloatField(_l("Latitude (optional)"), validators=[Optional(), NumberRange(-90, 90)])
    longitude = FloatField(_l("Longitude (optional)"), validators=[Optional(), NumberRange(-180, 180)])


class OfferForm(PlaceFields, BaseForm):
    category = SelectField(_l("What you offer"), choices=[(c.value, label) for c, label in CATEGORY_LABELS.items()])
    title = StringField(_l("In a few words"), validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(_l("Details"), validators=[Optional(), Length(max=2000)])
    capacity = BoundedIntegerField(_l("Capacity (people for lodging and transport, units otherwise)"), default=1,
                            validators=[InputRequired(), NumberRange(1, 1000)])
    remote = BooleanField(_l("I can help from afar (translation, calling relatives...)"))
    available_from = DateField(_l("Available from (optional)"), validators=[Optional()])
    available_until = DateField(_l("Available until (optional)"), validators=[Optional()])
    contact_phone = StringField(_l("Phone (shown only to the person you are matched with)"),
                                validators=[Optional(), Length(max=40)])
    contact_note = StringField(_l("How to find you (shown only once matched)"),
                               validators=[Optional(), Length(max=500)])


class RequestForm(PlaceFields, BaseForm):
    category = SelectField(_l("What you need"), choices=[(c.value, label) for c, label in CATEGORY_LABELS.items()])
    urgency = SelectField(_l("How urgent"), choices=[(u.value, label) for u, label in URGENCY_LABELS.items()])
    household_size = BoundedIntegerField(_l("People in your household"), default=1,
                                  validators=[InputRequired(), NumberRange(1, 100)])
    description = TextAreaField(_l("What would help (do not write your address here)"),
                                validators=[Optional(), Length(max=2000)])
    address = StringField(_l("Address (shown only to the helper you both accept)"),
                          validators=[Optional(), Length(max=300)])
    contact_phone = StringField(_l("Phone (shown only to the helper you both accept)"),
                                validators=[Optional(), Length(max=40)])


class ReportForm(BaseForm):
    reason = TextAreaField(_l("What is wrong with this post?"), validators=[DataRequired(), Length(max=500)])


class PreferencesForm(BaseForm):
    email = BooleanField(_l("Send me solidarity calls by email"))
    sms = BooleanField(_l("Send me solidarity calls by SMS"))
    sms_number = StringField(_l("Mobile number, international form (+229...)"), validators=[Optional(),
                                                                                           Length(max=30)])


class CommitmentForm(BaseForm):
    country = CountryField(_l("Country"), validators=[DataRequired()])
    region = RegionField(_l("When a disaster is declared in this region"), validators=[DataRequired()])
    currency = SelectField(_l("Currency"), validators=[DataRequired()])
    max_amount = MoneyField(_l("Call me for up to"), validators=[DataRequired()])
    yearly_cap = MoneyField(_l("And never more than this in a calendar year"), validators=[DataRequired()])
    accept_terms = BooleanField(_l("I understand: nothing is charged until I confirm, event by event."),
                                validators=[InputRequired(message=_l("Tick the box to agree to the terms."))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency.choices = currency_choices()
