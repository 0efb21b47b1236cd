"""Form pieces shared by every domain: country and region pickers, optional numbers."""
from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import ValidationError

from webapp import geo
from webapp.i18n import locale_code


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
