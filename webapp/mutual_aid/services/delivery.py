"""Sending calls, exactly once per channel: claim with a conditional UPDATE, send, then mark.

The task that drives these commits after the claim and after the mark, so that:
- a redelivered task or a second worker finds the delivery already claimed or sent, and skips it;
- a worker that dies after claiming leaves a claim that is taken back once its lease has passed;
- a failure is kept with its reason and retried later, with a wait that doubles each attempt.

The one window left is between the channel's acknowledgement (SMTP's 250) and our commit of
"sent": a crash there means the message goes out again when the lease passes (at least once,
never lost). It is milliseconds long; X-Harambee-Call names the call so duplicates can be told.
"""
from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, exists, literal, or_, select, update
from sqlalchemy.orm import joinedload

from webapp.clock import utcnow
from webapp.extensions import db
from webapp.mail import SmtpSession, render_email, send_now, text_as_html
from webapp.mutual_aid.models import (
    Audience,
    CallDelivery,
    CallState,
    Channel,
    ChannelPreference,
    DeliveryState,
    DisasterEvent,
    EventState,
    Notification,
    SolidarityCall,
)
from webapp.mutual_aid.services.calls import dialect_insert, unsubscribe_token
from webapp.mutual_aid.settings import setting
from webapp.mutual_aid.sms import SmsError, sms_channel

log = logging.getLogger(__name__)
D = DeliveryState


class Outcome:
    SENT = "sent"
    RETRY = "retry"  #: a temporary failure: queued again for later
    FAILED = "failed"  #: for good
    SKIPPED = "skipped"  #: not ours to send (already sent, claimed elsewhere, opted out)


# -- what is due --------------------------------------------------------------------------------
def _due(now: datetime):
    lease = timedelta(seconds=int(setting("MUTUAL_AID_CLAIM_LEASE_SECONDS")))
    return or_(and_(CallDelivery.state == D.QUEUED,
                    or_(CallDelivery.retry_at.is_(None), CallDelivery.retry_at <= now)),
               and_(CallDelivery.state == D.SENDING, CallDelivery.claimed_at < now - lease))


def due_batches(event_id: int | None = None, batch_size: int | None = None,
                now: datetime | None = None) -> Iterator[tuple[str, list[int]]]:
    """(channel, delivery ids) in batches, for every delivery that is due, streamed from the database."""
    now = now or utcnow()
    size = batch_size or int(setting("MUTUAL_AID_BATCH_SIZE"))
    for channel in Channel:
        q = select(CallDelivery.id).where(CallDelivery.channel == channel, _due(now)).order_by(CallDelivery.id)
        if event_id is not None:
            q = q.where(CallDelivery.event_id == event_id)
        else:  # the sweep: calls of events that still run, or closed only lately
            q = q.where(CallDelivery.event_id.in_(select(DisasterEvent.id).where(
                DisasterEvent.state != EventState.DRAFT, DisasterEvent.purged_at.is_(None))))
        batch: list[int] = []
        for delivery_id in db.session.scalars(q.execution_options(yield_per=5000)):
            batch.append(delivery_id)
            if len(batch) >= size:
                yield channel.value, batch
                batch = []
        if batch:
            yield channel.value, batch


# -- in-app: one transaction per batch ----------------------------------------------------------
def deliver_inapp(delivery_ids: list[int]) -> int:
    """Write the notifications of a batch; the unique call_id keeps a rerun from adding any."""
    now = utcnow()
    claimed = db.session.execute(
        update(CallDelivery)
        .where(CallDelivery.id.in_(delivery_ids), CallDelivery.channel == Channel.INAPP, _due(now))
        .values(state=D.SENT, sent_at=now, claimed_at=now, attempts=CallDelivery.attempts + 1)
        .returning(CallDelivery.call_id).execution_options(synchronize_session=False)).scalars().all()
    if not claimed:
        return 0
    db.session.execute(
        dialect_insert(Notification).from_select(
            ["user_id", "kind", "event_id", "call_id", "created_at"],
            select(SolidarityCall.user_id, literal("call"), SolidarityCall.event_id, SolidarityCall.id,
                   literal(now)).where(SolidarityCall.id.in_(claimed)))
        .on_conflict_do_nothing(index_elements=["call_id"]))
    db.session.execute(
        update(SolidarityCall).where(SolidarityCall.id.in_(claimed), SolidarityCall.state == CallState.QUEUED)
        .values(state=CallState.SENT, sent_at=now).execution_options(synchronize_session=False))
    return len(claimed)


# -- email and SMS: claim, send, mark -----------------------------------------------------------
def claim(delivery_id: int, now: datetime | None = None) -> bool:
    """Take a delivery for this worker; False when it is not due (sent, failed, claimed elsewhere)."""
    now = now or utcnow()
    result = db.session.execute(
        update(CallDelivery).where(CallDelivery.id == delivery_id, _due(now))
        .values(state=D.SENDING, claimed_at=now, attempts=CallDelivery.attempts + 1)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def claim_many(delivery_ids: list[int], now: datetime | None = None) -> list[int]:
    """claim() for a chunk, in one statement: the ids this worker took (the others are not due)."""
    now = now or utcnow()
    return list(db.session.execute(
        update(CallDelivery).where(CallDelivery.id.in_(delivery_ids), _due(now))
        .values(state=D.SENDING, claimed_at=now, attempts=CallDelivery.attempts + 1)
        .returning(CallDelivery.id).execution_options(synchronize_session=False)).scalars())


@dataclass(frozen=True)
class Attempt:
    outcome: str
    error: str | None = None


def send_claimed(delivery_id: int) -> str:
    """Send a delivery this worker claimed, and record the outcome (the caller commits)."""
    with SmtpSession() as smtp:
        return send_claimed_many([delivery_id], smtp).get(delivery_id, Outcome.SKIPPED)


def send_claimed_many(delivery_ids: list[int], smtp: SmtpSession | None) -> dict[int, str]:
    """Send deliveries this worker claimed (one read for them all, `smtp`'s one connection for the emails),
    then record the outcomes: those sent in two statements, the others one by one. The caller commits."""
    rows = db.session.execute(
        select(CallDelivery, SolidarityCall, ChannelPreference)
        .join(SolidarityCall, SolidarityCall.id == CallDelivery.call_id)
        .outerjoin(ChannelPreference, ChannelPreference.user_id == SolidarityCall.user_id)
        .where(CallDelivery.id.in_(delivery_ids), CallDelivery.state == D.SENDING)
        .options(joinedload(SolidarityCall.user), joinedload(SolidarityCall.event))
        .order_by(CallDelivery.id).execution_options(populate_existing=True)).all()
    outcomes: dict[int, str] = {}
    sent: list[tuple[CallDelivery, SolidarityCall]] = []
    others: list[tuple[CallDelivery, SolidarityCall, Attempt]] = []
    messages = _MessageCache()
    for delivery, call, pref in rows:
        attempt = _send(delivery, call, pref or ChannelPreference(user_id=call.user_id), smtp, messages)
        if attempt.outcome == Outcome.SENT:
            sent.append((delivery, call))
        else:
            others.append((delivery, call, attempt))
    if sent:
        now = utcnow()
        db.session.execute(update(CallDelivery).where(CallDelivery.id.in_([d.id for d, _c in sent]),
                                                      CallDelivery.state == D.SENDING)
                           .values(state=D.SENT, sent_at=now, failure_reason=None)
                           .execution_options(synchronize_session=False))
        db.session.execute(update(SolidarityCall).where(SolidarityCall.id.in_([c.id for _d, c in sent]),
                                                        SolidarityCall.state.in_((CallState.QUEUED, CallState.FAILED)))
                           .values(state=CallState.SENT, sent_at=now, failure_reason=None)
                           .execution_options(synchronize_session=False))
        outcomes.update((d.id, Outcome.SENT) for d, _c in sent)
    for delivery, call, attempt in others:
        outcomes[delivery.id] = record(delivery, call, attempt)
    return outcomes


def _send(delivery: CallDelivery, call: SolidarityCall, pref: ChannelPreference, smtp: SmtpSession | None,
          messages: "_MessageCache | None" = None) -> Attempt:
    user = call.user
    if user.suspended_at is not None:
        return Attempt(Outcome.FAILED, "account suspended")
    try:
        if delivery.channel == Channel.EMAIL:
            if pref.email_opted_out_at is not None:
                return Attempt(Outcome.FAILED, "opted out")
            message = (messages or _MessageCache()).email(call)
            if smtp is None:
                send_now(message)
            else:
                smtp.send(message)
        elif delivery.channel == Channel.SMS:
            if pref.sms_opted_out_at is not None or not pref.sms_number:
                return Attempt(Outcome.FAILED, "opted out")
            sms_channel().send(pref.sms_number, call_sms_text(call), reference=f"call-{call.id}")
        else:
            return Attempt(Outcome.FAILED, f"unknown channel {delivery.channel}")
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _msg in exc.recipients.values()]
        permanent = bool(codes) and all(500 <= code < 600 for code in codes)
        return Attempt(Outcome.FAILED if permanent else Outcome.RETRY, f"recipient refused: {codes}")
    except smtplib.SMTPResponseException as exc:
        return Attempt(Outcome.FAILED if 500 <= exc.smtp_code < 600 else Outcome.RETRY,
                       f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"[:500])
    except SmsError as exc:
        return Attempt(Outcome.FAILED if exc.permanent else Outcome.RETRY, str(exc)[:500])
    except (OSError, smtplib.SMTPException) as exc:  # connection refused, timeouts: try again later
        return Attempt(Outcome.RETRY, f"{type(exc).__name__}: {exc}"[:500])
    return Attempt(Outcome.SENT)


def record(delivery: CallDelivery, call: SolidarityCall, attempt: Attempt) -> str:
    now = utcnow()
    if attempt.outcome == Outcome.SENT:
        delivery.state, delivery.sent_at, delivery.failure_reason = D.SENT, now, None
        db.session.execute(update(SolidarityCall).where(SolidarityCall.id == call.id,
                                                        SolidarityCall.state.in_((CallState.QUEUED, CallState.FAILED)))
                           .values(state=CallState.SENT, sent_at=now, failure_reason=None)
                           .execution_options(synchronize_session=False))
        db.session.flush()
        return Outcome.SENT
    delivery.failure_reason = attempt.error
    if attempt.outcome == Outcome.RETRY and delivery.attempts < int(setting("MUTUAL_AID_MAX_ATTEMPTS")):
        delivery.state, delivery.claimed_at = D.QUEUED, None
        delivery.retry_at = now + timedelta(seconds=backoff_seconds(delivery.attempts))
        db.session.flush()
        log.info("call %s on %s will be retried: %s", call.id, delivery.channel, attempt.error)
        return Outcome.RETRY
    delivery.state = D.FAILED
    db.session.flush()
    _fail_call_if_no_channel_left(call, attempt.error)
    log.warning("call %s on %s failed: %s", call.id, delivery.channel, attempt.error)
    return Outcome.FAILED


def backoff_seconds(attempts: int) -> int:
    """30 s, 60 s, 120 s, ... after the 1st, 2nd, 3rd attempt (MUTUAL_AID_RETRY_BASE_SECONDS doubled)."""
    return int(setting("MUTUAL_AID_RETRY_BASE_SECONDS")) * 2 ** max(0, attempts - 1)


def _fail_call_if_no_channel_left(call: SolidarityCall, reason: str | None) -> None:
    alive = exists().where(CallDelivery.call_id == call.id,
                           CallDelivery.state.in_((D.QUEUED, D.SENDING, D.SENT)))
    db.session.execute(update(SolidarityCall).where(SolidarityCall.id == call.id,
                                                    SolidarityCall.state == CallState.QUEUED, ~alive)
                       .values(state=CallState.FAILED, failure_reason=reason)
                       .execution_options(synchronize_session=False))


# -- the messages -------------------------------------------------------------------------------
def _locale(call: SolidarityCall) -> str:
    from flask import current_app

    locale = call.user.locale
    return locale if locale in current_app.config["LANGUAGES"] else current_app.config["BABEL_DEFAULT_LOCALE"]


def call_links(call: SolidarityCall, via: Channel) -> dict[str, str]:
    from webapp.mutual_aid.links import external_url

    links = {"call": external_url("mutual_aid.show_call", call_id=call.id, via=via.value),
             "event": external_url("mutual_aid.show_event", slug=call.event.slug)}
    if via in (Channel.EMAIL, Channel.SMS):
        links["unsubscribe"] = external_url("mutual_aid.unsubscribe", token=unsubscribe_token(call.user_id, via))
    return links


def _email_headers(call: SolidarityCall, links: dict[str, str]) -> dict[str, str]:
    return {"List-Unsubscribe": f"<{links['unsubscribe']}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-Harambee-Call": str(call.id)}


def call_email(call: SolidarityCall):
    links = call_links(call, Channel.EMAIL)
    return render_email("aid_call", call.user.email, _locale(call), user=call.user, call=call, event=call.event,
                        audience=call.audience.value, links=links, headers=_email_headers(call, links))


class _MessageCache:
    """The call email rendered once per event, audience and language in a batch, with markers where each
    member's name and links go (the template is plain text: nothing is escaped, so a marker is replaced
    exactly); call_email() renders the same text for one call (tests/mutual_aid compare the two)."""

    NAME, CALL, UNSUBSCRIBE = "\x00name\x00", "\x00call\x00", "\x00unsubscribe\x00"

    def __init__(self):
        self.rendered: dict[tuple, object] = {}

    def email(self, call: SolidarityCall):
        from types import SimpleNamespace

        from webapp.mutual_aid.links import external_url

        key = (call.event_id, call.audience, _locale(call))
        if key not in self.rendered:
            links = {"call": self.CALL, "unsubscribe": self.UNSUBSCRIBE,
                     "event": external_url("mutual_aid.show_event", slug=call.event.slug)}
            self.rendered[key] = render_email(
                "aid_call", "", _locale(call), user=SimpleNamespace(name=self.NAME), call=None, event=call.event,
                audience=call.audience.value, links=links)
        shared = self.rendered[key]
        links = call_links(call, Channel.EMAIL)
        marks = ((self.NAME, call.user.name or ""), (self.CALL, links["call"]), (self.UNSUBSCRIBE, links["unsubscribe"]))

        def fill(text):
            for mark, value in marks:
                text = text.replace(mark, value)
            return text

        language = tuple(h for h in shared.headers if h[0] == "Content-Language")
        text = fill(shared.text)
        # the call email has no HTML template: its HTML part (right-to-left languages) is made from the text,
        # and made again from the filled text, so its links are links (a marker is not a web address)
        html = text_as_html(text, language[0][1]) if shared.html is not None and language else None
        return type(shared)(to=call.user.email, subject=fill(shared.subject), text=text, html=html,
                            headers=(*language, *_email_headers(call, links).items()))


def call_sms_text(call: SolidarityCall) -> str:
    links = call_links(call, Channel.SMS)
    with force_locale(_locale(call)):
        ask = {
            Audience.NEAR: _("Can you help, or do you need help?"),
            Audience.DIASPORA: _("Your home region is hit. Give to the emergency fund or help from afar."),
            Audience.COMMITTED: _("Confirm your standing commitment in one click."),
        }[call.audience]
        return _("Harambee: %(event)s. %(ask)s %(link)s — STOP: %(stop)s", event=call.event.name, ask=ask,
                 link=links["call"], stop=links["unsubscribe"])
