"""Serves uploaded files from local storage (an object store would serve its own URLs)."""
from __future__ import annotations

import mimetypes

from flask import Blueprint, Response, abort

from webapp.storage import get_storage
from webapp.storage.documents import PRIVATE_PREFIX

blueprint = Blueprint("storage", __name__)


@blueprint.route("/uploads/<path:key>")
def upload(key: str):
    if key.startswith(PRIVATE_PREFIX) or "/private/" in key or key.startswith("./"):
        abort(404)  # receipts and proofs are served only through the expense pages, to who may read them
    try:
        data = get_storage().read(key)
    except (OSError, ValueError):  # missing, a directory, a name too long for the filesystem, a NUL
        abort(404)
    mime = mimetypes.guess_type(key)[0] or "application/octet-stream"
    response = Response(data, mimetype=mime)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
