"""Routes of mutual aid, on one blueprint: public pages, members' pages, the coordinator's and moderation."""
from __future__ import annotations

from webapp.mutual_aid.views import commitments, coordinator, member, moderation, public  # noqa: F401  (routes)
from webapp.mutual_aid.views.base import blueprint

__all__ = ["blueprint"]
