"""The registry of exporters: each domain contributes a function listing its records about a member.

An exporter takes the member and returns {record kind: rows}, each row a flat dict of plain values
(str, int, bool, None, dates, enums, Money are turned into text by `plain`). A new domain adds a
module here (or, if it sits above privacy, calls `exporter` itself) and its records join both the
JSON document and the ZIP of CSV files without touching anything else.
"""
from __future__ import annotations

from webapp.privacy.registry import _EXPORTERS, Exporter


def registered() -> list[tuple[str, Exporter]]:
    load_builtin()
    return list(_EXPORTERS)


def load_builtin() -> None:
    """Import the exporters of the domains below privacy (each module registers itself on import)."""
    from webapp.privacy.exporters import accounts, campaigns, mutual_aid, organizations, payments  # noqa: F401
    from webapp.privacy.exporters import impact, membership, progress_reports  # noqa: F401
