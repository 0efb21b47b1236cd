"""Emailing a report to its campaign's backers, exactly once each: fan out, then claim, send, mark.

The fan-out writes one delivery per person (the unique (report, address) keeps a rerun from adding
any), from backers streamed out of the database in batches, so a campaign of any size never loads
whole. Each delivery is then claimed with a conditional UPDATE and committed before it is sent, so a
redelivered task or a second worker finds it claimed or sent and skips it; a worker that dies after
claiming leaves a claim taken back once its lease has passed. The one window left is between the SMTP
server's acknowledgement and our commit of "sent" (milliseconds); X-Harambee-Report names the report
and its delivery so that a duplicate can be told.
"""
from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterator
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import joinedload

from webapp.accounts.models import User
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.mail import is_undeliverable, render_email, send_now
from webapp.payments.models import Pledge, PledgeStatus
from webapp.progress_reports.models import DeliveryState, ProgressReport, ReportDelivery, ReportUnsubscribe
from webapp.progress_reports.services import (
    insert_ignoring_duplicates, normalize_email, public_expenses_of, setting, unsubscribe_token,
)
from webapp.public_url import public_url

log = logging.getLogger(__name__)
D = DeliveryState

#: Whose pledge makes them a backer to report to: their money was taken, or is promised and still standing.
BACKER_STATUSES = (PledgeStatus.PAID, PledgeStatus.COLLECTING, PledgeStatus.COMMITTED)


class Outcome:
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    SKIPPED = "skipped"


# -- fan-out -------------------------------------------------------------------------------------
def recipients(campaign_id: int) -> Iterator[tuple[str, str]]:
    """(address, language) once per person who backed the campaign, streamed.

    A person is an address: a member's current one (they may have changed it since pledging), else the
    guest pledge's. Their language is the member's choice, else the one of their latest pledge (a member's
    pledges before guest ones).
    """
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = set(current_app.config["LANGUAGES"])
    seen: set[str] = set()
    rows = db.session.execute(
        select(Pledge.email, Pledge.locale, User.email, User.locale)
        .outerjoin(User, User.id == Pledge.user_id)
        .where(Pledge.campaign_id == campaign_id, Pledge.status.in_(BACKER_STATUSES))
        # members' pledges first: the language a member chose wins over a guest pledge from the same address
        .order_by(Pledge.user_id.is_(None), Pledge.id.desc()).execution_options(yield_per=2000))
    for pledge_email, pledge_locale, user_email, user_locale in rows:
        email = normalize_email(user_email or pledge_email)
        if not email or email in seen or is_undeliverable(email):
            continue
        seen.add(email)
        locale = next((lang for lang in (user_locale, pledge_locale) if lang in languages), default)
        yield email, locale


def fan_out(report_id: int) -> int:
    """Write the report's deliveries, one per backer not opted out of the campaign's reports; safe to rerun."""
    report = db.session.get(ProgressReport, report_id)
    if report is None:
        return 0
    opted_out = set(db.session.scalars(select(ReportUnsubscribe.email)
                                       .where(ReportUnsubscribe.campaign_id == report.campaign_id)))
    rows = [{"report_id": report.id, "email": email, "locale": locale, "state": D.QUEUED.value, "attempts": 0}
            for email, locale in recipients(report.campaign_id) if email not in opted_out]
    size = setting("PROGRESS_REPORT_BATCH_SIZE")
    for start in range(0, len(rows), size):
        db.session.execute(insert_ignoring_duplicates(ReportDelivery), rows[start:start + size])
    report.fanned_out_at = report.fanned_out_at or utcnow()
    db.session.flush()
    return len(rows)


def reports_not_fanned_out() -> list[int]:
    """Reports saved whose fan-out job never ran (the worker died between the commit and the job)."""
    return list(db.session.scalars(select(ProgressReport.id).where(ProgressReport.fanned_out_at.is_(None))))


# -- what is due ---------------------------------------------------------------------------------
def _due(now: datetime):
    lease = timedelta(seconds=setting("PROGRESS_REPORT_CLAIM_LEASE_SECONDS"))
    return or_(ReportDelivery.state == D.QUEUED,
               and_(ReportDelivery.state == D.SENDING, ReportDelivery.claimed_at < now - lease))


def due_batches(report_id: int | None = None, now: datetime | None = None) -> list[list[int]]:
    """Ids of the deliveries due (of one report, or all), in batches."""
    query = select(ReportDelivery.id).where(_due(now or utcnow())).order_by(ReportDelivery.id)
    if report_id is not None:
        query = query.where(ReportDelivery.report_id == report_id)
    ids = list(db.session.scalars(query))
    size = setting("PROGRESS_REPORT_BATCH_SIZE")
    return [ids[start:start + size] for start in range(0, len(ids), size)]


# -- one delivery: claim, send, mark -------------------------------------------------------------
def claim(delivery_id: int, now: datetime | None = None) -> bool:
    """Take a delivery for this worker; False when it is not due (sent, skipped, claimed elsewhere)."""
    now = now or utcnow()
    result = db.session.execute(
        update(ReportDelivery).where(ReportDelivery.id == delivery_id, _due(now))
        .values(state=D.SENDING, claimed_at=now, attempts=ReportDelivery.attempts + 1)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def send_claimed(delivery_id: int) -> str:
    """Send a delivery this worker claimed, and record the outcome (the caller commits)."""
    delivery = db.session.get(ReportDelivery, delivery_id, populate_existing=True)
    if delivery is None or delivery.state != D.SENDING:
        return Outcome.SKIPPED
    report = db.session.scalar(select(ProgressReport).where(ProgressReport.id == delivery.report_id)
                               .options(joinedload(ProgressReport.campaign)))
    unsubscribed = db.session.scalar(select(ReportUnsubscribe.id).where(
        ReportUnsubscribe.campaign_id == report.campaign_id, ReportUnsubscribe.email == delivery.email))
    if unsubscribed is not None:  # opted out after the fan-out: honoured
        delivery.state = D.SKIPPED
        db.session.flush()
        return Outcome.SKIPPED
    try:
        send_now(report_email(report, delivery))
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _msg in exc.recipients.values()]
        permanent = bool(codes) and all(500 <= code < 600 for code in codes)
        return _record_failure(delivery, f"recipient refused: {codes}", permanent)
    except smtplib.SMTPResponseException as exc:
        return _record_failure(delivery, f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", 500 <= exc.smtp_code < 600)
    except (OSError, smtplib.SMTPException) as exc:  # connection refused, timeouts: try again later
        return _record_failure(delivery, f"{type(exc).__name__}: {exc}", False)
    delivery.state, delivery.sent_at, delivery.failure_reason = D.SENT, utcnow(), None
    db.session.flush()
    return Outcome.SENT


def _record_failure(delivery: ReportDelivery, reason: str, permanent: bool) -> str:
    delivery.failure_reason = reason[:500]
    if not permanent and delivery.attempts < setting("PROGRESS_REPORT_MAX_ATTEMPTS"):
        delivery.state, delivery.claimed_at = D.QUEUED, None  # the periodic sweep sends it again
        db.session.flush()
        return Outcome.RETRY
    delivery.state = D.FAILED
    db.session.flush()
    log.warning("progress report delivery %s failed: %s", delivery.id, reason)
    return Outcome.FAILED


def report_email(report: ProgressReport, delivery: ReportDelivery):
    campaign = report.campaign
    links = {"report": public_url("progress_reports.show", slug=campaign.slug, report_id=report.id),
             "unsubscribe": public_url("progress_reports.unsubscribe", token=unsubscribe_token(campaign.id, delivery.email))}
    headers = {"List-Unsubscribe": f"<{links['unsubscribe']}>",
               "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
               "X-Harambee-Report": f"{report.id}-{delivery.id}"}
    return render_email("progress_report", delivery.email, delivery.locale, report=report, campaign=campaign,
                        organization=campaign.organization, links=links, headers=headers,
                        expenses=public_expenses_of(report))
