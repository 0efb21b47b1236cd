"""Forms for signing up, signing in, recovering a password and editing a profile."""
from __future__ import annotations

import re

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, FloatField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, NumberRange, Optional, ValidationError

from webapp.accounts.services import MIN_PASSWORD_LENGTH
from webapp.forms import BaseForm, CountryField, RegionField, currency_choices, strip
from webapp.i18n import language_choices


def _password(label):
    return PasswordField(label, validators=[
        DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200,
                               message=_l("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))])


#: something@somewhere, with no space and one @: the shape of any address an account can have
_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+")


def address_of_an_account(form, field) -> None:
    """An address to look an account up by: one @ between two parts, whatever the domain.

    Signing in and recovering a password share it, so that both take every address an account can have — the demo
    accounts' harambee.test, an erased account's deleted.invalid placeholder (which must still answer "no such
    account") — where WTForms' Email() refuses those special-use domains; and both refuse "awa@" alike. Nothing is
    sent to an address that matches no account, so no deliverability check is needed.
    """
    if not _ADDRESS.fullmatch(field.data or ""):
        raise ValidationError(_l("Invalid email address."))


def _lookup_email():
    return EmailField(_l("Email"), filters=[strip],
                      validators=[DataRequired(), Length(max=254), address_of_an_account])


class SignupForm(BaseForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("Email"), filters=[strip], validators=[DataRequired(), Email(), Length(max=254)])
    password = _password(_l("Password"))
    confirm = PasswordField(_l("Repeat the password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))])


class LoginForm(BaseForm):
    email = _lookup_email()
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Keep me signed in on this device"))
    next = HiddenField()


class ForgotPasswordForm(BaseForm):
    email = _lookup_email()


class ResetPasswordForm(BaseForm):
    password = _password(_l("New password"))
    confirm = PasswordField(_l("Repeat the password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))])


class ChangePasswordForm(BaseForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)])
    password = _password(_l("New password"))


class ProfileForm(BaseForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    locale = SelectField(_l("Language"), validate_choice=True)
    display_currency = SelectField(_l("Show amounts also in"))
    residence_country = CountryField(_l("Country where you live"), validators=[Optional()])
    residence_region = RegionField(_l("Region where you live"), validators=[Optional()],
                                   country_field="residence_country")
    latitude = FloatField(_l("Latitude (optional)"), validators=[Optional(), NumberRange(-90, 90)])
    longitude = FloatField(_l("Longitude (optional)"), validators=[Optional(), NumberRange(-180, 180)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.locale.choices = [("", _l("Same as my browser"))] + [
            (code, name) for code, name, _direction in language_choices(current_app.config["LANGUAGES"])]
        self.display_currency.choices = [("", _l("My language's usual currency"))] + currency_choices()

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if (self.latitude.data is None) != (self.longitude.data is None):
            self.longitude.errors = [*self.longitude.errors, _l("Give both latitude and longitude, or neither.")]
            ok = False
        return ok


class OriginRegionForm(BaseForm):
    country = CountryField(_l("Country"), validators=[DataRequired()])
    region = RegionField(_l("Region"), validators=[DataRequired()], country_field="country")
