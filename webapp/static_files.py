"""Fingerprinted static files: `url_for('static', filename='site.css')` -> /static/site.css?v=<digest>.

The digest is the file's content (SHA-256, 12 hex digits), so a changed file gets a new address and a
browser may keep each address for a year (`Cache-Control: public, max-age=31536000, immutable`). An
address without `v`, or with an old `v`, is still served, with Flask's usual revalidation. Digests are
kept per file and modification time, looked at again every RECHECK_SECONDS, so `make run` picks up an edited
file within two seconds, without a restart.
"""
from __future__ import annotations

import hashlib
import os
import time
from functools import lru_cache

from flask import Flask, Response, current_app, redirect, request, url_for


@lru_cache(maxsize=512)
def _digest(path: str, mtime_ns: int, size: int) -> str:  # noqa: ARG001 - mtime and size key the cache
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()[:12]


#: (static folder, filename) -> (checked at, digest): a page names the same few files on every request, and
#: resolving and stat-ing each costs more than the rest of url_for; looked at again after RECHECK_SECONDS
_recent: dict[tuple[str, str], tuple[float, str | None]] = {}
RECHECK_SECONDS = 2.0


def digest_of(filename: str) -> str | None:
    static = current_app.static_folder
    if not static:
        return None
    now = time.monotonic()
    seen = _recent.get((static, filename))
    if seen is not None and now - seen[0] < RECHECK_SECONDS:
        return seen[1]
    digest = _digest_now(static, filename)
    if len(_recent) > 512:
        _recent.clear()
    _recent[(static, filename)] = (now, digest)
    return digest


def _digest_now(static: str, filename: str) -> str | None:
    path = os.path.realpath(os.path.join(static, filename))
    if not path.startswith(os.path.realpath(static) + os.sep):
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return _digest(path, stat.st_mtime_ns, stat.st_size)


def _fingerprint(endpoint: str, values: dict) -> None:
    if endpoint == "static" and "filename" in values and "v" not in values:
        digest = digest_of(values["filename"])
        if digest:
            values["v"] = digest


def _long_max_age(response: Response) -> Response:
    if request.endpoint == "static" and response.status_code in (200, 304) and request.args.get("v"):
        if request.args["v"] == digest_of(request.view_args.get("filename", "")):
            response.headers["Cache-Control"] = \
                f"public, max-age={current_app.config['STATIC_IMMUTABLE_MAX_AGE']}, immutable"
    return response


def favicon():
    """/favicon.ico, which browsers ask for by themselves where a page names no icon (a CSV, an image, a JSON
    answer opened in a tab): the site's icon rather than a 404 in the console."""
    return redirect(url_for("static", filename="favicon.png"), code=301)


def init_app(app: Flask) -> None:
    app.url_defaults(_fingerprint)
    app.after_request(_long_max_age)
    app.add_url_rule("/favicon.ico", "favicon", favicon)
