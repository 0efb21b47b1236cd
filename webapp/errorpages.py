"""Error pages: every refusal is a page a person understands, in their language."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from webapp.extensions import db

log = logging.getLogger(__name__)


def _messages() -> dict[int, str]:
    return {
        400: _("Something in that request was not right. Please check and try again."),
        401: _("Please sign in to continue."),
        403: _("You do not have access to this page."),
        404: _("We could not find that page."),
        405: _("That action is not possible here."),
        413: _("That file is too large."),
        429: _("Too many attempts. Please wait a few minutes and try again."),
        500: _("Something went wrong on our side. Nothing you saved was lost; please try again."),
    }


def _render(code: int, detail: str | None = None):
    message = detail or _messages().get(code, _messages()[400])
    if request.accept_mimetypes.best == "application/json":
        return jsonify(error=message), code
    return render_template("errors.html", code=code, message=message), code


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return _render(400, _("This form has expired. Please reload the page and submit it again."))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        detail = exc.description if exc.code == 400 and _is_custom(exc) else None
        if exc.code == 403 and _is_custom(exc):
            detail = exc.description
        return _render(exc.code or 500, detail)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        log.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        return _render(500)


def _is_custom(exc: HTTPException) -> bool:
    return bool(exc.description) and exc.description != type(exc).description


def refused(exc: Exception, code: int = 409):
    """A refused operation (a domain error): nothing it started is saved, and the page says why (409 unless told).

    The views of several domains answer this way; they share it so the page and the rollback stay the same.
    """
    db.session.rollback()
    return render_template("errors.html", code=code, message=str(exc)), code
