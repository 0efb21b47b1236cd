"""Readable, unique slugs for public addresses."""
from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select

from webapp.extensions import db

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def slugify(text: str, max_length: int = 60) -> str:
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].strip("-") or "item"


def unique_slug(model, text: str) -> str:
    """A slug free in `model`'s table, suffixed -2, -3, ... when taken."""
    base = slugify(text)
    taken = set(db.session.scalars(select(model.slug).where(model.slug.like(f"{base}%"))))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
