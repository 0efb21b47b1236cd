"""Account operations: sign-up, sign-in checks, emailed tokens, profiles. They flush, never commit."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from webapp import geo
from webapp.accounts.models import OriginRegion, Role, User
from webapp.clock import utcnow
from webapp.errors import DomainError, TokenInvalid
from webapp.extensions import db
from webapp.mail import queue_email
from webapp.public_url import public_url

MIN_PASSWORD_LENGTH = 10


class EmailTaken(DomainError):
    pass


class InvalidCredentials(DomainError):
    pass


class AccountSuspended(DomainError):
    pass


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def register_member(email: str, password: str, name: str, locale: str | None = None,
                    role: Role = Role.MEMBER) -> User:
    """A new account; EmailTaken if the address has one (for callers that may say so: commands, not pages)."""
    email = normalize_email(email)
    if find_by_email(email) is not None:
        raise EmailTaken(_("An account already uses this email address. Sign in or reset your password."))
    return _create_member(email, password, name, locale, role)


def sign_up(email: str, password: str, name: str, locale: str | None = None) -> User | None:
    """Sign-up from the public page, which must not tell who has an account: a new address gets an
    account and a confirmation link; a taken one changes nothing and its owner is told by email. Both
    cost one password hash and one email, so neither the answer nor its time tells them apart."""
    owner = find_by_email(email)
    if owner is None:
        return _create_member(normalize_email(email), password, name, locale, Role.MEMBER)
    generate_password_hash(password, method="scrypt")  # the time a new account's hash takes
    queue_email("signup_attempt", owner.email, owner.locale, user=owner,
                sign_in=public_url("accounts.login"), reset=public_url("accounts.forgot_password"))
    return None


def _create_member(email: str, password: str, name: str, locale: str | None, role: Role) -> User:
    user = User(email=email, name=name.strip(), locale=locale, role=role)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    send_verification(user)
    return user


#: checked against when the account does not exist, so both answers take as long (no account probing)
_UNUSABLE_HASH = generate_password_hash("not a password anyone has", method="scrypt")


def authenticate(email: str, password: str) -> User:
    user = find_by_email(email)
    if user is None:
        check_password_hash(_UNUSABLE_HASH, password)
        raise InvalidCredentials(_("That email and password do not match an account."))
    if not user.check_password(password):
        raise InvalidCredentials(_("That email and password do not match an account."))
    if user.suspended_at is not None:
        raise AccountSuspended(_("This account is suspended. Contact the moderators."))
    return user


# -- tokens sent by email -----------------------------------------------------------------------
def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"harambee.{purpose}")


def _password_fingerprint(user: User) -> str:
    # Part of a reset token: once the password changes, every earlier token stops working.
    return user.password_fingerprint


def make_verification_token(user: User) -> str:
    return _serializer("verify").dumps({"uid": user.id, "email": user.email})


def make_reset_token(user: User) -> str:
    return _serializer("reset").dumps({"uid": user.id, "pw": _password_fingerprint(user)})


def _load(purpose: str, token: str, max_age: int) -> dict:
    try:
        return _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired:
        raise TokenInvalid(_("This link has expired. Ask for a new one.")) from None
    except BadSignature:
        raise TokenInvalid(_("This link is not valid.")) from None


def send_verification(user: User) -> None:
    link = public_url("accounts.verify_email", token=make_verification_token(user))
    queue_email("verify_email", user.email, user.locale, user=user, link=link)


def verify_email(token: str) -> User:
    data = _load("verify", token, current_app.config["EMAIL_VERIFY_MAX_AGE"])
    user = db.session.get(User, data.get("uid"))
    if user is None or user.email != data.get("email"):
        raise TokenInvalid(_("This link is not valid."))
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    return user


def request_password_reset(email: str) -> None:
    """Send a reset link if the account exists; say nothing either way to the requester."""
    user = find_by_email(email)
    if user is None:
        return
    link = public_url("accounts.reset_password", token=make_reset_token(user))
    queue_email("reset_password", user.email, user.locale, user=user, link=link,
                minutes=current_app.config["PASSWORD_RESET_MAX_AGE"] // 60)


def user_for_reset_token(token: str) -> User:
    data = _load("reset", token, current_app.config["PASSWORD_RESET_MAX_AGE"])
    user = db.session.get(User, data.get("uid"))
    if user is None or data.get("pw") != _password_fingerprint(user):
        raise TokenInvalid(_("This link has already been used or is not valid. Ask for a new one."))
    return user


def reset_password(token: str, new_password: str) -> User:
    user = user_for_reset_token(token)
    user.set_password(new_password)
    # Following the emailed link proves the address too.
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    return user


# -- profile ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProfileChange:
    name: str
    locale: str | None
    display_currency: str | None
    residence_country: str | None
    residence_region: str | None
    latitude: float | None
    longitude: float | None


def update_profile(user: User, change: ProfileChange) -> None:
    if change.residence_region and not geo.is_region(change.residence_region, change.residence_country):
        raise DomainError(_("Choose a region of the country you live in."))
    user.name = change.name.strip()
    user.locale = change.locale or None
    user.display_currency = change.display_currency or None
    user.residence_country = change.residence_country or None
    user.residence_region = change.residence_region or None
    user.latitude = change.latitude
    user.longitude = change.longitude


MAX_ORIGIN_REGIONS = 10


def add_origin_region(user: User, region_code: str) -> OriginRegion:
    code = (region_code or "").upper()
    if not geo.is_region(code):
        raise DomainError(_("Choose a region from the list."))
    existing = db.session.scalar(
        select(OriginRegion).where(OriginRegion.user_id == user.id, OriginRegion.region_code == code)
    )
    if existing is not None:
        return existing
    count = db.session.scalar(select(func.count()).select_from(OriginRegion).where(OriginRegion.user_id == user.id))
    if count >= MAX_ORIGIN_REGIONS:
        raise DomainError(_("You can list at most %(n)d regions of origin.", n=MAX_ORIGIN_REGIONS))
    origin = OriginRegion(user_id=user.id, region_code=code)
    db.session.add(origin)
    db.session.flush()
    return origin


def remove_origin_region(user: User, region_code: str) -> None:
    db.session.execute(
        delete(OriginRegion).where(OriginRegion.user_id == user.id, OriginRegion.region_code == region_code.upper())
    )


def change_password(user: User, current: str, new: str) -> None:
    if not user.check_password(current):
        raise InvalidCredentials(_("Your current password is not right."))
    user.set_password(new)


def create_admin(email: str, password: str, name: str) -> User:
    user = find_by_email(email)
    if user is None:
        user = User(email=normalize_email(email), name=name, role=Role.ADMIN)
        db.session.add(user)
    user.role = Role.ADMIN
    user.set_password(password)
    user.email_verified_at = user.email_verified_at or utcnow()
    db.session.flush()
    return user


def set_role(user: User, role: Role) -> None:
    user.role = role
