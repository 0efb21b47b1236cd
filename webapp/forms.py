"""Form pieces shared by every domain: country and region pickers, typed money, the safe `next` address."""
from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from flask import current_app, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import ValidationError

from webapp import geo
from webapp.errors import InvalidMoney
from webapp.i18n import locale_code
from webapp.money import Money, is_known_currency


class CountryField(SelectField):
    def __init__(self, label=None, validators=None, blank: str | None = None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.blank = blank

    def _localized(self):
        choices = geo.country_choices(locale_code())
        return [("", self.blank)] + choices if self.blank is not None else [("", "—")] + choices

    def iter_choices(self):
        self.choices = self._localized()
        return super().iter_choices()

    def pre_validate(self, form):
        if self.data and not geo.is_country(self.data):
            raise ValidationError(_l("Choose a country from the list."))


class RegionField(SelectField):
    """A region of the country picked in `country_field`; choices follow that country."""

    def __init__(self, label=None, validators=None, country_field: str = "country", **kwargs):
        super().__init__(label, validators, validate_choice=False, **kwargs)
        self.country_field = country_field

    def choices_for(self, country: str | None):
        return [("", "—")] + geo.regions_of(country, locale_code())

    def iter_choices(self):
        country = getattr(self, "_country", None)
        self.choices = self.choices_for(country)
        return super().iter_choices()

    def pre_validate(self, form):
        country = form[self.country_field].data
        self._country = country
        if self.data and not geo.is_region(self.data, country):
            raise ValidationError(_l("Choose a region of the chosen country."))


def strip(value):
    """Phones' autocomplete often adds a space after an email address: it is not part of it."""
    return value.strip() if isinstance(value, str) else value


def drop_nul(value):
    """A NUL character is never meaningful in text, and PostgreSQL refuses to store one."""
    return value.replace("\x00", "") if isinstance(value, str) else value


class BaseForm(FlaskForm):
    """Every form: text loses NUL characters, regions follow the country the form carries."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            options["filters"] = [drop_nul, *unbound_field.kwargs.get("filters", ()), *options.get("filters", ())]
            return unbound_field.bind(form=form, **options)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self:
            if isinstance(field, RegionField):
                field._country = self[field.country_field].data


def currency_choices() -> list[tuple[str, str]]:
    return [(c, c) for c in current_app.config["SUPPORTED_CURRENCIES"]]


class MoneyField(StringField):
    """Text a person types ("25 000", "12,50"), parsed for the currency named by another field."""

    def __init__(self, label=None, validators=None, currency_field: str | None = "currency",
                 currency: str | None = None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.currency_field, self.fixed_currency = currency_field, currency
        self.money: Money | None = None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.data.input_value() if isinstance(self.data, Money) else (self.data or "")

    def process_formdata(self, valuelist):
        self.raw_data = valuelist
        self.data = valuelist[0] if valuelist else ""

    def currency(self, form) -> str:
        return self.fixed_currency or form[self.currency_field].data

    def pre_validate(self, form):
        self.money = None
        if isinstance(self.data, Money):
            self.money = self.data
            return
        if not (self.data or "").strip():
            return
        currency = self.currency(form)
        if not is_known_currency(currency or ""):
            raise ValidationError(_l("Choose the currency first."))
        try:
            self.money = Money.parse(self.data, currency, locale_code())
        except InvalidMoney as exc:
            raise ValidationError(str(exc)) from None


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: no scheme, no other host, no protocol-relative //host."""
    if not target:
        return None
    target = target.strip().replace("\\", "/")
    parts = urlsplit(urljoin(request.host_url, target))
    host = urlsplit(request.host_url)
    if parts.scheme not in ("http", "https") or parts.netloc != host.netloc or not target.startswith("/") \
            or target.startswith("//"):
        return None
    return target
