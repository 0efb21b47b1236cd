"""Absolute links for messages, always from the public address (PUBLIC_URL), in a request or in a worker."""
from __future__ import annotations

from webapp.public_url import public_url


def external_url(endpoint: str, **values) -> str:
    return public_url(endpoint, **values)
