"""Solidarity calls: who is called, once each, written by the database in bulk, delivered once per channel."""
from __future__ import annotations

import smtplib
from contextlib import contextmanager
from datetime import timedelta

import pytest
from flask import url_for
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from tests.mutual_aid.conftest import ABOMEY_CALAVI, COTONOU, LYON, PARAKOU, PORTO_NOVO, draft, member
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.mutual_aid import tasks
from webapp.mutual_aid.models import (
    Audience,
    CallDelivery,
    CallState,
    Channel,
    CommitmentState,
    DeliveryState,
    Notification,
    SolidarityCall,
    StandingCommitment,
)
from webapp.mutual_aid.services import calls, delivery, events


class RecordingSms:
    def __init__(self):
        self.sent: list[tuple[str, str, str]] = []

    def send(self, number: str, text: str, *, reference: str) -> None:
        self.sent.append((number, text, reference))


@pytest.fixture
def sms(app):
    recorder = RecordingSms()
    app.extensions["mutual_aid.sms"] = recorder
    yield recorder
    app.extensions.pop("mutual_aid.sms", None)


def audiences(event) -> dict[str, str]:
    rows = db.session.execute(select(SolidarityCall.user_id, SolidarityCall.audience)
                              .where(SolidarityCall.event_id == event.id)).all()
    from webapp.accounts.models import User

    return {db.session.get(User, uid).email: audience.value for uid, audience in rows}


def commitment(user, region="BJ-LI", state=CommitmentState.ACTIVE):
    item = StandingCommitment(user_id=user.id, region_code=region, max_amount=50_000, yearly_cap_amount=100_000,
                              currency="XOF", state=state, customer_id="cus_1", payment_method_id="pm_1")
    db.session.add(item)
    db.session.flush()
    return item


@contextmanager
def counted_statements():
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.engine
    sa_event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa_event.remove(engine, "before_cursor_execute", record)


def test_each_audience_is_reached_and_each_member_once_whatever_the_audiences(coordinator, relief_org):
    member("littoral@example.org", region="BJ-LI")
    member("atlantique@example.org", region="BJ-AQ", at=ABOMEY_CALAVI)
    member("radius@example.org", region="BJ-OU", at=PORTO_NOVO)  # Ouémé: only the radius brings them in
    member("nurse@example.org", region="FR-ARA", at=LYON, origins=("BJ-LI", "BJ-AQ"))
    member("no-residence@example.org", origins=("BJ-AQ",))
    member("home-and-origin@example.org", region="BJ-LI", origins=("BJ-LI",))
    member("far@example.org", region="BJ-BO", at=PARAKOU)
    member("elsewhere@example.org", region="GB-ENG", origins=("SN-DK",))
    member("suspended@example.org", region="BJ-LI", suspended_at=utcnow())
    all_three = member("all-three@example.org", region="BJ-LI", origins=("BJ-AQ",))
    commitment(all_three)
    pledger = member("pledger@example.org", region="FR-IDF", origins=("BJ-LI",))
    commitment(pledger, "BJ-AQ")
    cancelled = member("cancelled@example.org", region="FR-IDF", origins=("BJ-LI",))
    commitment(cancelled, "BJ-LI", state=CommitmentState.CANCELLED)
    event = events.create_event(coordinator, draft(relief_org.id, centre_latitude=COTONOU[0],
                                                   centre_longitude=COTONOU[1], radius_km=50))
    done = events.activate(event, coordinator)
    assert audiences(event) == {
        "chantal@example.org": "near", "littoral@example.org": "near", "atlantique@example.org": "near",
        "radius@example.org": "near", "home-and-origin@example.org": "near", "all-three@example.org": "near",
        "nurse@example.org": "diaspora", "no-residence@example.org": "diaspora",
        "pledger@example.org": "committed", "cancelled@example.org": "diaspora",
    }
    assert done.calls == {Audience.NEAR: 6, Audience.COMMITTED: 1, Audience.DIASPORA: 3}


def test_a_committed_member_of_the_diaspora_is_called_as_committed(coordinator, relief_org):
    nurse = member("nurse@example.org", region="FR-ARA", origins=("BJ-LI",))
    commitment(nurse, "BJ-LI")
    event = events.create_event(coordinator, draft(relief_org.id))
    events.activate(event, coordinator)
    call = db.session.scalar(select(SolidarityCall).where(SolidarityCall.user_id == nurse.id))
    assert call.audience == Audience.COMMITTED and call.commitment_id is not None


def test_calls_are_written_by_a_fixed_number_of_statements_whatever_the_number_of_members(coordinator,
                                                                                          relief_org):
    def activate_with(n: int, name: str) -> tuple[int, int]:
        for i in range(n):
            member(f"{name}-near-{i}@example.org", region="BJ-LI")
            member(f"{name}-dias-{i}@example.org", region="FR-IDF", origins=("BJ-AQ",))
        db.session.flush()
        event = events.create_event(coordinator, draft(relief_org.id, name=name))
        with counted_statements() as statements:
            events.activate(event, coordinator)
        inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT INTO SOLIDARITY_CALLS")]
        return len(statements), len(inserts)

    small = activate_with(3, "small")
    large = activate_with(60, "large")
    assert small == large  # the same statements for 7 members or 127
    assert small[1] == 3  # one INSERT ... SELECT per audience
    # the first event: 3 near, 3 diaspora, the coordinator; the second: those 7 and 120 more
    assert db.session.scalar(select(func.count()).select_from(SolidarityCall)) == 7 + 127


def test_two_overlapping_events_each_call_their_members_and_keep_their_offers(coordinator, relief_org):
    from tests.mutual_aid.conftest import offer_details
    from webapp.mutual_aid.models import Offer, OfferState
    from webapp.mutual_aid.services import posts

    helper = member("helper@example.org", region="BJ-LI", at=COTONOU)
    posts.register_sleeping_offer(helper, offer_details())
    flood = events.create_event(coordinator, draft(relief_org.id, name="Flood"))
    storm = events.create_event(coordinator, draft(relief_org.id, name="Storm", region_codes=("BJ-LI",)))
    events.activate(flood, coordinator)
    events.activate(storm, coordinator)
    assert set(audiences(flood)) == set(audiences(storm)) == {"chantal@example.org", "helper@example.org"}
    published = db.session.scalars(select(Offer).where(Offer.state == OfferState.PUBLISHED)).all()
    assert sorted(o.event_id for o in published) == sorted([flood.id, storm.id])
    assert db.session.scalar(select(func.count()).select_from(Offer).where(Offer.state == OfferState.SLEEPING)) == 1


def test_deliveries_follow_each_members_channels(coordinator, relief_org):
    plain = member("plain@example.org", region="BJ-LI")
    no_email = member("no-email@example.org", region="BJ-LI")
    texter = member("texter@example.org", region="BJ-LI")
    calls.set_preferences(no_email, email=False, sms=False, sms_number=None)
    calls.set_preferences(texter, email=True, sms=True, sms_number="+229 97 00 00 01")
    event = events.create_event(coordinator, draft(relief_org.id))
    events.activate(event, coordinator)
    rows = db.session.execute(select(SolidarityCall.user_id, CallDelivery.channel)
                              .join(CallDelivery, CallDelivery.call_id == SolidarityCall.id)).all()
    by_user: dict[int, set[str]] = {}
    for uid, channel in rows:
        by_user.setdefault(uid, set()).add(channel.value)
    assert by_user[plain.id] == {"inapp", "email"}
    assert by_user[no_email.id] == {"inapp"}
    assert by_user[texter.id] == {"inapp", "email", "sms"}


def test_a_phone_number_must_be_international(coordinator):
    from webapp.errors import DomainError

    with pytest.raises(DomainError, match="international"):
        calls.set_preferences(coordinator, email=True, sms=True, sms_number="97 00 00 01")


def _activate_and_commit(coordinator, relief_org, **overrides):
    event = events.create_event(coordinator, draft(relief_org.id, **overrides))
    events.activate(event, coordinator)
    db.session.commit()
    return event


def test_in_process_delivery_sends_each_channel_once_and_a_rerun_sends_nothing(coordinator, relief_org,
                                                                               smtp_server, sms):
    texter = member("texter@example.org", region="BJ-LI", locale="fr")
    calls.set_preferences(texter, email=True, sms=True, sms_number="+22997000001")
    member("nurse@example.org", region="FR-ARA", origins=("BJ-AQ",))
    event = _activate_and_commit(coordinator, relief_org)
    tasks.dispatch_calls.delay(event.id)
    assert len(smtp_server.wait_for(3)) == 3
    assert len(sms.sent) == 1 and sms.sent[0][0] == "+22997000001" and "STOP" in sms.sent[0][1]
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 3
    assert set(db.session.scalars(select(SolidarityCall.state))) == {CallState.SENT}
    # a rerun, a redelivered batch, the periodic sweep: nothing goes twice
    tasks.dispatch_calls.delay(event.id)
    ids = db.session.scalars(select(CallDelivery.id).where(CallDelivery.channel == Channel.EMAIL)).all()
    tasks.deliver_batch.delay("email", ids)
    tasks.deliver_batch.delay("inapp", db.session.scalars(select(CallDelivery.id)
                                                         .where(CallDelivery.channel == Channel.INAPP)).all())
    tasks.resume_deliveries.delay()
    assert len(smtp_server.messages) == 3 and len(sms.sent) == 1
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 3
    subjects = {m["To"]: m["Subject"] for m in smtp_server.messages}
    assert "votre région d'origine" not in subjects["nurse@example.org"]  # English member, English mail
    assert "Floods in Cotonou" in subjects["texter@example.org"]


def test_each_email_says_what_the_audience_can_do_and_has_a_working_unsubscribe_link(
        coordinator, relief_org, smtp_server, client):
    nurse = member("nurse@example.org", region="FR-ARA", origins=("BJ-AQ",))
    event = _activate_and_commit(coordinator, relief_org)
    tasks.dispatch_calls.delay(event.id)
    messages = {m["To"]: m for m in smtp_server.wait_for(2)}
    mail = messages["nurse@example.org"]
    body = smtp_server.text_of(mail)
    assert "emergency fund" in body and event.public_message in body
    link = mail["List-Unsubscribe"].strip("<>")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in body
    path = link.split("harambee.test", 1)[1]
    page = client.get(path)
    assert page.status_code == 200 and "Unsubscribe" in page.get_data(as_text=True)
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 204
    db.session.expire_all()
    assert calls.preference_of(nurse).email_opted_out_at is not None
    # the next event calls the nurse in-app only
    second = _activate_and_commit(coordinator, relief_org, name="Second flood")
    channels = db.session.scalars(select(CallDelivery.channel).join(SolidarityCall)
                                  .where(SolidarityCall.event_id == second.id,
                                         SolidarityCall.user_id == nurse.id)).all()
    assert channels == [Channel.INAPP]


def test_a_forged_unsubscribe_link_is_refused(client):
    response = client.get(url_for("mutual_aid.unsubscribe", token="eyJ1IjoxLCJjIjoiZW1haWwifQ.forged"))
    assert response.status_code == 400
    assert "not valid" in response.get_data(as_text=True)


def test_a_delivery_claimed_by_another_worker_is_skipped_until_its_lease_passes(coordinator, relief_org, app):
    member("near@example.org", region="BJ-LI")
    event = _activate_and_commit(coordinator, relief_org)
    delivery_id = db.session.scalar(select(CallDelivery.id).where(CallDelivery.channel == Channel.EMAIL).limit(1))
    assert delivery.claim(delivery_id) is True
    db.session.commit()
    assert delivery.claim(delivery_id) is False  # a second worker, or the same task redelivered
    lease = app.config["MUTUAL_AID_CLAIM_LEASE_SECONDS"]
    assert delivery.claim(delivery_id, now=utcnow() + timedelta(seconds=lease - 5)) is False
    assert delivery.claim(delivery_id, now=utcnow() + timedelta(seconds=lease + 5)) is True  # the worker died
    assert db.session.get(CallDelivery, delivery_id, populate_existing=True).attempts == 2
    assert db.session.get(CallDelivery, delivery_id).event_id == event.id


def test_a_refused_connection_is_retried_later_with_its_reason_then_fails_for_good(coordinator, relief_org, app,
                                                                                   monkeypatch):
    member("near@example.org", region="BJ-LI")
    _activate_and_commit(coordinator, relief_org)
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=9)  # nothing listens there
    monkeypatch.setitem(app.config, "MUTUAL_AID_MAX_ATTEMPTS", 2)
    try:
        ids = db.session.scalars(select(CallDelivery.id).where(CallDelivery.channel == Channel.EMAIL)).all()
        tasks.deliver_batch.delay("email", ids)
        rows = db.session.scalars(select(CallDelivery).where(CallDelivery.channel == Channel.EMAIL)
                                  .execution_options(populate_existing=True)).all()
        assert {r.state for r in rows} == {DeliveryState.QUEUED}
        assert all(r.retry_at > utcnow() and "ConnectionRefused" in r.failure_reason for r in rows)
        # the same batch again before its time: nothing is attempted
        tasks.deliver_batch.delay("email", ids)
        assert {r.attempts for r in db.session.scalars(select(CallDelivery).where(CallDelivery.id.in_(ids))
                                                       .execution_options(populate_existing=True))} == {1}
        for row in rows:
            row.retry_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        tasks.deliver_batch.delay("email", ids)
        rows = db.session.scalars(select(CallDelivery).where(CallDelivery.id.in_(ids))
                                  .execution_options(populate_existing=True)).all()
        assert {(r.state, r.attempts) for r in rows} == {(DeliveryState.FAILED, 2)}
        # in-app is still to come, so the call itself has not failed
        assert set(db.session.scalars(select(SolidarityCall.state))) == {CallState.QUEUED}
        tasks.dispatch_calls.delay(db.session.scalar(select(SolidarityCall.event_id).limit(1)))
        assert set(db.session.scalars(select(SolidarityCall.state)
                                      .execution_options(populate_existing=True))) == {CallState.SENT}
    finally:
        app.config.update(MAIL_BACKEND="log")


def test_a_permanent_refusal_fails_at_once_with_the_servers_words(coordinator, relief_org, monkeypatch):
    member("near@example.org", region="BJ-LI")
    _activate_and_commit(coordinator, relief_org)

    def refuse(_session, message):
        raise smtplib.SMTPRecipientsRefused({message.to: (550, b"5.1.1 no such mailbox")})

    monkeypatch.setattr(delivery.SmtpSession, "send", refuse)  # the batch's one connection
    ids = db.session.scalars(select(CallDelivery.id).where(CallDelivery.channel == Channel.EMAIL)).all()
    tasks.deliver_batch.delay("email", ids)
    rows = db.session.scalars(select(CallDelivery).where(CallDelivery.id.in_(ids))
                              .execution_options(populate_existing=True)).all()
    assert {(r.state, r.attempts) for r in rows} == {(DeliveryState.FAILED, 1)}
    assert all("550" in r.failure_reason for r in rows)


def test_the_backoff_doubles(app):
    base = app.config["MUTUAL_AID_RETRY_BASE_SECONDS"]
    assert [delivery.backoff_seconds(n) for n in (1, 2, 3, 4)] == [base, 2 * base, 4 * base, 8 * base]


def test_opening_a_call_marks_it_opened_once_and_says_which_channel(coordinator, relief_org, signed_in):
    nurse = member("nurse@example.org", region="FR-ARA", origins=("BJ-AQ",))
    event = _activate_and_commit(coordinator, relief_org)
    tasks.dispatch_calls.delay(event.id)
    call = db.session.scalar(select(SolidarityCall).where(SolidarityCall.user_id == nurse.id))
    client = signed_in(nurse)
    page = client.get(url_for("mutual_aid.show_call", call_id=call.id, via="email"))
    assert page.status_code == 200 and "Give to the emergency fund" in page.get_data(as_text=True)
    client.get(url_for("mutual_aid.show_call", call_id=call.id))
    db.session.expire_all()
    call = db.session.get(SolidarityCall, call.id)
    assert call.state == CallState.OPENED and call.opened_via == Channel.EMAIL
    note = db.session.scalar(select(Notification).where(Notification.call_id == call.id))
    assert note.read_at is not None


def test_nobody_opens_someone_elses_call(coordinator, relief_org, signed_in):
    nurse = member("nurse@example.org", region="FR-ARA", origins=("BJ-AQ",))
    other = member("other@example.org", region="GB-ENG")
    _activate_and_commit(coordinator, relief_org)
    call = db.session.scalar(select(SolidarityCall).where(SolidarityCall.user_id == nurse.id))
    assert signed_in(other).get(url_for("mutual_aid.show_call", call_id=call.id)).status_code == 404
    assert db.session.get(SolidarityCall, call.id).opened_at is None


def test_the_coordinator_sees_calls_per_audience_and_channel(coordinator, relief_org, signed_in, smtp_server):
    member("nurse@example.org", region="FR-ARA", origins=("BJ-AQ",))
    event = _activate_and_commit(coordinator, relief_org)
    tasks.dispatch_calls.delay(event.id)
    page = signed_in(coordinator).get(url_for("mutual_aid.coordinate", slug=event.slug)).get_data(as_text=True)
    assert 'data-audience="diaspora" data-channel="email"' in page
    from webapp.mutual_aid.services import figures

    shown = figures.call_figures(event)
    assert shown.cell("diaspora", "email") == {"sent": 1}
    assert shown.cell("near", "inapp") == {"sent": 1}
    assert shown.calls == {"near": 1, "diaspora": 1}
    listing = signed_in(coordinator).get(url_for("mutual_aid.event_calls", slug=event.slug)).get_data(as_text=True)
    assert listing.count('<td data-label="Call">#') == 2 and "nurse@example.org" not in listing


def test_the_email_rendered_once_per_language_is_the_one_rendered_for_each_call(coordinator, relief_org):
    """A batch renders the call email once per event, audience and language and fills in each member's
    name and links: the result is the message call_email() renders for that call alone."""
    member("near@example.org", region="BJ-LI", name="Awa Near")
    member("other@example.org", region="BJ-LI", name="Kossi {{ not a template }} \\1")
    member("far@example.org", region="FR-ARA", origins=("BJ-AQ",), locale="fr")
    # Arabic mail has an HTML part: a name is text there too (escaped, never markup)
    member("amal@example.org", region="BJ-LI", name="Amal <b>& co</b>", locale="ar")
    _activate_and_commit(coordinator, relief_org)
    cache = delivery._MessageCache()
    calls_ = db.session.scalars(select(SolidarityCall)).all()
    assert len(calls_) >= 3
    for call in calls_:
        assert cache.email(call) == delivery.call_email(call)
    kinds = {(c.event_id, c.audience, c.user.locale) for c in calls_}
    assert len(cache.rendered) == len(kinds) < len(calls_)  # once per event, audience and language
