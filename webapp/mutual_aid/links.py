"""Absolute links for messages, from a request, from SERVER_NAME, or from MUTUAL_AID_PUBLIC_URL in a worker."""
from __future__ import annotations

from flask import current_app, has_request_context, url_for

from webapp.mutual_aid.settings import setting


def external_url(endpoint: str, **values) -> str:
    if has_request_context() or current_app.config.get("SERVER_NAME"):
        return url_for(endpoint, _external=True, **values)
    with current_app.test_request_context(base_url=str(setting("MUTUAL_AID_PUBLIC_URL"))):
        return url_for(endpoint, _external=True, **values)
