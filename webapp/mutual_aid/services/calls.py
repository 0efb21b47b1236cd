"""Solidarity calls: recorded in bulk by the database at activation, opened by members, channel opt-outs."""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import and_, exists, func, literal, null, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload

from webapp.accounts.models import OriginRegion, User
from webapp.clock import utcnow
from webapp.errors import DomainError, TokenInvalid
from webapp.extensions import db
from webapp.mutual_aid.models import (
    AUDIENCE_PRIORITY,
    Audience,
    CallDelivery,
    CallState,
    Channel,
    ChannelPreference,
    CommitmentState,
    DeliveryState,
    DisasterEvent,
    EventRegion,
    SolidarityCall,
    StandingCommitment,
)
from webapp.mutual_aid.places import CELL_HALF_DIAGONAL_KM, distance_sql, point_cell_centre_sql

_CALL_COLUMNS = ["event_id", "user_id", "audience", "state", "commitment_id", "created_at"]


def dialect_insert(model):
    """INSERT with ON CONFLICT support: the PostgreSQL or SQLite flavour, as the engine needs."""
    name = db.session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(model)
    if name == "sqlite":
        return sqlite.insert(model)
    raise RuntimeError(f"mutual aid needs PostgreSQL or SQLite, not {name}")


def lives_near(event: DisasterEvent, region_column, lat_column, lon_column, *, negatable: bool = False):
    """SQL condition: a residence in one of the event's regions, or whose grid cell reaches within its radius of
    the centre (never the exact point: see below).

    `negatable` gives a condition whose NOT is true for a member with no region (NULL IN (...) is NULL).
    """
    if negatable:
        region_column = func.coalesce(region_column, "")
    condition = region_column.in_(select(EventRegion.region_code).where(EventRegion.event_id == event.id))
    if event.radius_km and event.centre_latitude is not None:
        # Measured from the centre of the member's cell, widened by half a cell's diagonal: nobody inside the
        # radius is missed, and the counts the coordinator previews (activate page) move only when a cell
        # crosses the circle, so moving a draft's centre and radius cannot pin a residence down.
        within = and_(lat_column.is_not(None), lon_column.is_not(None),
                      distance_sql(point_cell_centre_sql(lat_column), point_cell_centre_sql(lon_column),
                                   event.centre_latitude, event.centre_longitude)
                      <= event.radius_km + CELL_HALF_DIAGONAL_KM)
        condition = or_(condition, within)
    return condition


def audience_select(event: DisasterEvent, audience: Audience, now: datetime):
    """SELECT of (event_id, user_id, audience, state, commitment_id, created_at) for one audience."""
    head = (literal(event.id), literal(audience.value), literal(CallState.QUEUED.value))
    active = User.suspended_at.is_(None)
    if audience == Audience.NEAR:
        near = lives_near(event, User.residence_region, User.latitude, User.longitude)
        return select(head[0], User.id, head[1], head[2], null(), literal(now)).where(active, near)
    if audience == Audience.DIASPORA:
        from_area = exists().where(OriginRegion.user_id == User.id,
                                   OriginRegion.region_code.in_(
                                       select(EventRegion.region_code).where(EventRegion.event_id == event.id)))
        elsewhere = ~lives_near(event, User.residence_region, User.latitude, User.longitude, negatable=True)
        return select(head[0], User.id, head[1], head[2], null(), literal(now)).where(active, from_area, elsewhere)
    if audience == Audience.COMMITTED:
        from webapp.mutual_aid.services.commitments import spent_sql

        spent = spent_sql(User.id, now.year)
        return (select(head[0], User.id, head[1], head[2], func.min(StandingCommitment.id), literal(now))
                .join(StandingCommitment, StandingCommitment.user_id == User.id)
                .where(active, StandingCommitment.state == CommitmentState.ACTIVE,
                       StandingCommitment.region_code.in_(
                           select(EventRegion.region_code).where(EventRegion.event_id == event.id)),
                       spent < StandingCommitment.yearly_cap_amount)
                .group_by(User.id))
    raise ValueError(audience)


def record_calls(event: DisasterEvent) -> dict[Audience, int]:
    """One INSERT ... SELECT per audience, in priority order; the unique (event, member) keeps the first.

    Then one INSERT ... SELECT per channel writes the deliveries the workers will send. A constant
    number of statements, whatever the number of members.
    """
    now = utcnow()
    recorded: dict[Audience, int] = {}
    for audience in AUDIENCE_PRIORITY:
        stmt = (dialect_insert(SolidarityCall)
                .from_select(_CALL_COLUMNS, audience_select(event, audience, now))
                .on_conflict_do_nothing(index_elements=["event_id", "user_id"])
                .execution_options(preserve_rowcount=True))
        recorded[audience] = max(db.session.execute(stmt).rowcount or 0, 0)
    record_deliveries(event)
    return recorded


def record_deliveries(event: DisasterEvent) -> None:
    columns = ["call_id", "event_id", "channel", "state", "attempts"]
    pref = ChannelPreference

    def rows(channel: Channel):
        return select(SolidarityCall.id, literal(event.id), literal(channel.value),
                      literal(DeliveryState.QUEUED.value), literal(0))

    selects = {
        Channel.INAPP: rows(Channel.INAPP).where(SolidarityCall.event_id == event.id),
        Channel.EMAIL: rows(Channel.EMAIL).outerjoin(pref, pref.user_id == SolidarityCall.user_id)
        .where(SolidarityCall.event_id == event.id, pref.email_opted_out_at.is_(None)),
        Channel.SMS: rows(Channel.SMS).join(pref, pref.user_id == SolidarityCall.user_id)
        .where(SolidarityCall.event_id == event.id, pref.sms_number.is_not(None), pref.sms_opted_out_at.is_(None)),
    }
    for select_rows in selects.values():
        db.session.execute(dialect_insert(CallDelivery).from_select(columns, select_rows)
                           .on_conflict_do_nothing(index_elements=["call_id", "channel"]))


# -- members ------------------------------------------------------------------------------------
def calls_of(user: User) -> list[SolidarityCall]:
    return list(db.session.scalars(
        select(SolidarityCall).where(SolidarityCall.user_id == user.id)
        .options(joinedload(SolidarityCall.event)).order_by(SolidarityCall.id.desc()).limit(100)))


def call_for(call_id: int, user: User) -> SolidarityCall | None:
    call = db.session.get(SolidarityCall, call_id)
    return call if call is not None and call.user_id == user.id else None


def open_call(call: SolidarityCall, via: Channel = Channel.INAPP) -> bool:
    """Mark the call opened, once; True the first time. A conditional UPDATE: two tabs count once."""
    result = db.session.execute(
        update(SolidarityCall).where(SolidarityCall.id == call.id, SolidarityCall.opened_at.is_(None))
        .values(state=CallState.OPENED, opened_at=utcnow(), opened_via=via)
        .execution_options(synchronize_session=False))
    if result.rowcount:
        db.session.refresh(call)
    return bool(result.rowcount)


# -- channels and opt-outs ----------------------------------------------------------------------
def preference_of(user: User) -> ChannelPreference:
    pref = db.session.scalar(select(ChannelPreference).where(ChannelPreference.user_id == user.id))
    if pref is None:
        pref = ChannelPreference(user_id=user.id)
        db.session.add(pref)
        db.session.flush()
    return pref


def set_preferences(user: User, *, email: bool, sms: bool, sms_number: str | None) -> ChannelPreference:
    pref = preference_of(user)
    number = normalize_phone(sms_number)
    if sms and not number:
        raise DomainError(_("Give a mobile number in international form (+229...) to get calls by SMS."))
    now = utcnow()
    pref.email_opted_out_at = None if email else (pref.email_opted_out_at or now)
    pref.sms_opted_out_at = None if sms else (pref.sms_opted_out_at or now)
    pref.sms_number = number
    pref.updated_at = now
    db.session.flush()
    return pref


def normalize_phone(number: str | None) -> str | None:
    digits = "".join(ch for ch in (number or "") if ch.isdigit())
    if not digits:
        return None
    if not (number or "").strip().startswith("+") or not 8 <= len(digits) <= 15:
        raise DomainError(_("Write the number in international form, for instance +229 97 00 00 00."))
    return "+" + digits


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="mutual-aid-unsubscribe")


def unsubscribe_token(user_id: int, channel: Channel) -> str:
    """A link that opts the member out of one channel; signed, so it needs no sign-in and no storage."""
    return _serializer().dumps({"u": user_id, "c": channel.value})


def read_unsubscribe_token(token: str) -> tuple[User, Channel]:
    try:
        data = _serializer().loads(token)
        user, channel = db.session.get(User, int(data["u"])), Channel(data["c"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise TokenInvalid(_("This unsubscribe link is not valid. Change your channels on your calls page.")) \
            from None
    if user is None or channel == Channel.INAPP:
        raise TokenInvalid(_("This unsubscribe link is not valid. Change your channels on your calls page."))
    return user, channel


def opt_out(user: User, channel: Channel) -> None:
    """Stop this channel for future calls, and for the calls of this member not yet sent on it."""
    pref = preference_of(user)
    now = utcnow()
    if channel == Channel.EMAIL:
        pref.email_opted_out_at = pref.email_opted_out_at or now
    elif channel == Channel.SMS:
        pref.sms_opted_out_at = pref.sms_opted_out_at or now
    pref.updated_at = now
    db.session.execute(
        update(CallDelivery).where(CallDelivery.channel == channel, CallDelivery.state == DeliveryState.QUEUED,
                                   CallDelivery.call_id.in_(select(SolidarityCall.id)
                                                            .where(SolidarityCall.user_id == user.id)))
        .values(state=DeliveryState.FAILED, failure_reason="opted out")
        .execution_options(synchronize_session=False))
    db.session.flush()
