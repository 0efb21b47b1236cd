"""Routes of "your data": the overview, the downloads, and deleting one's account."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, stream_with_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, logout_user

from webapp.clock import utcnow
from webapp.errors import DomainError
from webapp.extensions import db, limiter
from webapp.privacy.forms import DeleteAccountForm
from webapp.privacy.services import erasure, export
from webapp.privacy.settings import setting

blueprint = Blueprint("privacy", __name__, url_prefix="/account/data")


def _member_key() -> str:
    # Limits are checked before login_required answers: a visitor counts by address, not in a shared bucket.
    if current_user.is_authenticated:
        return f"privacy-member:{current_user.id}"
    return f"privacy-visitor:{get_remote_address()}"


def _export_limit() -> str:
    return f"{setting('PRIVACY_EXPORTS_PER_HOUR')} per hour"


#: what each retention period applies to, as the "your data" page says it
PERIOD_LABELS = {
    "PRIVACY_UNVERIFIED_ACCOUNT_DAYS": _l("An account whose email address was never confirmed (and that holds "
                                          "no pledge, organization or post)"),
    "PRIVACY_EXPIRED_INVITATION_DAYS": _l("An invitation to an organization that was never accepted"),
    "PRIVACY_CLOSED_REQUEST_CONTACT_DAYS": _l("The address, phone number and exact point of a help request once "
                                              "it is fulfilled or withdrawn"),
    "PRIVACY_DELIVERED_CALL_DAYS": _l("Solidarity calls received on the site, and delivery errors"),
    "PRIVACY_READ_NOTICE_DAYS": _l("Notifications you have read"),
    "PRIVACY_LOGIN_RECORD_DAYS": _l("Records of your sign-ins"),
    "PRIVACY_DELETED_ACCOUNT_DAYS": _l("What remains of a deleted account (an empty placeholder its pledges "
                                       "point to)"),
}


def retention_periods() -> list[tuple[str, int]]:
    return [(str(label), setting(key)) for key, label in PERIOD_LABELS.items()]


@blueprint.route("/")
@login_required
def index():
    return render_template("privacy/index.html", periods=retention_periods())


def _download(chunks, mimetype: str, extension: str) -> Response:
    filename = f"harambee-my-data-{utcnow().date().isoformat()}.{extension}"
    response = Response(stream_with_context(chunks), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


#: the JSON and the ZIP share one allowance
_exports_limit = limiter.shared_limit(_export_limit, scope="privacy-export", key_func=_member_key)


@blueprint.route("/export.json")
@login_required
@_exports_limit
def export_json():
    data = export.gather(current_user)
    return _download((chunk.encode() for chunk in export.json_chunks(data)), "application/json", "json")


@blueprint.route("/export.zip")
@login_required
@_exports_limit
def export_csv():
    data = export.gather(current_user)
    return _download(export.zip_chunks(data), "application/zip", "zip")


@blueprint.route("/delete", methods=["GET", "POST"])
@login_required
@limiter.limit("5 per 15 minutes", methods=["POST"], key_func=_member_key)
def delete_account():
    form = DeleteAccountForm()
    blocking = erasure.organizations_left_without_owner(current_user)
    status = 200
    if form.validate_on_submit():
        try:
            erasure.delete_account(current_user, form.password.data)
        except erasure.WrongPassword as exc:
            db.session.rollback()
            form.password.errors.append(str(exc))
            status = 400
        except DomainError as exc:  # the last owner of an organization; an account already erased
            db.session.rollback()
            return render_template("privacy/delete.html", form=form,
                                   blocking=getattr(exc, "organizations", []), refusal=str(exc)), 409
        else:
            db.session.commit()
            logout_user()
            flash(_("Your account is deleted. We sent a last confirmation to your address. Goodbye, and thank "
                    "you."), "success")
            return redirect(url_for("campaigns.home"))
    elif form.errors:
        status = 400
    return render_template("privacy/delete.html", form=form, blocking=blocking, refusal=None), status
