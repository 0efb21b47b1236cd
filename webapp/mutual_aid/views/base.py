"""The mutual-aid blueprint and what its routes share: refusing, acting on a button, finding a row or a 404."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template
from flask_babel import gettext as _
from flask_login import current_user

from webapp.errors import DomainError, InvalidTransition, PermissionDenied
from webapp.extensions import db
from webapp.ids import parse_id
from webapp.mutual_aid.errors import ContactHidden, EventNotTakingPosts, MatchRefused, PostingTooFast

blueprint = Blueprint("mutual_aid", __name__, url_prefix="/aid")


@blueprint.app_context_processor
def aid_labels() -> dict:
    from webapp.mutual_aid.labels import labels
    from webapp.mutual_aid.services.moderation import can_moderate

    return {**labels(), "aid_can_moderate": lambda: can_moderate(current_user)}


def status_for(exc: DomainError) -> int:
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, PostingTooFast):
        return 429
    if isinstance(exc, (InvalidTransition, MatchRefused, EventNotTakingPosts, ContactHidden)):
        return 409
    return 400


def refuse(exc: DomainError):
    """Roll back whatever the refused operation started, and say why: nothing is written."""
    db.session.rollback()
    code = status_for(exc)
    message = str(exc)
    if isinstance(exc, InvalidTransition):
        message = _("This is not possible now: it is %(state)s.", state=exc.current)
    return render_template("errors.html", code=code, message=message), code


def act(operation, message, to, category: str = "success"):
    """One unit of work for a button: refused, nothing is written and a 4xx says why; done, it is
    committed, the member is told and sent on. `message` and `to` may depend on the result."""
    try:
        result = operation()
    except DomainError as exc:
        return refuse(exc)
    db.session.commit()
    flash(message(result) if callable(message) else message, category)
    return redirect(to(result) if callable(to) else to)


def get_or_404(model, ident):
    """The row an id names (from the URL, or a form's value in ASCII digits within range), or a 404."""
    ident = ident if isinstance(ident, int) else parse_id(ident)
    found = db.session.get(model, ident) if ident is not None else None
    if found is None:
        abort(404)
    return found

