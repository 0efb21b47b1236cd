"""Phone numbers in E.164 (+22997123456): what the SMS channel sends to, parsed from what people type."""
from __future__ import annotations

import re

E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def normalize(text: str | None) -> str | None:
    """"+229 97 12-34-56" or "00229 97123456" -> "+22997123456"; None when empty; ValueError when it is no
    international number."""
    raw = (text or "").strip()
    if not raw:
        return None
    cleaned = re.sub(r"[\s.\-()/]", "", raw)
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    if not E164.match(cleaned):
        raise ValueError(raw)
    return cleaned
