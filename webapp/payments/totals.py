"""The read model of pledges for campaign pages: totals, chosen tiers, latest supporters."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, literal, select, true, union_all
from sqlalchemy.orm import aliased

from webapp.campaigns.models import Campaign, CampaignStatus
from webapp.extensions import db
from webapp.payments.matching.models import Match
from webapp.payments.models import CONFIRMED_STATUSES, HOLDING_STATUSES, Pledge, PledgeStatus


class PledgeTotals:
    """The PledgeReader that campaigns use: totals are sums over confirmed pledges, nothing else."""

    def totals_subquery(self, campaign_ids=None):
        """Per campaign: confirmed pledges less refunds, plus what funds match of them; backers counted once."""
        confirmed = Pledge.status.in_(CONFIRMED_STATUSES)
        pledged = select(Pledge.campaign_id.label("campaign_id"),
                         (Pledge.amount - Pledge.refunded_amount).label("value"),
                         literal(1).label("backer")).where(confirmed)
        matched = (select(Match.campaign_id.label("campaign_id"), Match.amount.label("value"),
                          literal(0).label("backer"))
                   .join(Pledge, Pledge.id == Match.pledge_id).where(confirmed))
        if campaign_ids is not None:
            pledged = pledged.where(Pledge.campaign_id.in_(campaign_ids))
            matched = matched.where(Pledge.campaign_id.in_(campaign_ids))
        movements = union_all(pledged, matched).subquery("money_in")
        return (
            select(movements.c.campaign_id.label("campaign_id"),
                   func.sum(movements.c.value).label("raised"),
                   func.sum(movements.c.backer).label("backers"))
            .group_by(movements.c.campaign_id)
            .subquery("campaign_totals")
        )

    def totals_and_latest(self, campaign_id: int, limit: int) -> tuple[int, int, list[Pledge]]:
        """The campaign page's money in one statement: its totals beside its latest supporters (a row of each
        supporter, the totals repeated; one row of NULLs and totals when nobody has pledged yet)."""
        totals = self.totals_subquery([campaign_id])
        latest = _latest(campaign_id, limit).subquery("latest")
        supporter = aliased(Pledge, latest)
        one_row = select(literal(1).label("one")).subquery("one_row")
        rows = db.session.execute(
            select(totals.c.raised, totals.c.backers, supporter).select_from(one_row)
            .outerjoin(totals, true()).outerjoin(latest, true())
            .order_by(latest.c.confirmed_at.desc(), latest.c.id.desc())
        ).all()
        raised, backers = (rows[0][0], rows[0][1]) if rows else (0, 0)
        return int(raised or 0), int(backers or 0), [row[2] for row in rows if row[2] is not None]

    def chosen_tier_ids(self, campaign_id: int) -> set[int]:
        return set(db.session.scalars(
            select(Pledge.tier_id).where(Pledge.campaign_id == campaign_id, Pledge.tier_id.is_not(None),
                                         Pledge.status.in_(HOLDING_STATUSES)).distinct()
        ))


def _latest(campaign_id: int, limit: int):
    return (select(Pledge).where(Pledge.campaign_id == campaign_id, Pledge.status.in_(CONFIRMED_STATUSES))
            .order_by(Pledge.confirmed_at.desc(), Pledge.id.desc()).limit(limit))


def pledge_counts(campaign: Campaign, now: datetime) -> dict[str, int]:
    """How many pledges are in each state, as the organizer should read them (two queries).

    A checkout left past its hold, or one on a campaign that takes no more pledges, is not waited for: it counts
    as not completed even before the sweep that expires it has run.
    """
    counts = {status.value: n for status, n in db.session.execute(
        select(Pledge.status, func.count()).where(Pledge.campaign_id == campaign.id).group_by(Pledge.status))}
    pending = counts.pop(PledgeStatus.PENDING.value, 0)
    waiting = 0
    if pending and campaign.status == CampaignStatus.LIVE:
        waiting = db.session.scalar(select(func.count()).where(
            Pledge.campaign_id == campaign.id, Pledge.status == PledgeStatus.PENDING, Pledge.hold_expires_at >= now))
    if waiting:
        counts[PledgeStatus.PENDING.value] = waiting
    if pending - waiting:
        counts[PledgeStatus.EXPIRED.value] = counts.get(PledgeStatus.EXPIRED.value, 0) + pending - waiting
    return counts
