"""The scheduled purge: what is past its retention period (webapp/privacy/settings.py) is erased.

Each purge handles at most PRIVACY_PURGE_BATCH rows per run and selects only what is still to do,
so running it again changes nothing, and a backlog drains over several runs. Flushes; the task or
the command commits.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update

from webapp.accounts.models import User, UserSession
from webapp.clock import utcnow
from webapp.errors import DomainError
from webapp.extensions import db
from webapp.mutual_aid.models import CallDelivery, HelpRequest, Notification, Offer, RequestState
from webapp.organizations.models import Invitation, Membership
from webapp.payments.models import Pledge
from webapp.privacy.models import AccountErasure, ErasureReason
from webapp.privacy.services import erasure
from webapp.privacy.settings import setting

log = logging.getLogger(__name__)

Purge = Callable[[datetime, int], int]
#: (name, purge(now, batch) -> rows handled); a domain with data to expire adds its own
_PURGES: list[tuple[str, Purge]] = []


def purge(name: str) -> Callable[[Purge], Purge]:
    def register(fn: Purge) -> Purge:
        if all(existing != name for existing, _fn in _PURGES):
            _PURGES.append((name, fn))
        return fn

    return register


def purge_all(now: datetime | None = None) -> dict[str, int]:
    now = now or utcnow()
    batch = setting("PRIVACY_PURGE_BATCH")
    return {name: fn(now, batch) for name, fn in _PURGES}


def _before(now: datetime, key: str) -> datetime:
    return now - timedelta(days=setting(key))


@purge("unverified_accounts")
def purge_unverified_accounts(now: datetime, batch: int) -> int:
    """Accounts whose address was never confirmed, and that hold nothing (no pledge, organization or post),
    are erased like a deleted account, without an email. One that holds something waits for its member."""
    erased = select(AccountErasure.user_id).where(AccountErasure.user_id.is_not(None))
    holds = [select(Pledge.id).where(Pledge.user_id == User.id).exists(),
             select(Membership.id).where(Membership.user_id == User.id).exists(),
             select(Offer.id).where(Offer.owner_id == User.id).exists(),
             select(HelpRequest.id).where(HelpRequest.requester_id == User.id).exists()]
    users = db.session.scalars(select(User).where(
        User.email_verified_at.is_(None), User.created_at < _before(now, "PRIVACY_UNVERIFIED_ACCOUNT_DAYS"),
        User.id.not_in(erased), *[~h for h in holds]).order_by(User.id).limit(batch)).all()
    done = 0
    for user in users:
        try:
            erasure.erase_account(user, ErasureReason.UNVERIFIED, tell_member=False)
        except DomainError as exc:  # the last owner of an organization: left for a person to decide
            log.info("unverified account %s kept: %s", user.id, exc)
            continue
        done += 1
    return done


@purge("expired_invitations")
def purge_expired_invitations(now: datetime, batch: int) -> int:
    ids = db.session.scalars(select(Invitation.id).where(
        Invitation.accepted_at.is_(None), Invitation.created_at < _before(now, "PRIVACY_EXPIRED_INVITATION_DAYS"))
        .order_by(Invitation.id).limit(batch)).all()
    if ids:
        db.session.execute(delete(Invitation).where(Invitation.id.in_(ids)))
    return len(ids)


@purge("closed_request_contacts")
def purge_closed_request_contacts(now: datetime, batch: int) -> int:
    """A fulfilled or cancelled request no longer needs its address, phone or exact point."""
    ids = db.session.scalars(select(HelpRequest.id).where(
        HelpRequest.state.in_((RequestState.FULFILLED, RequestState.CANCELLED)),
        HelpRequest.state_changed_at < _before(now, "PRIVACY_CLOSED_REQUEST_CONTACT_DAYS"),
        or_(HelpRequest.address.is_not(None), HelpRequest.contact_phone.is_not(None),
            HelpRequest.latitude.is_not(None), HelpRequest.longitude.is_not(None)))
        .order_by(HelpRequest.id).limit(batch)).all()
    if ids:
        db.session.execute(update(HelpRequest).where(HelpRequest.id.in_(ids)).values(
            address=None, contact_phone=None, latitude=None, longitude=None)
            )
    return len(ids)


@purge("delivered_call_messages")
def purge_delivered_call_messages(now: datetime, batch: int) -> int:
    """In-app copies of solidarity calls, and delivery errors (which can quote addresses), after the period.

    The calls themselves stay: without any message, they are the event's figures.
    """
    before = _before(now, "PRIVACY_DELIVERED_CALL_DAYS")
    ids = db.session.scalars(select(Notification.id).where(
        Notification.call_id.is_not(None), Notification.created_at < before)
        .order_by(Notification.id).limit(batch)).all()
    if ids:
        db.session.execute(delete(Notification).where(Notification.id.in_(ids))
                           )
    failures = db.session.scalars(select(CallDelivery.id).where(
        CallDelivery.failure_reason.is_not(None), func.coalesce(CallDelivery.sent_at, CallDelivery.retry_at,
                                                                CallDelivery.claimed_at) < before)
        .order_by(CallDelivery.id).limit(batch)).all()
    if failures:
        db.session.execute(update(CallDelivery).where(CallDelivery.id.in_(failures)).values(failure_reason=None)
                           )
    return len(ids) + len(failures)


@purge("read_notices")
def purge_read_notices(now: datetime, batch: int) -> int:
    ids = db.session.scalars(select(Notification.id).where(
        Notification.call_id.is_(None), Notification.read_at.is_not(None),
        Notification.read_at < _before(now, "PRIVACY_READ_NOTICE_DAYS"))
        .order_by(Notification.id).limit(batch)).all()
    if ids:
        db.session.execute(delete(Notification).where(Notification.id.in_(ids))
                           )
    return len(ids)


@purge("login_records")
def purge_login_records(now: datetime, batch: int) -> int:
    """Sessions that ended (signed out, revoked) or went idle longer than the period: their rows go."""
    cutoff = _before(now, "PRIVACY_LOGIN_RECORD_DAYS")
    ids = db.session.scalars(select(UserSession.id).where(or_(
        UserSession.revoked_at < cutoff, UserSession.last_seen_at < cutoff))
        .order_by(UserSession.id).limit(batch)).all()
    if ids:
        db.session.execute(delete(UserSession).where(UserSession.id.in_(ids))
                           .execution_options(synchronize_session=False))
    return len(ids)


@purge("deleted_account_placeholders")
def purge_deleted_account_placeholders(now: datetime, batch: int) -> int:
    """After the period, a placeholder's pledges are detached (money records of nobody) and the row
    goes where nothing else still points at it (posts, campaigns, funds keep it otherwise)."""
    erasures = db.session.scalars(select(AccountErasure).where(
        AccountErasure.finalized_at.is_(None), AccountErasure.user_id.is_not(None),
        AccountErasure.erased_at < _before(now, "PRIVACY_DELETED_ACCOUNT_DAYS"))
        .order_by(AccountErasure.id).limit(batch)).all()
    for record in erasures:
        user_id = record.user_id
        db.session.execute(update(Pledge).where(Pledge.user_id == user_id).values(user_id=None)
                           )
        record.finalized_at = now
        if not _still_referenced(user_id):
            record.user_id = None
            db.session.flush()
            db.session.execute(delete(User).where(User.id == user_id))
    db.session.flush()
    return len(erasures)


def _still_referenced(user_id: int) -> bool:
    """Whether a row of any table still points at this user (keys that empty themselves aside).

    Cascading keys count too: the erasure already emptied the member's own rows (regions, memberships,
    notices), so what is left (calls received, commitments) is part of other records' figures.
    """
    for table in db.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name != "users" or (fk.ondelete or "").upper() == "SET NULL":
                continue
            if db.session.execute(select(fk.parent).where(fk.parent == user_id).limit(1)).first() is not None:
                return True
    return False
