"""Disaster events: drafting, the state machine, activation in one transaction, closing."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from flask_babel import force_locale, gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from webapp import geo
from webapp.accounts.models import Role, User
from webapp.campaigns import services as campaigns
from webapp.campaigns.models import Campaign
from webapp.clock import utcnow
from webapp.errors import InvalidTransition, PermissionDenied
from webapp.extensions import db
from webapp.i18n import language_of_country
from webapp.money import Money
from webapp.mutual_aid.errors import InvalidEvent
from webapp.mutual_aid.models import (
    Audience,
    DisasterEvent,
    EventKind,
    EventRegion,
    EventState,
    EventTransition,
    HelpRequest,
    Match,
    MatchState,
    Offer,
    OfferState,
    RequestState,
    Severity,
)
from webapp.mutual_aid.settings import setting
from webapp.organizations.models import Organization
from webapp.slugs import unique_slug

E = EventState
#: a radius is stored in whole km (the database checks 1..1000): anything outside is refused, not rounded into it
MIN_RADIUS_KM = 1
MAX_RADIUS_KM = 1000

#: The only moves an event can make. Anything else is an InvalidTransition.
TRANSITIONS: dict[EventState, frozenset[EventState]] = {
    E.DRAFT: frozenset({E.ACTIVE}),
    E.ACTIVE: frozenset({E.RECOVERY, E.CLOSED}),
    E.RECOVERY: frozenset({E.ACTIVE, E.CLOSED}),
    E.CLOSED: frozenset(),
}


@dataclass(frozen=True)
class EventDraft:
    name: str
    kind: EventKind
    severity: Severity
    starts_on: date
    relief_organization_id: int | None
    public_message: str
    region_codes: tuple[str, ...]
    centre_latitude: float | None
    centre_longitude: float | None
    radius_km: float | None
    fund_goal: Money | None


@dataclass(frozen=True)
class Activation:
    """What activation did, for the confirmation message and the tests."""

    fund: Campaign
    woken_offers: int
    calls: dict[Audience, int] = field(default_factory=dict)

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())


def require_coordinator(user: User | None) -> None:
    if user is None or not user.is_authenticated or not user.has_role(Role.COORDINATOR):
        raise PermissionDenied(_("Only mutual-aid coordinators can do this."))


def normalize_regions(codes) -> tuple[str, ...]:
    seen: list[str] = []
    for code in codes:
        code = (code or "").strip().upper()
        if code and code not in seen:
            seen.append(code)
    return tuple(seen)


def radius_message() -> str:
    return _("The radius must be at least %(min)s km and at most %(max)s km.", min=MIN_RADIUS_KM, max=MAX_RADIUS_KM)


def check_event(draft: EventDraft) -> dict[str, str]:
    """Field name → message for every rule the draft breaks (empty when it is sound)."""
    problems: dict[str, str] = {}
    if not draft.name.strip():
        problems["name"] = _("Give the event a name.")
    unknown = [code for code in draft.region_codes if not geo.is_region(code)]
    if unknown:
        problems["regions"] = _("Unknown region code: %(codes)s. Use ISO 3166-2 codes such as BJ-LI.",
                                codes=", ".join(unknown))
    elif not draft.region_codes:
        problems["regions"] = _("Choose at least one region of the affected area.")
    if draft.radius_km is not None:
        if not MIN_RADIUS_KM <= draft.radius_km <= MAX_RADIUS_KM:  # NaN fails too
            problems["radius_km"] = radius_message()
        elif draft.centre_latitude is None or draft.centre_longitude is None:
            problems["radius_km"] = _("A radius needs a centre: give its latitude and longitude.")
    if (draft.centre_latitude is None) != (draft.centre_longitude is None):
        problems["centre_latitude"] = _("Give both the latitude and the longitude of the centre, or neither.")
    elif draft.centre_latitude is not None and not (-90 <= draft.centre_latitude <= 90
                                                    and -180 <= draft.centre_longitude <= 180):
        problems["centre_latitude"] = _("The centre is not on Earth: latitude -90..90, longitude -180..180.")
    if draft.relief_organization_id is None or db.session.get(Organization, draft.relief_organization_id) is None:
        problems["relief_organization_id"] = _("Choose the organization that receives the emergency fund.")
    if draft.fund_goal is None or draft.fund_goal.amount <= 0:
        problems["fund_goal"] = _("The emergency fund needs a goal greater than zero.")
    elif draft.fund_goal.currency not in current_app.config["SUPPORTED_CURRENCIES"]:
        problems["fund_goal"] = _("We cannot take pledges in %(c)s.", c=draft.fund_goal.currency)
    if not draft.public_message.strip():
        problems["public_message"] = _("Write a short public message: it opens every call.")
    elif len(draft.public_message) > 500:
        problems["public_message"] = _("The public message is at most 500 characters.")
    return problems


def create_event(actor: User, draft: EventDraft) -> DisasterEvent:
    require_coordinator(actor)
    draft = _normalized(draft)
    problems = check_event(draft)
    if problems:
        raise InvalidEvent(problems)
    event = DisasterEvent(slug=unique_slug(DisasterEvent, draft.name), created_by_id=actor.id, state=E.DRAFT)
    _apply(event, draft)
    db.session.add(event)
    db.session.flush()
    return event


def update_event(event: DisasterEvent, actor: User, draft: EventDraft) -> None:
    """Only a draft changes: calls already went out on the terms of an active event."""
    require_coordinator(actor)
    if event.state != E.DRAFT:
        raise InvalidTransition("event", event.state.value, "edited")
    draft = _normalized(draft)
    problems = check_event(draft)
    if problems:
        raise InvalidEvent(problems)
    _apply(event, draft)
    db.session.flush()


def _normalized(draft: EventDraft) -> EventDraft:
    return EventDraft(**{**draft.__dict__, "region_codes": normalize_regions(draft.region_codes),
                         "name": draft.name.strip(), "public_message": draft.public_message.strip()})


def _apply(event: DisasterEvent, draft: EventDraft) -> None:
    event.name, event.kind, event.severity = draft.name, draft.kind, draft.severity
    event.starts_on, event.relief_organization_id = draft.starts_on, draft.relief_organization_id
    event.public_message = draft.public_message
    event.centre_latitude, event.centre_longitude = draft.centre_latitude, draft.centre_longitude
    event.radius_km = stored_radius(draft.radius_km)
    event.fund_goal_amount, event.fund_currency = draft.fund_goal.amount, draft.fund_goal.currency
    wanted = list(draft.region_codes)
    event.regions = [r for r in event.regions if r.region_code in wanted]
    have = {r.region_code for r in event.regions}
    event.regions.extend(EventRegion(region_code=code) for code in wanted if code not in have)


def stored_radius(radius_km: float | None) -> int | None:
    """Whole km, kept inside the checked range: 1.4 is 1, 999.6 is 1000 (check_event refused what is outside)."""
    if radius_km is None:
        return None
    return min(MAX_RADIUS_KM, max(MIN_RADIUS_KM, int(round(radius_km))))


def transition(event: DisasterEvent, target: EventState, actor: User, reason: str | None = None) -> None:
    if target not in TRANSITIONS[event.state]:
        raise InvalidTransition("event", event.state.value, target.value)
    db.session.add(EventTransition(event_id=event.id, from_state=event.state, to_state=target,
                                   actor_id=actor.id, reason=reason))
    event.state = target


def activate(event: DisasterEvent, actor: User) -> Activation:
    """Open the fund, wake the sleeping offers and record every call: one unit of work, nothing sent.

    The caller commits, then enqueues the delivery (tasks.dispatch_calls), so a rollback leaves no
    fund, no offer and no call behind, and no member hears of an event that was never activated.
    """
    from webapp.mutual_aid.services import calls, posts

    require_coordinator(actor)
    locked = db.session.scalar(select(DisasterEvent).where(DisasterEvent.id == event.id)
                             .with_for_update().execution_options(populate_existing=True))
    transition(locked, E.ACTIVE, actor, _("Activated"))
    event.activated_at = utcnow()
    fund = _open_fund(event, actor)
    woken = posts.wake_sleeping_offers(event)
    recorded = calls.record_calls(event)
    db.session.flush()
    return Activation(fund=fund, woken_offers=woken, calls=recorded)


def _open_fund(event: DisasterEvent, actor: User) -> Campaign:
    from webapp.mutual_aid.links import external_url

    org = db.session.get(Organization, event.relief_organization_id)
    link = external_url("mutual_aid.show_event", slug=event.slug)
    # The fund is the organization's campaign: written in its language, not in the coordinator's of the moment.
    with force_locale(language_of_country(org.country)):
        title = _("Emergency fund: %(name)s", name=event.name)
        story = _("This is the emergency fund of [%(name)s](%(link)s): everything given goes to %(org)s "
                  "for the people hit by the disaster.", name=event.name, link=link, org=org.name)
    summary = event.public_message.strip()
    # The page shows the summary above the story: the message goes in the story only when the summary had to cut it.
    if len(summary) > 200:
        story = f"{summary}\n\n{story}"
    region = next((code for code in event.region_codes if code.startswith(org.country + "-")), None)
    fund = campaigns.open_emergency_fund(
        org, actor, title=title, summary=summary[:200],
        story_md=story, goal=event.fund_goal, region=region, days=int(setting("MUTUAL_AID_FUND_DAYS")))
    event.fund_campaign_id = fund.id
    return fund


def move_to_recovery(event: DisasterEvent, actor: User) -> None:
    require_coordinator(actor)
    transition(event, E.RECOVERY, actor)


def reactivate(event: DisasterEvent, actor: User) -> None:
    require_coordinator(actor)
    transition(event, E.ACTIVE, actor)


def close(event: DisasterEvent, actor: User) -> None:
    """Close the event: offers close, proposals end, and requesters still waiting are told."""
    from webapp.mutual_aid.services import matching, notices

    require_coordinator(actor)
    transition(event, E.CLOSED, actor)
    event.closed_at = utcnow()
    db.session.execute(update(Offer).where(Offer.event_id == event.id,
                                           Offer.state.in_((OfferState.PUBLISHED, OfferState.HIDDEN)))
                       .values(state=OfferState.CLOSED))
    proposals = db.session.scalars(select(Match).where(Match.event_id == event.id,
                                                       Match.state == MatchState.PROPOSED)).all()
    for match in proposals:
        matching.end_match(match, MatchState.CANCELLED, reopen=False)
    waiting = db.session.scalars(select(HelpRequest).where(
        HelpRequest.event_id == event.id,
        HelpRequest.state.in_((RequestState.OPEN, RequestState.PROPOSED)))).all()
    for request in waiting:
        matching.move_request(request, RequestState.CANCELLED)
        notices.tell_requester(request, "event_closed")
    db.session.flush()


# -- reading ------------------------------------------------------------------------------------
def event_by_slug(slug: str) -> DisasterEvent | None:
    return db.session.scalar(select(DisasterEvent).where(DisasterEvent.slug == slug)
                             .options(selectinload(DisasterEvent.regions)))


def public_events() -> list[DisasterEvent]:
    return list(db.session.scalars(
        select(DisasterEvent).where(DisasterEvent.state.in_((E.ACTIVE, E.RECOVERY)))
        .options(selectinload(DisasterEvent.regions)).order_by(DisasterEvent.activated_at.desc())))


def all_events() -> list[DisasterEvent]:
    return list(db.session.scalars(select(DisasterEvent).options(selectinload(DisasterEvent.regions))
                                   .order_by(DisasterEvent.created_at.desc(), DisasterEvent.id.desc())))


def history(event: DisasterEvent) -> list[EventTransition]:
    return list(db.session.scalars(select(EventTransition).where(EventTransition.event_id == event.id)
                                   .options(selectinload(EventTransition.actor)).order_by(EventTransition.id)))


def relief_organizations(coordinator: User | None = None) -> list[Organization]:
    """Every organization by name, the coordinator's own first: they are the likely relief organizations."""
    from webapp.organizations.models import Membership

    everyone = list(db.session.scalars(select(Organization).order_by(Organization.name)))
    if coordinator is None:
        return everyone
    own = set(db.session.scalars(select(Membership.organization_id).where(Membership.user_id == coordinator.id)))
    return sorted(everyone, key=lambda org: org.id not in own)  # stable: by name within each group
