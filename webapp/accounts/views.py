"""Routes for signing up and in, email verification, password recovery and the member's profile."""
from __future__ import annotations


from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import event
from sqlalchemy.orm import Session

from webapp import geo
from webapp.accounts import devices, services, sessions
from webapp.accounts.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    OriginRegionForm,
    ProfileForm,
    ResetPasswordForm,
    SignupForm,
)
from webapp.accounts.models import User, UserSession
from webapp.errors import DomainError, TokenInvalid
from webapp.extensions import db, limiter, login_manager
from webapp.forms import safe_next
from webapp.i18n import locale_code

blueprint = Blueprint("accounts", __name__, url_prefix="/account")

#: session.info key: something was flushed since the last commit or rollback
_WROTE = "harambee_wrote"


@event.listens_for(Session, "after_flush")
def _note_write(db_session, _context):
    db_session.info[_WROTE] = True


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_write(db_session):
    db_session.info.pop(_WROTE, None)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The session's user, only while its server-side record is open and its password unchanged."""
    found = sessions.load(session_id)
    if found is None:
        return None
    user, record = found
    if sessions.needs_touch(record):
        g.touch_user_session = record.id
    return user


@blueprint.after_app_request
def touch_user_session(response):
    """Write a session's last-seen time (every few minutes), in a transaction of its own: only when the
    request left nothing unsaved, so that this commit can never save half of a refused unit of work."""
    record_id = g.pop("touch_user_session", None)
    if record_id is not None and response.status_code < 500 and not _unit_of_work_open():
        sessions.touch(record_id)
        db.session.commit()
    return response


def _unit_of_work_open() -> bool:
    s = db.session
    return bool(s.new or s.dirty or s.deleted or s.info.get(_WROTE) or s.info.get("harambee_outbox"))


def _sign_in(user: User, remember: bool = False) -> None:
    sessions.open_session(user, request.headers.get("User-Agent"))
    login_user(user, remember=remember)


def _login_email() -> str:
    return services.normalize_email(request.form.get("email", ""))


def _account_key() -> str:
    return "login-account:" + _login_email()


def _device_nonce() -> str | None:
    return devices.for_login_request(_login_email(), services.find_by_email)


def _device_key() -> str:
    return "login-device:" + (_device_nonce() or "")


def _trusted_device() -> bool:
    return _device_nonce() is not None


def _untrusted_device() -> bool:
    return _device_nonce() is None


def _failed_login(response) -> bool:
    return response.status_code == 401


@blueprint.route("/signup", methods=["GET", "POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("campaigns.home"))
    form = SignupForm()
    if form.validate_on_submit():
        # The same answer whether the address is new or taken (the owner of a taken one gets an email):
        # signing up does not sign in, or the cookie would tell the two apart.
        services.sign_up(form.email.data, form.password.data, form.name.data, locale=locale_code())
        db.session.commit()
        flash(_("Welcome to Harambee! Check your email: we sent a message to %(email)s. "
                "You can sign in below.", email=services.normalize_email(form.email.data)), "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/signup.html", form=form), 400 if form.errors else 200


@blueprint.route("/login", methods=["GET", "POST"])
# A browser with this account's device cookie: only its own failures count (webapp.accounts.devices).
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_DEVICE"], methods=["POST"], key_func=_device_key,
               exempt_when=_untrusted_device, deduct_when=_failed_login)
# Unknown browsers: a limit per address, and one per account that they share.
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"],
               exempt_when=_trusted_device, deduct_when=_failed_login)
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], methods=["POST"], key_func=_account_key,
               exempt_when=_trusted_device, deduct_when=_failed_login)
def login():
    form = LoginForm(next=request.args.get("next"))
    status = 200
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except DomainError as exc:
            form.password.errors.append(str(exc))
            status = 401
        else:
            _sign_in(user, remember=form.remember.data)
            db.session.commit()
            response = redirect(safe_next(form.next.data) or url_for("campaigns.home"))
            devices.issue(response, user)  # this browser now knows the account
            return response
    elif form.errors:
        status = 400
    return render_template("accounts/login.html", form=form), status


@blueprint.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        sessions.end(current_user)
        db.session.commit()
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("campaigns.home"))


@blueprint.route("/verify/<token>")
def verify_email(token: str):
    try:
        services.verify_email(token)
    except TokenInvalid as exc:
        return render_template("accounts/token_problem.html", message=str(exc)), 400
    db.session.commit()
    flash(_("Thank you: your email address is confirmed."), "success")
    return redirect(url_for("accounts.profile") if current_user.is_authenticated else url_for("accounts.login"))


@blueprint.route("/verify", methods=["POST"])
@login_required
@limiter.limit("3 per hour")
def resend_verification():
    if not current_user.is_verified:
        services.send_verification(current_user)
        db.session.commit()
    flash(_("We sent a new confirmation link to %(email)s.", email=current_user.email), "info")
    return redirect(url_for("accounts.profile"))


@blueprint.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.commit()
        flash(_("If an account uses that address, a link to choose a new password is on its way."), "info")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot.html", form=form), 400 if form.errors else 200


@blueprint.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    try:
        services.user_for_reset_token(token)
    except TokenInvalid as exc:
        return render_template("accounts/token_problem.html", message=str(exc)), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        user = services.reset_password(token, form.password.data)
        sessions.end_all(user)  # whoever knew the old password is signed out everywhere
        _sign_in(user)
        db.session.commit()
        flash(_("Your new password is saved."), "success")
        response = redirect(url_for("campaigns.home"))
        devices.issue(response, user)  # the emailed link proved the owner: this browser is theirs
        return response
    return render_template("accounts/reset.html", form=form), 400 if form.errors else 200


@blueprint.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        change = services.ProfileChange(
            name=form.name.data, locale=form.locale.data, display_currency=form.display_currency.data,
            residence_country=form.residence_country.data, residence_region=form.residence_region.data,
            latitude=form.latitude.data, longitude=form.longitude.data)
        try:
            services.update_profile(current_user, change)
        except DomainError as exc:
            form.residence_region.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("accounts.profile"))
    return _profile_page(form=form), 400 if form.errors else 200


def _profile_page(form=None, origin_form=None, password_form=None) -> str:
    user = current_user._get_current_object()
    return render_template("accounts/profile.html", form=form or ProfileForm(obj=user),
                           origin_form=origin_form or OriginRegionForm(),
                           password_form=password_form or ChangePasswordForm(),
                           user_sessions=[(record, sessions.is_current(user, record))
                                          for record in sessions.active_sessions(user)])


@blueprint.route("/sessions/<int:session_id>/end", methods=["POST"])
@login_required
def end_session(session_id: int):
    """Sign out one of the member's devices (this one included)."""
    user = current_user._get_current_object()
    was_current = sessions.is_current(user, _record_or_404(session_id))
    sessions.end_one(user, session_id)
    db.session.commit()
    if was_current:
        logout_user()
        flash(_("You are signed out."), "info")
        return redirect(url_for("accounts.login"))
    flash(_("That device is signed out."), "info")
    return redirect(url_for("accounts.profile"))


def _record_or_404(session_id: int):
    record = db.session.get(UserSession, session_id)
    if record is None or record.user_id != current_user.id:
        abort(404)  # another member's session: as if it did not exist
    return record


@blueprint.route("/sessions/end-all", methods=["POST"])
@login_required
def sign_out_everywhere():
    """End every session of the member, on every device, this one included."""
    sessions.end_all(current_user._get_current_object())
    db.session.commit()
    logout_user()
    flash(_("You are signed out on every device."), "info")
    return redirect(url_for("accounts.login"))


@blueprint.route("/origins", methods=["POST"])
@login_required
def add_origin():
    form = OriginRegionForm()
    if form.validate_on_submit():
        try:
            services.add_origin_region(current_user, form.region.data)
        except DomainError as exc:
            flash(str(exc), "error")
            return redirect(url_for("accounts.profile")), 303
        db.session.commit()
        flash(_("Region of origin added."), "success")
        return redirect(url_for("accounts.profile"))
    return _profile_page(origin_form=form), 400


@blueprint.route("/origins/<code>/remove", methods=["POST"])
@login_required
def remove_origin(code: str):
    services.remove_origin_region(current_user, code)
    db.session.commit()
    flash(_("Region of origin removed."), "info")
    return redirect(url_for("accounts.profile"))


@blueprint.route("/password", methods=["POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current.data, form.password.data)
        except DomainError as exc:
            form.current.errors.append(str(exc))
        else:
            user = current_user._get_current_object()
            sessions.end_all(user, keep_current=True)
            db.session.commit()
            login_user(user)  # the same session record, with the new password: this session goes on
            flash(_("Your new password is saved."), "success")
            return redirect(url_for("accounts.profile"))
    return _profile_page(password_form=form), 400


@blueprint.route("/language", methods=["POST"])
def choose_language():
    lang = request.form.get("lang", "")
    if lang not in current_app.config["LANGUAGES"]:
        abort(400, _("We do not have that language yet."))
    if current_user.is_authenticated:
        current_user.locale = lang
        db.session.commit()
    session["lang"] = lang
    return redirect(safe_next(request.form.get("next")) or url_for("campaigns.home"))


@blueprint.route("/regions")
def region_options():
    """The <option>s of a country's regions, for the region picker that follows the country."""
    country = request.args.get("country", "")
    if country and not geo.is_country(country):
        abort(400, _("Choose a country from the list."))
    return render_template("_region_options.html", regions=geo.regions_of(country, locale_code()),
                           selected=request.args.get("selected", ""))
