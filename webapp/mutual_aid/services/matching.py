"""Matching: offers ranked for a request and requests for a helper, and the match state machine.

Neither side's exact point leaves the server before both accepted: distances are measured from the
centre of one grid cell to the centre of the other and shown as a band (places.band_of), and lists are
ranked by that coarse distance with ties broken by age, so that neither the figure nor the order moves
when a point moves inside its cell. Exact points, and the exact distance, are for the two sides of an
accepted match only (counterpart_contact).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, case, func, literal, null, or_, select
from sqlalchemy.orm import aliased, joinedload

from webapp import geo
from webapp.accounts.models import User
from webapp.clock import utcnow
from webapp.errors import InvalidTransition, PermissionDenied
from webapp.extensions import db
from webapp.mutual_aid.errors import ContactHidden, MatchRefused
from webapp.mutual_aid.models import (
    PER_PERSON,
    HelpRequest,
    Match,
    MatchState,
    Offer,
    OfferState,
    RequestState,
)
from webapp.mutual_aid.places import DistanceBand, band_of, cell_distance_sql
from webapp.mutual_aid.services import notices
from webapp.mutual_aid.settings import setting

R, M = RequestState, MatchState

#: The only moves a request can make. Anything else is an InvalidTransition.
REQUEST_TRANSITIONS: dict[RequestState, frozenset[RequestState]] = {
    R.OPEN: frozenset({R.PROPOSED, R.CANCELLED}),
    R.PROPOSED: frozenset({R.MATCHED, R.OPEN, R.CANCELLED}),
    R.MATCHED: frozenset({R.FULFILLED, R.OPEN, R.CANCELLED}),
    R.FULFILLED: frozenset(),
    R.CANCELLED: frozenset(),
}
MATCH_TRANSITIONS: dict[MatchState, frozenset[MatchState]] = {
    M.PROPOSED: frozenset({M.MATCHED, M.DECLINED, M.EXPIRED, M.CANCELLED}),
    M.MATCHED: frozenset({M.FULFILLED, M.CANCELLED}),
    M.FULFILLED: frozenset(),
    M.DECLINED: frozenset(),
    M.EXPIRED: frozenset(),
    M.CANCELLED: frozenset(),
}
ACTIVE_MATCH = (M.PROPOSED, M.MATCHED)
SUGGESTIONS = 20


def move_request(request: HelpRequest, target: RequestState) -> None:
    if target not in REQUEST_TRANSITIONS[request.state]:
        raise InvalidTransition("request", request.state.value, target.value)
    request.state = target
    request.state_changed_at = utcnow()
    request.nudged_at = None
    if target == R.MATCHED and request.first_matched_at is None:
        request.first_matched_at = request.state_changed_at


def _move_match(match: Match, target: MatchState) -> None:
    if target not in MATCH_TRANSITIONS[match.state]:
        raise InvalidTransition("match", match.state.value, target.value)
    match.state = target
    if target == M.MATCHED:
        match.matched_at = utcnow()
    elif target != M.PROPOSED:
        match.ended_at = utcnow()


# -- ranking ------------------------------------------------------------------------------------
def _places_needed(category, household_size):
    return household_size if category in PER_PERSON else 1


def _taken_places():
    """Places of each offer already promised in matches: households for per-person categories, 1 otherwise."""
    request = aliased(HelpRequest)
    taken = case((Offer.category.in_([c.value for c in PER_PERSON]), request.household_size), else_=1)
    return (select(func.coalesce(func.sum(taken), 0)).select_from(Match)
            .join(request, request.id == Match.request_id)
            .where(Match.offer_id == Offer.id, Match.state == M.MATCHED).scalar_subquery())


@dataclass(frozen=True)
class Suggestion:
    offer: Offer
    distance: DistanceBand | None  #: cell to cell; None for a remote offer or a place given only as a region
    available_now: bool


def suggested_offers(request: HelpRequest, *, today: date | None = None, limit: int = SUGGESTIONS) -> list[Suggestion]:
    """Published offers of the request's event and category, with room left, ranked:
    available now before later, then by distance between grid cells (remote offers count as near), then
    oldest first. Nothing finer than the two cells enters the order or the figure. One query."""
    today = today or utcnow().date()
    needed = _places_needed(request.category, request.household_size)
    owner = aliased(User)
    if request.cell_lat is not None and request.cell_lon is not None:
        distance = case((Offer.remote.is_(True), literal(0.0)),
                        (Offer.cell_lat.is_(None), null()),
                        else_=cell_distance_sql(Offer.cell_lat, Offer.cell_lon, request.cell_lat, request.cell_lon))
    else:
        distance = case((Offer.remote.is_(True), literal(0.0)), else_=null())
    # the region only orders offers placed by region alone (and shown by it); a located offer's region
    # would split a cell in two
    same_region = case((and_(distance.is_(None), Offer.region_code.is_not(None),
                             Offer.region_code == request.region_code), 0), else_=1)
    available_now = case((or_(Offer.available_from.is_(None), Offer.available_from <= today), 1), else_=0)
    already = select(Match.id).where(Match.offer_id == Offer.id, Match.request_id == request.id).exists()
    q = (select(Offer, distance.label("distance"), available_now.label("now"))
         .join(owner, owner.id == Offer.owner_id)
         .where(Offer.event_id == request.event_id, Offer.state == OfferState.PUBLISHED,
                Offer.category == request.category, Offer.owner_id != request.requester_id,
                owner.suspended_at.is_(None),
                or_(Offer.available_until.is_(None), Offer.available_until >= today),
                Offer.capacity - _taken_places() >= needed, ~already)
         .order_by(available_now.desc(), distance.is_(None), distance, same_region, Offer.id)
         .limit(limit))
    return [Suggestion(offer, None if d is None or offer.remote else band_of(d), bool(now))
            for offer, d, now in db.session.execute(q)]


@dataclass(frozen=True)
class NearbyRequest:
    request: HelpRequest
    distance: DistanceBand | None  #: cell to cell; None for a request placed only by region


def requests_near(offer: Offer, *, limit: int = SUGGESTIONS) -> list[NearbyRequest]:
    """Open requests of the offer's event and category a helper could answer: nearest first by grid cell,
    then most urgent, then oldest."""
    if offer.cell_lat is not None and offer.cell_lon is not None and not offer.remote:
        distance = case((HelpRequest.cell_lat.is_(None), null()),
                        else_=cell_distance_sql(HelpRequest.cell_lat, HelpRequest.cell_lon,
                                                offer.cell_lat, offer.cell_lon))
    else:
        distance = null()
    requester = aliased(User)
    urgency = case((HelpRequest.urgency == "critical", 0), (HelpRequest.urgency == "high", 1), else_=2)
    already = select(Match.id).where(Match.offer_id == offer.id, Match.request_id == HelpRequest.id).exists()
    q = (select(HelpRequest, distance.label("distance"))
         .join(requester, requester.id == HelpRequest.requester_id)
         .where(HelpRequest.event_id == offer.event_id, HelpRequest.category == offer.category,
                HelpRequest.state == R.OPEN, HelpRequest.hidden_at.is_(None),
                HelpRequest.duplicate_of_id.is_(None), HelpRequest.requester_id != offer.owner_id,
                requester.suspended_at.is_(None), ~already)
         .order_by(distance.is_(None), distance, urgency, HelpRequest.created_at, HelpRequest.id)
         .limit(limit))
    return [NearbyRequest(r, band_of(d)) for r, d in db.session.execute(q)]


# -- proposing and accepting --------------------------------------------------------------------
def _lock_request(request: HelpRequest) -> HelpRequest:
    return db.session.scalar(select(HelpRequest).where(HelpRequest.id == request.id)
                             .with_for_update().execution_options(populate_existing=True))


def _check_pair(offer: Offer, request: HelpRequest) -> None:
    if offer.event_id != request.event_id:
        raise MatchRefused(_("This offer belongs to another event."))
    if not request.event.takes_posts:
        raise MatchRefused(_("This event is closed: no new matches."))
    if offer.state != OfferState.PUBLISHED:
        raise MatchRefused(_("This offer is no longer available."))
    if request.hidden_at is not None:
        raise MatchRefused(_("This request is no longer available."))
    if offer.category != request.category:
        raise MatchRefused(_("This offer is for another kind of help."))
    if offer.owner_id == request.requester_id:
        raise MatchRefused(_("You cannot answer your own request."))
    if offer.owner.suspended_at is not None or request.requester.suspended_at is not None:
        raise MatchRefused(_("This member's account is suspended."))
    existing = db.session.scalar(select(Match.id).where(Match.offer_id == offer.id, Match.request_id == request.id))
    if existing is not None:
        raise MatchRefused(_("This offer and this request were already put together once."))


def propose(offer: Offer, request: HelpRequest, actor: User) -> Match:
    """The requester asks a helper, or a helper offers to a requester; the proposer's side is accepted."""
    if actor.id not in (offer.owner_id, request.requester_id):
        raise PermissionDenied(_("Only the requester or the helper can propose this."))
    request = _lock_request(request)
    _check_pair(offer, request)
    if request.state != R.OPEN:
        raise MatchRefused(_("This request is already waiting for an answer or has been answered."))
    now = utcnow()
    hours = int(setting("MUTUAL_AID_MATCH_EXPIRY_HOURS"))
    match = Match(event_id=request.event_id, offer_id=offer.id, request_id=request.id, proposed_by_id=actor.id,
                  state=M.PROPOSED, created_at=now, expires_at=now + timedelta(hours=hours),
                  accepted_by_helper_at=now if actor.id == offer.owner_id else None,
                  accepted_by_requester_at=now if actor.id == request.requester_id else None)
    db.session.add(match)
    move_request(request, R.PROPOSED)
    db.session.flush()
    if actor.id == offer.owner_id:
        notices.tell_requester(request, "helper_proposed", match=match)
    else:
        notices.tell_requester(request, "proposed", match=match)
        notices.tell_helper(match, "requester_asked")
    return match


def accept(match: Match, actor: User) -> None:
    request = _lock_request(match.request)
    if match.state != M.PROPOSED:
        raise MatchRefused(_("This proposal is no longer waiting for an answer."))
    now = utcnow()
    if actor.id == match.offer.owner_id:
        match.accepted_by_helper_at = match.accepted_by_helper_at or now
    elif actor.id == request.requester_id:
        match.accepted_by_requester_at = match.accepted_by_requester_at or now
    else:
        raise PermissionDenied(_("Only the requester or the helper can accept this."))
    match.expires_at = now + timedelta(hours=int(setting("MUTUAL_AID_MATCH_EXPIRY_HOURS")))
    if match.both_accepted:
        _move_match(match, M.MATCHED)
        move_request(request, R.MATCHED)
        notices.tell_requester(request, "matched", match=match)
        notices.tell_helper(match, "matched")
    db.session.flush()


def decline(match: Match, actor: User) -> None:
    if actor.id not in (match.offer.owner_id, match.request.requester_id):
        raise PermissionDenied(_("Only the requester or the helper can decline this."))
    if match.state != M.PROPOSED:
        raise MatchRefused(_("This proposal is no longer waiting for an answer."))
    end_match(match, M.DECLINED)


def cancel(match: Match, actor: User) -> None:
    """Either side withdraws from a match; the request opens again for other helpers."""
    if actor.id not in (match.offer.owner_id, match.request.requester_id):
        raise PermissionDenied(_("Only the requester or the helper can cancel this."))
    if match.state not in ACTIVE_MATCH:
        raise MatchRefused(_("This match has already ended."))
    end_match(match, M.CANCELLED)


def fulfil(match: Match, actor: User) -> None:
    if actor.id != match.request.requester_id:
        raise PermissionDenied(_("The requester says when the help arrived."))
    if match.state != M.MATCHED:
        raise MatchRefused(_("Only a match both sides accepted can be marked as done."))
    _move_match(match, M.FULFILLED)
    move_request(match.request, R.FULFILLED)
    notices.tell_requester(match.request, "fulfilled", match=match)
    notices.tell_helper(match, "fulfilled")
    db.session.flush()


def end_match(match: Match, target: MatchState, *, reopen: bool = True) -> None:
    """End a proposal or a match; its request opens again (and its requester is told) unless `reopen` is false."""
    _move_match(match, target)
    request = match.request
    if reopen and request.state in (R.PROPOSED, R.MATCHED):
        move_request(request, R.OPEN)
        notices.tell_requester(request, f"match_{target.value}", match=match)
    if target != M.EXPIRED:
        notices.tell_helper(match, f"match_{target.value}")
    db.session.flush()


def end_proposals_of_offer(offer: Offer) -> None:
    for match in db.session.scalars(select(Match).where(Match.offer_id == offer.id, Match.state.in_(ACTIVE_MATCH))):
        end_match(match, M.CANCELLED)


def end_matches_of_request(request: HelpRequest) -> None:
    for match in db.session.scalars(select(Match).where(Match.request_id == request.id,
                                                        Match.state.in_(ACTIVE_MATCH))):
        end_match(match, M.CANCELLED, reopen=False)


def cancel_request(request: HelpRequest, actor: User) -> None:
    if actor.id != request.requester_id:
        raise PermissionDenied(_("Only the requester can withdraw this request."))
    end_matches_of_request(request)
    move_request(request, R.CANCELLED)
    notices.tell_requester(request, "cancelled")
    db.session.flush()


def answer_nudge(request: HelpRequest, actor: User, still_needed: bool) -> None:
    """The requester's answer to "do you still need help?"."""
    if actor.id != request.requester_id:
        raise PermissionDenied(_("Only the requester can answer this."))
    if request.state not in (R.OPEN, R.PROPOSED, R.MATCHED):
        raise MatchRefused(_("This request is already closed."))
    if still_needed:
        request.state_changed_at, request.nudged_at = utcnow(), None
        db.session.flush()
        return
    active = db.session.scalar(select(Match).where(Match.request_id == request.id, Match.state == M.MATCHED))
    if active is not None:
        fulfil(active, actor)
    else:
        cancel_request(request, actor)


# -- contact, once both accepted ----------------------------------------------------------------
@dataclass(frozen=True)
class Contact:
    name: str
    email: str
    phone: str | None
    note: str | None  #: the helper's note, or the requester's address
    latitude: float | None
    longitude: float | None
    #: between the offer's and the request's exact points, for the two sides only; None without both points
    distance_km: float | None = None


def counterpart_contact(match: Match, viewer: User) -> Contact:
    """The other side's contact and exact place: only for the two sides, only once both accepted."""
    if viewer.id not in (match.offer.owner_id, match.request.requester_id):
        raise PermissionDenied(_("This match is not yours."))
    if not match.both_accepted or match.state not in (M.MATCHED, M.FULFILLED):
        raise ContactHidden(_("Contact details are shown once both of you have accepted."))
    offer, request = match.offer, match.request
    between = None
    if None not in (offer.latitude, offer.longitude, request.latitude, request.longitude) and not offer.remote:
        between = round(geo.distance_km(offer.latitude, offer.longitude, request.latitude, request.longitude), 1)
    if viewer.id == request.requester_id:
        return Contact(offer.owner.name, offer.owner.email, offer.contact_phone, offer.contact_note,
                       offer.latitude, offer.longitude, between)
    return Contact(request.requester.name, request.requester.email, request.contact_phone, request.address,
                   request.latitude, request.longitude, between)


# -- upkeep (periodic) --------------------------------------------------------------------------
def expire_quiet_matches(now=None) -> int:
    """Proposals nobody answered in time expire; their requests reopen and requesters are told."""
    now = now or utcnow()
    quiet = db.session.scalars(select(Match).where(Match.state == M.PROPOSED, Match.expires_at < now)
                               .with_for_update(skip_locked=True)).all()
    for match in quiet:
        end_match(match, M.EXPIRED)
    return len(quiet)


def nudge_waiting_requesters(now=None) -> int:
    """Ask requesters whose request has not moved for a while whether they still need help (once per wait)."""
    now = now or utcnow()
    since = now - timedelta(hours=int(setting("MUTUAL_AID_NUDGE_AFTER_HOURS")))
    waiting = db.session.scalars(select(HelpRequest).where(
        HelpRequest.state.in_((R.OPEN, R.PROPOSED, R.MATCHED)), HelpRequest.state_changed_at < since,
        HelpRequest.hidden_at.is_(None),
        or_(HelpRequest.nudged_at.is_(None), HelpRequest.nudged_at < since)).limit(1000)
        .with_for_update(skip_locked=True)).all()
    for request in waiting:
        request.nudged_at = now
        notices.tell_requester(request, "still_need_help")
    db.session.flush()
    return len(waiting)


# -- reading ------------------------------------------------------------------------------------
def matches_of_request(request: HelpRequest) -> list[Match]:
    return list(db.session.scalars(select(Match).where(Match.request_id == request.id)
                                   .options(joinedload(Match.offer)).order_by(Match.id.desc())))


def matches_of_offer(offer: Offer) -> list[Match]:
    return list(db.session.scalars(select(Match).where(Match.offer_id == offer.id)
                                   .options(joinedload(Match.request)).order_by(Match.id.desc())))


def matches_of(user: User) -> list[Match]:
    return list(db.session.scalars(
        select(Match).join(Offer, Offer.id == Match.offer_id).join(HelpRequest, HelpRequest.id == Match.request_id)
        .where(or_(Offer.owner_id == user.id, HelpRequest.requester_id == user.id))
        .options(joinedload(Match.offer), joinedload(Match.request)).order_by(Match.id.desc()).limit(100)))
