"""Form pieces shared by every domain: country and region pickers, typed money, the safe `next` address."""
from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from flask import abort, current_app, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import ValidationError

from webapp import geo
from webapp.errors import InvalidMoney
from webapp.i18n import local_input_value, locale_code
from webapp.ids import INT32_MAX, INT32_MIN, MAX_ID, parse_id, parse_int
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

        def wrap_formdata(self, form, formdata):
            refuse_json_that_is_no_form(formdata)
            return FlaskForm.Meta.wrap_formdata(self, form, formdata)

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
        if not isinstance(self.data, Money):
            return self.data or ""
        return local_input_value(self.data)

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


# -- bounded whole numbers and ids (issue 9): ASCII digits, within the column's range ------------
class BoundedIntegerField(IntegerField):
    """WTForms' IntegerField reads with int(), which takes ٣ for 3, '1_000' for 1000 and 10**30 as
    is (an overflow in the database driver): this one reads ASCII digits within [minimum, maximum],
    an Integer column's range unless told otherwise."""

    def __init__(self, label=None, validators=None, minimum: int = INT32_MIN, maximum: int = INT32_MAX, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.minimum, self.maximum = minimum, maximum

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.data = parse_int(valuelist[0], self.minimum, self.maximum)
        if self.data is None:  # as IntegerField: an empty value too (Optional() clears it)
            raise ValueError(_l("Enter a whole number, in digits 0 to 9."))


class IdField(BoundedIntegerField):
    """A row's id carried by a form (a hidden input, a select's value): 1..MAX_ID, ASCII digits."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, minimum=1, maximum=MAX_ID, **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.data = parse_id(valuelist[0])
        if self.data is None:
            raise ValueError(_l("Enter a whole number, in digits 0 to 9."))


def coerce_id(value) -> int:
    """`SelectField(coerce=coerce_id)` for a select of rows: int() would take ٣ and 2**63 (an overflow
    when the id reaches the database); a ValueError is WTForms' 'not a valid choice'."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    number = parse_id(value)
    if number is None:
        raise ValueError("not an id")
    return number


def refuse_json_that_is_no_form(formdata) -> None:
    """Flask-WTF reads a JSON body as the form's data; anything but an object of strings (or lists of
    strings) would reach the fields as ints, dicts or a list, and crash them: a 400 instead."""
    if formdata is not _Auto or request.form or request.files or not request.is_json:
        return
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not all(
            isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v)) for v in data.values()):
        abort(400)
