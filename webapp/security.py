"""Requests the app refuses before any view runs, and the security headers of every response."""
from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, g, request
from flask_babel import gettext as _


def refuse_malformed_address() -> None:
    """An address the app never writes is refused plainly (400) before any view reads it:

    - a query string that is not UTF-8: Werkzeug decodes `request.args` leniently, but
      `request.full_path` (every page's language switcher) decodes strictly, a 500 on every page;
      the answer is plain text, as the error page itself shows `request.full_path`;
    - a NUL in the path or the query string: PostgreSQL refuses it in any text parameter (a 500
      wherever a URL value or a filter reaches a query).
    """
    try:
        request.query_string.decode("utf-8")
    except UnicodeDecodeError:
        abort(Response(_("This address is not valid: its query string is not UTF-8 text."), 400,
                       mimetype="text/plain"))
    if "\x00" in request.path or any("\x00" in key or "\x00" in value
                                     for key, value in request.args.items(multi=True)):
        abort(400, _("This address is not valid: it holds a NUL character."))


# -- response headers ----------------------------------------------------------------------------
# Written here rather than with Flask-Talisman: its last release (1.1.0) is from 2023, and what it
# adds beyond these headers (forcing HTTPS, cookie flags) is already settled by the reverse proxy and
# config.py. What Harambee needs is these few lines.

#: URL parameters that are secrets (a reset token, an unguessable reference): such pages send no
#: Referer at all, so the secret never reaches another site or a log
SECRET_URL_PARAMETERS = frozenset({"token", "reference", "session_id", "account_id", "key"})
#: where a form's redirect may lead (Chrome applies form-action to the redirects after a submission):
#: Stripe Checkout and Stripe's onboarding of connected accounts, only when Stripe is the provider
STRIPE_FORM_TARGETS = ("https://checkout.stripe.com", "https://connect.stripe.com")


def csp_nonce() -> str:
    """This response's nonce, for an inline <script nonce="..."> (the templates call csp_nonce())."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def content_security_policy(app: Flask, nonce: str) -> str:
    form_action = ["'self'"]
    if app.config.get("PAYMENT_PROVIDER") == "stripe":
        form_action += STRIPE_FORM_TARGETS
        api = urlsplit(app.config.get("STRIPE_API_BASE") or "")
        if api.netloc and api.netloc != "api.stripe.com":  # a local stand-in serves its checkout pages itself
            form_action.append(f"{api.scheme}://{api.netloc}")
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", f"'nonce-{nonce}'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": form_action,
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def security_headers(response: Response) -> Response:
    app = current_app._get_current_object()
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy(app, csp_nonce()))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors, for browsers that predate it
    secret_url = bool(SECRET_URL_PARAMETERS & set(request.view_args or ()))
    headers["Referrer-Policy"] = "no-referrer" if secret_url else "strict-origin-when-cross-origin"
    if app.config.get("HSTS_MAX_AGE"):
        headers.setdefault("Strict-Transport-Security", f"max-age={app.config['HSTS_MAX_AGE']}; includeSubDomains")
    return response


def register(app: Flask) -> None:
    app.before_request(refuse_malformed_address)
    app.after_request(security_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
