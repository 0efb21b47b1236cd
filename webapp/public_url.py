"""The one public address of the site: every absolute link is built from it, never from a request's Host.

Emails, SMS, the processors' return URLs and Open Graph tags leave the app and are followed later by
someone else; a link built from the request would point wherever the sender's `Host:` header said
(password-reset poisoning). So `url_for(..., _external=True)` itself builds from PUBLIC_URL: the
application class overrides Flask's `url_for`, and code that never heard of this module is safe too.
"""
from __future__ import annotations

from urllib.parse import quote, urljoin, urlsplit

from flask import Flask, current_app
from flask.globals import _cv_request
from werkzeug.routing import BuildError, MapAdapter

#: links on a developer's machine when neither PUBLIC_URL nor SERVER_NAME says otherwise
DEVELOPMENT_URL = "http://127.0.0.1:5000"
#: the characters Flask leaves unquoted in an anchor
_ANCHOR_SAFE = "%!#$&'()*+,/:;=?@"


def public_base_url(app: Flask | None = None) -> str:
    """PUBLIC_URL; unset, SERVER_NAME with PREFERRED_URL_SCHEME (configuration, not the request); else the
    development address. Always ends with "/"."""
    cfg = (app or current_app).config
    base = cfg.get("PUBLIC_URL")
    if not base and cfg.get("SERVER_NAME"):
        base = f"{cfg.get('PREFERRED_URL_SCHEME') or 'http'}://{cfg['SERVER_NAME']}{cfg.get('APPLICATION_ROOT') or ''}"
    base = base or DEVELOPMENT_URL
    return base.rstrip("/") + "/"


def public_url(endpoint: str, **values) -> str:
    """The absolute URL of `endpoint` on the public site (for emails, SMS, return URLs)."""
    return current_app.url_for(endpoint, _external=True, **values)


def absolute_url(url: str) -> str:
    """An address for another site to follow (Open Graph): from PUBLIC_URL, never from the request's Host."""
    return urljoin(public_base_url(), url.lstrip("/")) if url.startswith("/") else url


def public_host(app: Flask) -> str:
    return urlsplit(public_base_url(app)).hostname or ""


def _public_adapter(app: Flask) -> MapAdapter:
    """The URL map bound to the public address, once per address (a fan-out builds two links per message)."""
    base = public_base_url(app)
    kept = app.extensions.get("harambee.public_adapter")
    if kept is None or kept[0] != base:
        parts = urlsplit(base)
        kept = (base, app.url_map.bind(parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme,
                                       subdomain=app.url_map.default_subdomain or ""))
        app.extensions["harambee.public_adapter"] = kept
    return kept[1]


class PublicURLFlask(Flask):
    """Flask whose external URLs always start with the public base URL, whatever the request's host.

    Overriding `url_for` (Flask 2.2+ routes `flask.url_for` and the Jinja global through it) covers every
    caller at once; `url_build_error_handlers` only see failed builds, and a wrapper function would
    leave each `from flask import url_for` unprotected.
    """

    def url_for(self, /, endpoint: str, *, _anchor: str | None = None, _method: str | None = None,
                _scheme: str | None = None, _external: bool | None = None, **values) -> str:
        req_ctx = _cv_request.get(None)
        if _external is None:  # Flask's defaults: relative inside a request unless a scheme is asked for
            _external = _scheme is not None if req_ctx is not None else True
        if not _external and (req_ctx is None or req_ctx.url_adapter is not None):
            return super().url_for(endpoint, _anchor=_anchor, _method=_method, _scheme=_scheme, _external=False,
                                   **values)
        # From here: an external URL, or a path for the error page of a request whose host was refused
        # (it has no URL adapter of its own).
        if req_ctx is not None and endpoint[:1] == ".":
            blueprint_name = req_ctx.request.blueprint
            endpoint = f"{blueprint_name}{endpoint}" if blueprint_name is not None else endpoint[1:]
        self.inject_url_defaults(endpoint, values)
        try:
            rv = _public_adapter(self).build(endpoint, values, method=_method, url_scheme=_scheme,
                                             force_external=_external)
        except BuildError as error:
            values.update(_anchor=_anchor, _method=_method, _scheme=_scheme, _external=_external)
            return self.handle_url_build_error(error, endpoint, values)
        if _anchor is not None:
            rv = f"{rv}#{quote(_anchor, safe=_ANCHOR_SAFE)}"
        return rv


def init_public_url(app: Flask) -> None:
    """Check the public address and trust only its host (plus TRUSTED_HOSTS): another Host gets a 400."""
    from config import public_url_from_environment

    if not app.config.get("PUBLIC_URL") and app.config.get("PUBLIC_URL_REQUIRED"):
        app.config["PUBLIC_URL"] = public_url_from_environment()
        if not app.config["PUBLIC_URL"]:
            raise RuntimeError("PUBLIC_URL must be set to the site's public https:// address")
    extra = app.config.get("TRUSTED_HOSTS") or []
    if isinstance(extra, str):
        extra = [extra]
    app.jinja_env.globals["absolute_url"] = absolute_url  # share tags of campaigns, events and reports
    hosts = [public_host(app)]
    hosts += [host for host in extra if host and host not in hosts]
    app.config["TRUSTED_HOSTS"] = hosts
