"""Offers (sleeping or published) and help requests: posting, waking, limits, duplicates."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, literal, select

from webapp import geo
from webapp.accounts.models import User
from webapp.clock import utcnow
from webapp.errors import DomainError, InvalidTransition, PermissionDenied
from webapp.extensions import db
from webapp.mutual_aid.errors import EventNotTakingPosts, PostingTooFast
from webapp.mutual_aid.models import (
    DisasterEvent,
    EventState,
    HelpCategory,
    HelpRequest,
    Match,
    MatchState,
    Offer,
    OfferState,
    RequestState,
    Urgency,
)
from webapp.mutual_aid.places import cell_of
from webapp.mutual_aid.settings import setting

O = OfferState

#: The only moves an offer can make; a sleeping offer is copied, not moved, when an event wakes it.
OFFER_TRANSITIONS: dict[OfferState, frozenset[OfferState]] = {
    O.SLEEPING: frozenset({O.CLOSED}),
    O.PUBLISHED: frozenset({O.HIDDEN, O.CLOSED}),
    O.HIDDEN: frozenset({O.PUBLISHED, O.CLOSED}),
    O.CLOSED: frozenset(),
}
#: requests that still wait for or receive help: a new one for the same need is a duplicate
RUNNING = (RequestState.OPEN, RequestState.PROPOSED, RequestState.MATCHED)


@dataclass(frozen=True)
class Place:
    latitude: float | None
    longitude: float | None
    region_code: str | None


@dataclass(frozen=True)
class OfferDetails:
    category: HelpCategory
    title: str
    description: str
    capacity: int
    remote: bool
    available_from: date | None
    available_until: date | None
    place: Place
    contact_phone: str | None
    contact_note: str | None


@dataclass(frozen=True)
class RequestDetails:
    category: HelpCategory
    urgency: Urgency
    household_size: int
    description: str
    place: Place
    address: str | None
    contact_phone: str | None


def check_place(place: Place) -> None:
    if place.region_code and not geo.is_region(place.region_code):
        raise DomainError(_("Unknown region code: %(code)s.", code=place.region_code))
    if (place.latitude is None) != (place.longitude is None):
        raise DomainError(_("Give both the latitude and the longitude, or neither."))
    if place.latitude is not None and not (-90 <= place.latitude <= 90 and -180 <= place.longitude <= 180):
        raise DomainError(_("That point is not on Earth: latitude -90..90, longitude -180..180."))
    if place.latitude is None and not place.region_code:
        raise DomainError(_("Say where: a region, or a point on the map."))


def _check_offer(details: OfferDetails) -> None:
    check_place(details.place)
    if not details.title.strip():
        raise DomainError(_("Give the offer a short title."))
    if not 1 <= details.capacity <= 1000:
        raise DomainError(_("The capacity is between 1 and 1,000."))
    if details.available_from and details.available_until and details.available_until < details.available_from:
        raise DomainError(_("The availability ends before it starts."))


def require_posting_allowed(user: User) -> None:
    """At most MUTUAL_AID_POSTS_PER_HOUR offers and requests per member per hour, counted in the database."""
    if user.suspended_at is not None:
        raise PermissionDenied(_("This account is suspended."))
    since = utcnow() - timedelta(hours=1)
    offers = select(func.count()).select_from(Offer).where(Offer.owner_id == user.id, Offer.created_at >= since,
                                                           Offer.woken_from_id.is_(None))
    requests = select(func.count()).select_from(HelpRequest).where(HelpRequest.requester_id == user.id,
                                                                   HelpRequest.created_at >= since)
    posted = (db.session.scalar(offers) or 0) + (db.session.scalar(requests) or 0)
    limit = int(setting("MUTUAL_AID_POSTS_PER_HOUR"))
    if posted >= limit:
        raise PostingTooFast(_("You posted %(n)d offers and requests in the last hour, the most we allow. "
                               "Please wait a little; if this is an emergency, call the coordinator.", n=posted))


def _require_event_open(event: DisasterEvent) -> None:
    if not event.takes_posts:
        raise EventNotTakingPosts(_("“%(name)s” is not taking offers or requests: it is %(state)s.",
                                    name=event.name, state=event.state.value))


def _fill_offer(offer: Offer, details: OfferDetails) -> None:
    offer.category, offer.title = details.category, details.title.strip()[:120]
    offer.description = (details.description or "").strip()[:2000]
    offer.capacity, offer.remote = details.capacity, details.remote
    offer.available_from, offer.available_until = details.available_from, details.available_until
    offer.latitude, offer.longitude = details.place.latitude, details.place.longitude
    offer.region_code = (details.place.region_code or "").upper() or None
    offer.cell_lat, offer.cell_lon = cell_of(details.place.latitude, details.place.longitude)
    offer.contact_phone = (details.contact_phone or "").strip()[:40] or None
    offer.contact_note = (details.contact_note or "").strip()[:500] or None


def register_sleeping_offer(owner: User, details: OfferDetails) -> Offer:
    """"If a disaster hits my region, I can ...": kept sleeping until an event covers its place."""
    require_posting_allowed(owner)
    _check_offer(details)
    offer = Offer(owner_id=owner.id, state=O.SLEEPING)
    _fill_offer(offer, details)
    db.session.add(offer)
    db.session.flush()
    return offer


def post_offer(event: DisasterEvent, owner: User, details: OfferDetails) -> Offer:
    require_posting_allowed(owner)
    _require_event_open(event)
    _check_offer(details)
    offer = Offer(owner_id=owner.id, event_id=event.id, state=O.PUBLISHED)
    _fill_offer(offer, details)
    db.session.add(offer)
    db.session.flush()
    return offer


def wake_sleeping_offers(event: DisasterEvent) -> int:
    """Publish, for this event, a copy of every sleeping offer whose place is in the area (one INSERT ... SELECT).

    The sleeping offer stays, ready for the next disaster; the copy belongs to this event only. An offer whose copy
    is matched in an event still running (active or in recovery) is busy helping there: it is not published again
    until that event closes, so nobody is promised a room that a family already lives in.
    """
    from webapp.mutual_aid.services.calls import dialect_insert, lives_near

    columns = ["owner_id", "event_id", "woken_from_id", "category", "title", "description", "capacity", "remote",
               "available_from", "available_until", "latitude", "longitude", "region_code", "cell_lat", "cell_lon",
               "contact_phone", "contact_note", "state", "created_at"]
    sleeping = Offer.__table__.alias("sleeping")
    c = sleeping.c
    rows = (select(c.owner_id, literal(event.id), c.id, c.category, c.title, c.description, c.capacity, c.remote,
                   c.available_from, c.available_until, c.latitude, c.longitude, c.region_code, c.cell_lat,
                   c.cell_lon, c.contact_phone, c.contact_note, literal(O.PUBLISHED.value), literal(utcnow()))
            .select_from(sleeping).join(User, User.id == c.owner_id)
            .where(c.state == O.SLEEPING.value, User.suspended_at.is_(None),
                   lives_near(event, c.region_code, c.latitude, c.longitude), ~_matched_elsewhere(c.id)))
    result = db.session.execute(dialect_insert(Offer).from_select(columns, rows)
                                .on_conflict_do_nothing(index_elements=["event_id", "woken_from_id"])
                                .execution_options(preserve_rowcount=True))
    return max(result.rowcount or 0, 0)


def _matched_elsewhere(sleeping_id):
    """Some copy of this sleeping offer is in a running match of an event that is not closed."""
    copy = Offer.__table__.alias("copy")
    return (select(Match.id).join(copy, copy.c.id == Match.offer_id)
            .join(DisasterEvent, DisasterEvent.id == Match.event_id)
            .where(copy.c.woken_from_id == sleeping_id, Match.state == MatchState.MATCHED,
                   DisasterEvent.state != EventState.CLOSED)
            .exists())


def woken_offers_of(user: User, event: DisasterEvent) -> list[Offer]:
    """The member's sleeping offers that this event published: what their solidarity call woke."""
    return list(db.session.scalars(select(Offer).where(Offer.event_id == event.id, Offer.owner_id == user.id,
                                                       Offer.woken_from_id.is_not(None)).order_by(Offer.id)))


def move_offer(offer: Offer, target: OfferState) -> None:
    if target not in OFFER_TRANSITIONS[offer.state]:
        raise InvalidTransition("offer", offer.state.value, target.value)
    offer.state = target


def close_offer(offer: Offer, actor: User) -> None:
    from webapp.mutual_aid.services import matching

    if offer.owner_id != actor.id:
        raise PermissionDenied(_("Only the helper who made this offer can withdraw it."))
    move_offer(offer, O.CLOSED)
    matching.end_proposals_of_offer(offer)
    db.session.flush()


def post_request(event: DisasterEvent, requester: User, details: RequestDetails) -> HelpRequest:
    """Record a request; one the same person already has running for the same need is flagged."""
    require_posting_allowed(requester)
    _require_event_open(event)
    check_place(details.place)
    if not 1 <= details.household_size <= 100:
        raise DomainError(_("The household is between 1 and 100 people."))
    earlier = db.session.scalar(
        select(HelpRequest.id).where(HelpRequest.event_id == event.id, HelpRequest.requester_id == requester.id,
                                     HelpRequest.category == details.category, HelpRequest.state.in_(RUNNING),
                                     HelpRequest.duplicate_of_id.is_(None))
        .order_by(HelpRequest.id).limit(1))
    lat, lon = details.place.latitude, details.place.longitude
    cell_lat, cell_lon = cell_of(lat, lon)
    request = HelpRequest(
        event_id=event.id, requester_id=requester.id, category=details.category, urgency=details.urgency,
        household_size=details.household_size, description=(details.description or "").strip()[:2000],
        latitude=lat, longitude=lon, region_code=(details.place.region_code or "").upper() or None,
        cell_lat=cell_lat, cell_lon=cell_lon, address=(details.address or "").strip()[:300] or None,
        contact_phone=(details.contact_phone or "").strip()[:40] or None, state=RequestState.OPEN,
        duplicate_of_id=earlier)
    db.session.add(request)
    db.session.flush()
    return request


# -- reading ------------------------------------------------------------------------------------
def offers_of(user: User) -> list[Offer]:
    return list(db.session.scalars(select(Offer).where(Offer.owner_id == user.id)
                                   .order_by(Offer.state, Offer.id.desc()).limit(200)))


def requests_of(user: User) -> list[HelpRequest]:
    return list(db.session.scalars(select(HelpRequest).where(HelpRequest.requester_id == user.id)
                                   .order_by(HelpRequest.id.desc()).limit(200)))
