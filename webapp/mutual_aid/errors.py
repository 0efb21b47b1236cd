"""Refusals of the mutual-aid rules; each message is safe to show and says what to do."""
from __future__ import annotations

from webapp.errors import DomainError


class InvalidEvent(DomainError):
    """An event's details break a rule; `problems` maps each form field to its message."""

    def __init__(self, problems: dict[str, str]):
        self.problems = problems
        super().__init__("; ".join(problems.values()))


class EventNotTakingPosts(DomainError):
    """Offers and requests go to active events (or events in recovery) only."""


class PostingTooFast(DomainError):
    """Too many posts or reports in the last hour."""


class MatchRefused(DomainError):
    """The proposal, acceptance or move asked for is not possible for this match."""


class ContactHidden(DomainError):
    """Contact details and exact locations stay hidden until both sides accepted."""


class CommitmentRefused(DomainError):
    pass
