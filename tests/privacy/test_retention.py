"""The retention purge: only what is past its period goes, a second run changes nothing, batches are bounded."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tests.factories import (
    PASSWORD,
    CampaignFactory,
    DisasterEventFactory,
    HelpRequestFactory,
    InvitationFactory,
    NotificationFactory,
    OfferFactory,
    PledgeFactory,
    SolidarityCallFactory,
    UserFactory,
)
from webapp.accounts.models import User
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.jobs import PERIODIC
from webapp.mutual_aid.models import HelpRequest, Notification, RequestState
from webapp.organizations.models import Invitation
from webapp.payments.models import Pledge
from webapp.privacy.models import AccountErasure, ErasureReason
from webapp.privacy.services import erasure, retention
from webapp.privacy.settings import setting


def days_ago(days: float):
    return utcnow() - timedelta(days=days)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_unverified_accounts_past_their_period_are_erased_and_the_others_kept():
    period = setting("PRIVACY_UNVERIFIED_ACCOUNT_DAYS")
    old = UserFactory(email="never-confirmed@example.org", created_at=days_ago(period + 1))
    recent = UserFactory(email="just-signed-up@example.org", created_at=days_ago(period - 1))
    confirmed = UserFactory(email="confirmed@example.org", verified=True, created_at=days_ago(period + 100))
    backer = UserFactory(email="unconfirmed-backer@example.org", created_at=days_ago(period + 1))
    PledgeFactory(user=backer)

    counts = retention.purge_all()

    assert counts["unverified_accounts"] == 1
    db.session.expire_all()
    assert db.session.get(User, old.id).email.endswith("@deleted.invalid")
    assert db.session.scalar(select(AccountErasure.reason).where(AccountErasure.user_id == old.id)) \
        == ErasureReason.UNVERIFIED
    assert [db.session.get(User, u.id).email for u in (recent, confirmed, backer)] == [
        "just-signed-up@example.org", "confirmed@example.org", "unconfirmed-backer@example.org"]
    assert retention.purge_all()["unverified_accounts"] == 0


def test_invitations_never_accepted_go_after_their_period():
    period = setting("PRIVACY_EXPIRED_INVITATION_DAYS")
    old = InvitationFactory(created_at=days_ago(period + 1))
    recent = InvitationFactory(created_at=days_ago(period - 1))
    accepted = InvitationFactory(created_at=days_ago(period + 1), accepted_at=days_ago(period))
    old_id = old.id

    assert retention.purge_all()["expired_invitations"] == 1
    assert retention.purge_all()["expired_invitations"] == 0
    assert set(db.session.scalars(select(Invitation.id))) == {recent.id, accepted.id}
    assert db.session.get(Invitation, old_id) is None


def test_closed_requests_lose_their_contact_details_after_their_period():
    period = setting("PRIVACY_CLOSED_REQUEST_CONTACT_DAYS")
    event = DisasterEventFactory()
    old = HelpRequestFactory(event=event, state=RequestState.FULFILLED, state_changed_at=days_ago(period + 1))
    recent = HelpRequestFactory(event=event, state=RequestState.CANCELLED, state_changed_at=days_ago(period - 1))
    running = HelpRequestFactory(event=event, state=RequestState.OPEN, state_changed_at=days_ago(period + 50))

    assert retention.purge_all()["closed_request_contacts"] == 1
    assert retention.purge_all()["closed_request_contacts"] == 0
    db.session.expire_all()
    old, recent, running = (db.session.get(HelpRequest, r.id) for r in (old, recent, running))
    assert (old.address, old.contact_phone, old.latitude, old.longitude) == (None, None, None, None)
    assert (old.cell_lat, old.region_code, old.household_size) == (63, "BJ-LI", 3)  # figures stay
    assert recent.address == "Lot 12, Akpakpa" and running.address == "Lot 12, Akpakpa"


def test_delivered_call_messages_and_read_notices_go_after_their_periods():
    calls_period, notices_period = setting("PRIVACY_DELIVERED_CALL_DAYS"), setting("PRIVACY_READ_NOTICE_DAYS")
    old_call, new_call = SolidarityCallFactory(), SolidarityCallFactory()
    old_message = NotificationFactory(user_id=old_call.user_id, kind="call", call_id=old_call.id,
                                      created_at=days_ago(calls_period + 1))
    new_message = NotificationFactory(user_id=new_call.user_id, kind="call", call_id=new_call.id,
                                      created_at=days_ago(calls_period - 1))
    read_long_ago = NotificationFactory(read_at=days_ago(notices_period + 1), created_at=days_ago(notices_period + 2))
    read_lately = NotificationFactory(read_at=days_ago(notices_period - 1), created_at=days_ago(notices_period + 2))
    unread = NotificationFactory(created_at=days_ago(notices_period + 100))
    old_message_id, read_long_ago_id = old_message.id, read_long_ago.id

    counts = retention.purge_all()
    assert (counts["delivered_call_messages"], counts["read_notices"]) == (1, 1)
    assert set(db.session.scalars(select(Notification.id))) == {new_message.id, read_lately.id, unread.id}
    assert {old_message_id, read_long_ago_id}.isdisjoint(db.session.scalars(select(Notification.id)))
    assert count(type(old_call)) == 2  # the calls stay: the event's figures


def test_deleted_account_placeholders_are_let_go_after_their_period():
    period = setting("PRIVACY_DELETED_ACCOUNT_DAYS")
    campaign = CampaignFactory(live=True)
    backer, poster, recent = UserFactory(verified=True), UserFactory(verified=True), UserFactory(verified=True)
    pledge = PledgeFactory(user=backer, campaign=campaign)
    offer = OfferFactory(owner=poster)
    for user in (backer, poster, recent):
        erasure.delete_account(user, PASSWORD)
    for user in (backer, poster):
        db.session.scalar(select(AccountErasure).where(AccountErasure.user_id == user.id)).erased_at = \
            days_ago(period + 1)
    db.session.flush()
    backer_id, poster_id, recent_id, amount = backer.id, poster.id, recent.id, pledge.amount

    assert retention.purge_all()["deleted_account_placeholders"] == 2
    assert retention.purge_all()["deleted_account_placeholders"] == 0
    db.session.expire_all()
    # The pledge stays, as the money record of nobody; the placeholder it pointed to is gone.
    pledge = db.session.get(Pledge, pledge.id)
    assert (pledge.user_id, pledge.amount) == (None, amount)
    assert db.session.get(User, backer_id) is None
    # An offer still points at the other placeholder: it stays, empty.
    assert db.session.get(User, poster_id).name == "Deleted member" and offer.owner_id == poster_id
    assert db.session.get(User, recent_id) is not None
    assert count(AccountErasure, AccountErasure.finalized_at.is_not(None)) == 2


def test_each_purge_handles_one_batch_per_run(app):
    period = setting("PRIVACY_EXPIRED_INVITATION_DAYS")
    for _ in range(5):
        InvitationFactory(created_at=days_ago(period + 1))
    app.config["PRIVACY_PURGE_BATCH"] = 2
    try:
        runs = [retention.purge_all()["expired_invitations"] for _ in range(4)]
    finally:
        app.config["PRIVACY_PURGE_BATCH"] = 500
    assert runs == [2, 2, 1, 0]


def test_the_purge_is_a_periodic_job_and_a_command(app):
    from webapp.privacy.tasks import purge_expired_data

    assert "privacy.purge_expired_data" in {job.task for job in PERIODIC}
    period = setting("PRIVACY_EXPIRED_INVITATION_DAYS")
    InvitationFactory(created_at=days_ago(period + 1))
    InvitationFactory(created_at=days_ago(period + 1))
    db.session.commit()

    assert purge_expired_data.apply().get()["expired_invitations"] == 1 + 1
    InvitationFactory(created_at=days_ago(period + 1))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["privacy", "purge"])
    assert result.exit_code == 0, result.output
    assert "expired_invitations: 1" in result.output
    assert count(Invitation) == 0


def test_login_records_go_once_ended_or_idle_past_their_period_and_live_ones_stay():
    from webapp.accounts.models import UserSession

    period = setting("PRIVACY_LOGIN_RECORD_DAYS")
    member = UserFactory()
    keys = [UserSession.open(member, "Firefox · Linux") for _ in range(4)]
    db.session.flush()
    rows = db.session.scalars(select(UserSession).where(UserSession.user_id == member.id)
                              .order_by(UserSession.id)).all()
    assert len(rows) == len(keys) == 4
    ended_long_ago, idle_long_ago, ended_recently, live = rows
    ended_long_ago.revoked_at = days_ago(period + 1)
    idle_long_ago.last_seen_at = days_ago(period + 1)
    ended_recently.revoked_at = days_ago(period - 1)
    live_id, recent_id = live.id, ended_recently.id
    db.session.flush()

    assert retention.purge_all()["login_records"] == 2
    assert retention.purge_all()["login_records"] == 0
    assert set(db.session.scalars(select(UserSession.id).where(UserSession.user_id == member.id))) \
        == {live_id, recent_id}
