"""Declaring a campaign's indicators and recording the values its progress reports give them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.accounts.models import User
from webapp.campaigns.models import Campaign
from webapp.errors import DomainError
from webapp.extensions import db
from webapp.impact import catalog, sdg
from webapp.impact.models import Indicator, IndicatorSource, IndicatorValue
from webapp.organizations import services as organizations
from webapp.progress_reports.models import ProgressReport

#: the largest figure a Numeric(14, 2) column holds
LARGEST = Decimal("999999999999.99")


class FieldError(DomainError):
    """A rule refused one field's value: `field` names it, so the view puts the message beside it."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


def can_manage(user: User | None, campaign: Campaign) -> bool:
    """Only the campaign's organization's editors declare indicators, list beneficiaries and ask for confirmations."""
    return organizations.can_edit(user, campaign.organization_id)


def parse_figure(text: str | None, field: str) -> Decimal:
    """A figure as people type it: "1 200", "12,5", "-3" (two decimals at most)."""
    cleaned = (text or "").strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace(",", ".")
    try:
        figure = Decimal(cleaned)
    except InvalidOperation:
        raise FieldError(field, _("Give a number, such as 120 or 12.5.")) from None
    if not figure.is_finite() or abs(figure) > LARGEST:
        raise FieldError(field, _("This number is too large."))
    if figure != figure.quantize(Decimal("0.01")):
        raise FieldError(field, _("At most two decimals."))
    return figure


@dataclass(frozen=True)
class IndicatorDraft:
    source: IndicatorSource
    sdg_target: str | None
    catalog_key: str | None
    title: str | None
    unit: str | None
    baseline: Decimal
    target: Decimal
    target_date: date


def declare(campaign: Campaign, draft: IndicatorDraft) -> Indicator:
    title = (draft.title or "").strip() or None
    unit = (draft.unit or "").strip()
    goal = None
    if draft.source == IndicatorSource.SDG:
        target = sdg.target(draft.sdg_target or "")
        if target is None:
            raise FieldError("sdg_target", _("Choose one of the SDG targets."))
        goal = target.goal
    elif draft.source == IndicatorSource.CATALOG:
        outcome = catalog.outcome(draft.catalog_key)
        if outcome is None:
            raise FieldError("catalog_key", _("Choose one of the common outcomes."))
        goal = outcome.goal
        unit = unit or str(outcome.unit)
    elif not title:
        raise FieldError("title", _("Say what the indicator measures."))
    if not unit:
        raise FieldError("unit", _("Say what the figures count (people, households, percent)."))
    indicator = Indicator(campaign_id=campaign.id, source=draft.source, sdg_goal=goal,
                          sdg_target=draft.sdg_target if draft.source == IndicatorSource.SDG else None,
                          catalog_key=draft.catalog_key if draft.source == IndicatorSource.CATALOG else None,
                          title=title, unit=unit, baseline=draft.baseline, target=draft.target,
                          target_date=draft.target_date)
    db.session.add(indicator)
    db.session.flush()
    return indicator


def indicators_of(campaign: Campaign) -> list[Indicator]:
    """The campaign's indicators with their values (two queries)."""
    return list(db.session.scalars(
        select(Indicator).where(Indicator.campaign_id == campaign.id)
        .options(selectinload(Indicator.values)).order_by(Indicator.id)))


def indicator_of(campaign: Campaign, indicator_id: int) -> Indicator | None:
    return db.session.scalar(select(Indicator).where(Indicator.id == indicator_id,
                                                     Indicator.campaign_id == campaign.id))


def remove(campaign: Campaign, indicator_id: int) -> None:
    indicator = indicator_of(campaign, indicator_id)
    if indicator is None:
        raise DomainError(_("This indicator is not one of this campaign's."))
    if indicator.values:
        raise DomainError(_("This indicator has reported values: it stays, so that what was reported stays readable."))
    db.session.delete(indicator)
    db.session.flush()


def title_of(indicator: Indicator, language: str) -> str:
    """The organization's words, else the SDG target's or the catalog outcome's title, in `language`."""
    if indicator.title:
        return indicator.title
    if indicator.source == IndicatorSource.SDG:
        target = sdg.target(indicator.sdg_target or "")
        return target.title(sdg.language_of(language)) if target else indicator.sdg_target or ""
    outcome = catalog.outcome(indicator.catalog_key)
    return str(outcome.title) if outcome else indicator.catalog_key or ""


def unit_of(indicator: Indicator, count: Decimal | int | None = None) -> str:
    """The unit the figures count, for the reader: a catalog outcome's usual unit in their language (and number, for
    `count`), whatever language the organizer declared it in; the organizer's own words otherwise."""
    if indicator.source == IndicatorSource.CATALOG:
        outcome = catalog.outcome(indicator.catalog_key)
        usual = catalog.usual_unit(outcome, indicator.unit, count) if outcome else None
        if usual:
            return usual
    return indicator.unit


def values_of_report(report: ProgressReport) -> dict[int, IndicatorValue]:
    """indicator id -> the value the report gives it."""
    return {v.indicator_id: v for v in db.session.scalars(select(IndicatorValue)
                                                          .where(IndicatorValue.report_id == report.id))}


def record_value(report: ProgressReport, indicator: Indicator, value: Decimal, measured_on: date,
                 note: str | None) -> IndicatorValue:
    """The report's figure for an indicator; it can be corrected until the people concerned were asked."""
    if indicator.campaign_id != report.campaign_id:
        raise DomainError(_("This indicator is not one of this campaign's."))
    if measured_on > date.today():
        raise FieldError(f"measured_on_{indicator.id}", _("A value cannot be measured in the future."))
    existing = db.session.scalar(select(IndicatorValue).where(IndicatorValue.report_id == report.id,
                                                              IndicatorValue.indicator_id == indicator.id))
    if existing is not None:
        if existing.asked_at is not None and (existing.value != value or existing.measured_on != measured_on):
            raise FieldError(f"value_{indicator.id}", _(
                "People were already asked to confirm this value: it cannot change. Post a new report instead."))
        existing.value, existing.measured_on, existing.note = value, measured_on, (note or "").strip() or None
        db.session.flush()
        return existing
    recorded = IndicatorValue(indicator_id=indicator.id, report_id=report.id, campaign_id=report.campaign_id,
                              value=value, measured_on=measured_on, note=(note or "").strip() or None)
    db.session.add(recorded)
    db.session.flush()
    return recorded


def value_of(campaign: Campaign, value_id: int) -> IndicatorValue | None:
    return db.session.scalar(select(IndicatorValue).where(IndicatorValue.id == value_id,
                                                          IndicatorValue.campaign_id == campaign.id))


def format_figure(figure: Decimal) -> str:
    """12.50 -> "12.5", 1200.00 -> "1,200" (in the current locale's digits and separators)."""
    from flask_babel import format_decimal

    return format_decimal(figure, format="#,##0.##")
