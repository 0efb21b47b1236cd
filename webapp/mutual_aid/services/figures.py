"""The coordinator's figures, the closing report and its CSV with HXL hashtags: aggregates only, no person."""
from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, select

from webapp.campaigns import services as campaigns
from webapp.campaigns.models import Campaign
from webapp.campaigns.progress import Progress
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.money import Money
from webapp.mutual_aid.models import (
    AUDIENCE_PRIORITY,
    CallDelivery,
    Channel,
    DeliveryState,
    DisasterEvent,
    HelpCategory,
    HelpRequest,
    Offer,
    OfferState,
    RequestState,
    SolidarityCall,
)
from webapp.mutual_aid.places import CELL_DEGREES, cell_centre

#: The HXL hashtag row under the header of the export (https://hxlstandard.org).
HXL_TAGS = ["#adm1+code", "#sector", "#affected", "#reached", "#value", "#currency", "#date"]
#: The header people read, in the reader's language; the HXL row under it is what machines read and never changes.
CSV_HEADER = [_l("Region (ISO 3166-2)"), _l("Sector"), _l("People affected"), _l("People reached"), _l("Value"),
              _l("Currency"), _l("Date")]
REACHED = (RequestState.MATCHED, RequestState.FULFILLED)


@dataclass
class CallFigures:
    #: (audience, channel) -> {"queued": n, "sending": n, "sent": n, "failed": n, "opened": n}
    cells: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    #: audience -> number of calls (one per member)
    calls: dict[str, int] = field(default_factory=dict)
    #: audience -> calls opened
    opened: dict[str, int] = field(default_factory=dict)

    def cell(self, audience: str, channel: str) -> dict[str, int]:
        return self.cells.get((audience, channel), {})

    @property
    def total(self) -> int:
        return sum(self.calls.values())


def call_figures(event: DisasterEvent) -> CallFigures:
    """Three GROUP BY queries, whatever the number of calls."""
    figures = CallFigures()
    rows = db.session.execute(
        select(SolidarityCall.audience, CallDelivery.channel, CallDelivery.state, func.count())
        .join(SolidarityCall, SolidarityCall.id == CallDelivery.call_id)
        .where(CallDelivery.event_id == event.id)
        .group_by(SolidarityCall.audience, CallDelivery.channel, CallDelivery.state))
    for audience, channel, state, n in rows:
        figures.cells.setdefault((audience.value, channel.value), {})[state.value] = n
    opened = db.session.execute(
        select(SolidarityCall.audience, SolidarityCall.opened_via, func.count())
        .where(SolidarityCall.event_id == event.id, SolidarityCall.opened_at.is_not(None))
        .group_by(SolidarityCall.audience, SolidarityCall.opened_via))
    for audience, via, n in opened:
        figures.cells.setdefault((audience.value, (via or Channel.INAPP).value), {})["opened"] = n
        figures.opened[audience.value] = figures.opened.get(audience.value, 0) + n
    for audience, n in db.session.execute(select(SolidarityCall.audience, func.count())
                                          .where(SolidarityCall.event_id == event.id)
                                          .group_by(SolidarityCall.audience)):
        figures.calls[audience.value] = n
    return figures


def fund_of(event: DisasterEvent) -> tuple[Campaign | None, Progress | None]:
    if event.fund_campaign_id is None:
        return None, None
    fund = db.session.get(Campaign, event.fund_campaign_id)
    return fund, campaigns.progress_of(fund)


def posts_by_category(event: DisasterEvent) -> dict[str, dict[str, dict[str, int]]]:
    """{"offers"|"requests": {category: {state: n}}}."""
    result: dict[str, dict[str, dict[str, int]]] = {"offers": {}, "requests": {}}
    for category, state, n in db.session.execute(
            select(Offer.category, Offer.state, func.count()).where(Offer.event_id == event.id)
            .group_by(Offer.category, Offer.state)):
        result["offers"].setdefault(category.value, {})[state.value] = n
    for category, state, n in db.session.execute(
            select(HelpRequest.category, HelpRequest.state, func.count()).where(HelpRequest.event_id == event.id)
            .group_by(HelpRequest.category, HelpRequest.state)):
        result["requests"].setdefault(category.value, {})[state.value] = n
    return result


def median_minutes_to_match(event: DisasterEvent) -> float | None:
    rows = db.session.execute(select(HelpRequest.created_at, HelpRequest.first_matched_at).where(
        HelpRequest.event_id == event.id, HelpRequest.first_matched_at.is_not(None))).all()
    if not rows:
        return None
    return round(statistics.median((m - c).total_seconds() / 60 for c, m in rows), 1)


@dataclass(frozen=True)
class Cell:
    cell_lat: int
    cell_lon: int
    offers: int
    requests: int

    @property
    def centre(self) -> tuple[float, float]:
        return cell_centre(self.cell_lat, self.cell_lon)


def cells(event: DisasterEvent, *, public: bool = False) -> list[Cell]:
    """Counts per 0.1° cell of published offers and visible requests: the only map anyone sees."""
    counts: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    offer_states = (OfferState.PUBLISHED,) if public else (OfferState.PUBLISHED, OfferState.HIDDEN,
                                                           OfferState.CLOSED)
    for lat, lon, n in db.session.execute(
            select(Offer.cell_lat, Offer.cell_lon, func.count())
            .where(Offer.event_id == event.id, Offer.cell_lat.is_not(None), Offer.state.in_(offer_states))
            .group_by(Offer.cell_lat, Offer.cell_lon)):
        counts[(lat, lon)][0] = n
    visible = [HelpRequest.event_id == event.id, HelpRequest.cell_lat.is_not(None)]
    if public:
        visible += [HelpRequest.hidden_at.is_(None), HelpRequest.state.in_((RequestState.OPEN, RequestState.PROPOSED))]
    for lat, lon, n in db.session.execute(select(HelpRequest.cell_lat, HelpRequest.cell_lon, func.count())
                                          .where(and_(*visible)).group_by(HelpRequest.cell_lat, HelpRequest.cell_lon)):
        counts[(lat, lon)][1] = n
    return [Cell(lat, lon, o, r) for (lat, lon), (o, r) in sorted(counts.items())]


@dataclass(frozen=True)
class GridMap:
    """An SVG-ready grid: each cell a square, darker with more posts; no tiles, no exact point."""

    width: int
    height: int
    squares: list[dict]
    lat_range: tuple[float, float]
    lon_range: tuple[float, float]


def grid_map(found: list[Cell], size: int = 16) -> GridMap | None:
    if not found:
        return None
    lats = [c.cell_lat for c in found]
    lons = [c.cell_lon for c in found]
    pad = 2  # a margin of empty cells, so a lone cell reads as a place on a grid
    lat0, lat1, lon0, lon1 = min(lats) - pad, max(lats) + pad, min(lons) - pad, max(lons) + pad
    width, height = (lon1 - lon0 + 1) * size, (lat1 - lat0 + 1) * size
    peak = max(c.offers + c.requests for c in found) or 1
    squares = [{"x": (c.cell_lon - lon0) * size, "y": (lat1 - c.cell_lat) * size, "size": size,
                "offers": c.offers, "requests": c.requests, "lat": c.centre[0], "lon": c.centre[1],
                "opacity": round(0.25 + 0.75 * (c.offers + c.requests) / peak, 2),
                "kind": "both" if c.offers and c.requests else ("requests" if c.requests else "offers")}
               for c in found]
    return GridMap(width, height, squares, (lat0 * CELL_DEGREES, (lat1 + 1) * CELL_DEGREES),
                   (lon0 * CELL_DEGREES, (lon1 + 1) * CELL_DEGREES))


# -- the closing report -------------------------------------------------------------------------
@dataclass(frozen=True)
class ReportRow:
    region_code: str
    sector: str
    affected: int | None
    reached: int | None
    value: Money | None
    on: date


def report_rows(event: DisasterEvent) -> list[ReportRow]:
    """People affected and reached per region and sector (households' sizes), and the money raised."""
    on = (event.closed_at or utcnow()).date()
    real = [HelpRequest.event_id == event.id, HelpRequest.duplicate_of_id.is_(None), HelpRequest.hidden_at.is_(None)]
    reached = func.sum(case((HelpRequest.state.in_(REACHED), HelpRequest.household_size), else_=0))
    rows = [ReportRow(region or "", category.value, int(affected or 0), int(got or 0), None, on)
            for region, category, affected, got in db.session.execute(
                select(HelpRequest.region_code, HelpRequest.category, func.sum(HelpRequest.household_size), reached)
                .where(*real).group_by(HelpRequest.region_code, HelpRequest.category)
                .order_by(HelpRequest.region_code, HelpRequest.category))]
    _fund, progress = fund_of(event)
    if progress is not None:
        rows.append(ReportRow("", "cash", None, None, progress.raised, on))
    return rows


def report_csv(event: DisasterEvent) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([str(title) for title in CSV_HEADER])
    writer.writerow(HXL_TAGS)
    for row in report_rows(event):
        writer.writerow([row.region_code, row.sector,
                         "" if row.affected is None else row.affected, "" if row.reached is None else row.reached,
                         "" if row.value is None else row.value.input_value(),
                         "" if row.value is None else row.value.currency, row.on.isoformat()])
    return out.getvalue()


def category_values() -> list[str]:
    return [c.value for c in HelpCategory]


def audiences() -> list[str]:
    return [a.value for a in AUDIENCE_PRIORITY]


def delivery_states() -> list[str]:
    return [s.value for s in DeliveryState]
