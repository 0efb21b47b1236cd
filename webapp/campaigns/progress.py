"""Where campaign progress comes from: one aggregate over the money records, never a counter.

The campaigns domain sits below payments, so it cannot read pledges itself. It asks a
`PledgeReader` for an aggregate subquery; the payments package installs the real one. Until a
reader is installed (the campaigns domain alone, as in its own tests) the subquery has no rows and
every campaign shows nothing raised.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from flask import current_app
from sqlalchemy import BigInteger, Integer, Select, cast, false, literal, null, select
from sqlalchemy.sql import Subquery

from webapp.money import Money

_EXTENSION_KEY = "harambee.pledge_reader"


class PledgeReader(Protocol):
    def totals_subquery(self, campaign_ids=None) -> Subquery:
        """Columns campaign_id, raised (minor units), backers: one row per campaign with money.

        `campaign_ids` (a list or a SELECT of ids) bounds the sum to the campaigns a page shows."""

    def chosen_tier_ids(self, campaign_id: int) -> set[int]:
        """Tiers of the campaign that at least one pledge holds or has taken."""

    def totals_and_latest(self, campaign_id: int, limit: int) -> tuple[int, int, list]:
        """(raised, backers, the latest `limit` supporters) of one campaign, in one statement."""


class NoPledges:
    def totals_subquery(self, campaign_ids=None) -> Subquery:
        empty: Select = select(
            cast(null(), Integer).label("campaign_id"),
            cast(literal(0), BigInteger).label("raised"),
            cast(literal(0), Integer).label("backers"),
        ).where(false())
        return empty.subquery("campaign_totals")

    def chosen_tier_ids(self, campaign_id: int) -> set[int]:
        return set()

    def totals_and_latest(self, campaign_id: int, limit: int) -> tuple[int, int, list]:
        return 0, 0, []


def install_reader(app, reader: PledgeReader) -> None:
    app.extensions[_EXTENSION_KEY] = reader


def reader() -> PledgeReader:
    return current_app.extensions.get(_EXTENSION_KEY) or NoPledges()


@dataclass(frozen=True)
class Progress:
    raised: Money
    goal: Money
    threshold: Money
    backers: int

    @property
    def percent(self) -> int:
        return self.raised.percent_of(self.goal)

    @property
    def bar_percent(self) -> int:
        return min(100, self.percent)

    @property
    def reached(self) -> bool:
        return self.raised >= self.threshold
