"""What pages and exports show of impact: each indicator with its target and values, and each value's answers."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from webapp.campaigns.models import PUBLIC_STATUSES, Campaign
from webapp.extensions import db
from webapp.impact import catalog, sdg
from webapp.impact.models import (Audience, ConfirmationAnswer, ConfirmationRequest, Indicator, IndicatorSource,
                                  IndicatorValue, Verdict)
from webapp.impact.services.indicators import format_figure, title_of
from webapp.organizations.models import Organization

PUBLIC = tuple(PUBLIC_STATUSES)


def indicator_title(indicator: Indicator, language: str) -> str:
    return title_of(indicator, language)


def source_label(indicator: Indicator, language: str) -> str:
    """"SDG target 6.1 — Clean water and sanitation", "Common outcome", "Written by the organization"."""
    if indicator.source == IndicatorSource.SDG:
        goal = sdg.goal(indicator.sdg_goal or 0)
        name = goal.short(sdg.language_of(language)) if goal else ""
        return _("SDG target %(code)s — %(goal)s", code=indicator.sdg_target, goal=name)
    if indicator.source == IndicatorSource.CATALOG:
        outcome = catalog.outcome(indicator.catalog_key)
        goal = sdg.goal(outcome.goal) if outcome and outcome.goal else None
        if goal:
            return _("Common outcome · SDG %(n)d — %(goal)s", n=goal.number, goal=goal.short(sdg.language_of(language)))
        return _("Common outcome")
    return _("Written by the organization")


@dataclass
class Tally:
    """What the people asked said about one value."""

    asked: dict[Audience, int] = field(default_factory=dict)
    verdicts: dict[Audience, dict[Verdict, int]] = field(default_factory=lambda: defaultdict(dict))
    comments: list[ConfirmationAnswer] = field(default_factory=list)

    @property
    def total_asked(self) -> int:
        return sum(self.asked.values())

    def count(self, verdict: Verdict, audience: Audience | None = None) -> int:
        groups = [audience] if audience else list(self.verdicts)
        return sum(self.verdicts.get(a, {}).get(verdict, 0) for a in groups)

    @property
    def answered(self) -> int:
        return sum(sum(v.values()) for v in self.verdicts.values())

    def sentence(self, audience: Audience | None = None) -> str:
        """"Confirmed by 23 of 31 asked; 2 doubt it." (for everyone, or for one group)."""
        asked = self.asked.get(audience, 0) if audience else self.total_asked
        confirmed, doubted = self.count(Verdict.CONFIRM, audience), self.count(Verdict.DOUBT, audience)
        who = {None: _("asked"), Audience.BENEFICIARY: _("beneficiaries asked"),
               Audience.MEMBER: _("members asked"), Audience.BACKER: _("backers asked")}[audience]
        text = _("Confirmed by %(n)d of %(asked)d %(who)s", n=confirmed, asked=asked, who=who)
        if doubted:
            text += "; " + ngettext("%(num)d doubts it", "%(num)d doubt it", doubted)
        return text + "."


def tallies(value_ids: list[int]) -> dict[int, Tally]:
    """value id -> its Tally, in three queries whatever the number of values and people."""
    result = {vid: Tally() for vid in value_ids}
    if not value_ids:
        return result
    for vid, audience, n in db.session.execute(
            select(ConfirmationRequest.value_id, ConfirmationRequest.audience, func.count())
            .where(ConfirmationRequest.value_id.in_(value_ids))
            .group_by(ConfirmationRequest.value_id, ConfirmationRequest.audience)):
        result[vid].asked[audience] = n
    for vid, audience, verdict, n in db.session.execute(
            select(ConfirmationAnswer.value_id, ConfirmationAnswer.audience, ConfirmationAnswer.verdict, func.count())
            .where(ConfirmationAnswer.value_id.in_(value_ids))
            .group_by(ConfirmationAnswer.value_id, ConfirmationAnswer.audience, ConfirmationAnswer.verdict)):
        result[vid].verdicts[audience][verdict] = n
    for answer in db.session.scalars(
            select(ConfirmationAnswer).where(ConfirmationAnswer.value_id.in_(value_ids),
                                             ConfirmationAnswer.comment.is_not(None))
            .order_by(ConfirmationAnswer.answered_on.desc(), ConfirmationAnswer.id.desc())):
        result[answer.value_id].comments.append(answer)
    return result


@dataclass(frozen=True)
class IndicatorView:
    indicator: Indicator
    title: str
    source: str
    values: list[IndicatorValue]
    tallies: dict[int, Tally]

    @property
    def latest(self) -> IndicatorValue | None:
        return self.values[-1] if self.values else None

    @property
    def percent(self) -> int | None:
        """How far the latest value went from the baseline towards the target, 0-100."""
        span = self.indicator.target - self.indicator.baseline
        if self.latest is None or span == 0:
            return None
        return max(0, min(100, int((self.latest.value - self.indicator.baseline) * 100 / span)))


def campaign_impact(campaign: Campaign, language: str) -> list[IndicatorView]:
    """The campaign's indicators with their values and tallies: five queries."""
    indicators = list(db.session.scalars(
        select(Indicator).where(Indicator.campaign_id == campaign.id)
        .options(selectinload(Indicator.values).joinedload(IndicatorValue.report)).order_by(Indicator.id)))
    counts = tallies([v.id for i in indicators for v in i.values])
    return [IndicatorView(i, title_of(i, language), source_label(i, language), list(i.values), counts)
            for i in indicators]


def report_impact(report_id: int, language: str) -> list[tuple[str, IndicatorValue, Tally]]:
    """The values a progress report gives, each with its indicator's title and its tally: four queries."""
    values = list(db.session.scalars(
        select(IndicatorValue).where(IndicatorValue.report_id == report_id)
        .options(selectinload(IndicatorValue.indicator)).order_by(IndicatorValue.indicator_id)))
    counts = tallies([v.id for v in values])
    return [(title_of(v.indicator, language), v, counts[v.id]) for v in values]


def figure(value: Decimal) -> str:
    return format_figure(value)


# -- exports --------------------------------------------------------------------------------------
EXPORT_HEADER = ["campaign", "campaign_slug", "indicator_id", "indicator", "source", "sdg_goal", "sdg_target",
                 "catalog_key", "unit", "baseline", "target", "target_date", "value_id", "value", "measured_on",
                 "report_id", "report", "asked", "confirmed", "doubted", "comments"]


def organization_rows(org: Organization, language: str) -> list[dict]:
    """One row per value (and one per indicator without values) of the organization's public campaigns."""
    indicators = list(db.session.scalars(
        select(Indicator).join(Campaign, Campaign.id == Indicator.campaign_id)
        .where(Campaign.organization_id == org.id, Campaign.status.in_(PUBLIC))
        .options(selectinload(Indicator.values).joinedload(IndicatorValue.report),
                 selectinload(Indicator.campaign)).order_by(Campaign.id, Indicator.id)))
    counts = tallies([v.id for i in indicators for v in i.values])
    rows = []
    for i in indicators:
        base = {"campaign": i.campaign.title, "campaign_slug": i.campaign.slug, "indicator_id": i.id,
                "indicator": title_of(i, language), "source": i.source.value, "sdg_goal": i.sdg_goal,
                "sdg_target": i.sdg_target, "catalog_key": i.catalog_key, "unit": i.unit,
                "baseline": str(i.baseline), "target": str(i.target), "target_date": i.target_date.isoformat()}
        empty = dict.fromkeys(EXPORT_HEADER[12:])
        if not i.values:
            rows.append({**base, **empty})
        for v in i.values:
            t = counts[v.id]
            rows.append({**base, "value_id": v.id, "value": str(v.value), "measured_on": v.measured_on.isoformat(),
                         "report_id": v.report_id, "report": v.report.title, "asked": t.total_asked,
                         "confirmed": t.count(Verdict.CONFIRM), "doubted": t.count(Verdict.DOUBT),
                         "comments": len(t.comments)})
    return rows
