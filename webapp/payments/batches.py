"""The loops of the payments domain that commit once per item: closing campaigns, collecting pledges, paying out.

Tasks (tasks.py) and CLI commands (commands.py) run these; each item (a collection: each batch of
pledges) is one unit of work of the services it calls (which only flush), committed here, so one
failure never undoes the others.
"""
from __future__ import annotations

import logging
import time
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from webapp.campaigns.models import Campaign, CampaignStatus
from webapp.clock import utcnow
from webapp.errors import DomainError, ProviderError
from webapp.extensions import db
from webapp.ledger import services as ledger
from webapp.payments.collection import services as collection
from webapp.payments.matching import services as matching
from webapp.payments.matching.models import Match
from webapp.payments.models import Pledge, PledgeStatus, Transfer, TransferStatus
from webapp.payments.payouts import services as payouts

log = logging.getLogger(__name__)
P = PledgeStatus


# -- closing ------------------------------------------------------------------------------------
def close_due_campaigns(now=None) -> list[int]:
    """Close every live campaign past its deadline, once each even with several workers at once."""
    now = now or utcnow()
    closed = []
    while True:
        # One campaign per transaction, locked: a second worker skips it, then sees it closed.
        campaign = db.session.scalar(
            select(Campaign).where(Campaign.status == CampaignStatus.LIVE, Campaign.ends_at <= now)
            .order_by(Campaign.ends_at, Campaign.id).limit(1).with_for_update(skip_locked=True))
        if campaign is None:
            break
        result = collection.close_campaign(campaign)
        db.session.commit()
        closed.append(campaign.id)
        log.info("closed campaign %s: %s", campaign.slug, result)
    return closed


# -- collecting ---------------------------------------------------------------------------------
@dataclass
class CollectionReport:
    charged: int = 0
    #: bank debits on their way (the processor answered `processing`)
    collecting: int = 0
    needs_action: int = 0
    released: int = 0
    skipped: int = 0


class Pacer:
    """At most `rate` processor requests a second from this worker: wait() before each request."""

    def __init__(self, rate: float):
        self.interval = 1.0 / rate
        self.last: float | None = None

    def wait(self) -> None:
        if self.last is not None:
            spare = self.interval - (time.monotonic() - self.last)
            if spare > 0:
                time.sleep(spare)
        self.last = time.monotonic()


def collect(campaign_id: int, batch_size: int | None = None, max_batches: int | None = None) -> CollectionReport:
    """Charge (campaign succeeded) or release (failed) every committed pledge, one transaction per batch.

    A batch's pledges are locked together (SKIP LOCKED: a second worker takes the next ones), the
    processor is asked for each, and all their answers are recorded in one commit (after at most
    CHARGE_LOCK_SECONDS, the rest of the batch is claimed again). Resumable: a
    pledge leaves COMMITTED in the same commit as its charge's result, and before each attempt the
    processor is asked what earlier attempts did, so a crash between the processor's answer and our
    commit — now up to a batch of answers — never charges twice: the next run finds those payments
    and records them. Bounded: each pledge is visited at most once per run (the batches walk up the
    ids), so one the processor keeps refusing, or whose money is on its way (COLLECTING, never
    selected), can never be charged again and again within a run.
    """
    cfg = current_app.config
    batch_size = batch_size or cfg["CHARGE_BATCH_SIZE"]
    pacer = Pacer(cfg["CHARGE_RATE_PER_SECOND"])
    report = CollectionReport()
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.status not in (CampaignStatus.SUCCEEDED, CampaignStatus.FAILED):
        return report
    succeeded = campaign.status == CampaignStatus.SUCCEEDED
    db.session.rollback()
    batches, after = 0, 0
    while max_batches is None or batches < max_batches:
        # One statement: the batch locked, with its campaign and organization (receipts and emails name them).
        pledges = list(db.session.scalars(
            select(Pledge).where(Pledge.campaign_id == campaign_id, Pledge.status == P.COMMITTED, Pledge.id > after)
            .order_by(Pledge.id).limit(batch_size)
            .options(joinedload(Pledge.campaign, innerjoin=True).joinedload(Campaign.organization, innerjoin=True))
            .with_for_update(of=Pledge, skip_locked=True)))
        if not pledges:
            db.session.rollback()
            break
        batches = batches + 1
        try:
            # Ledger entries booked together unless a fund may match (matching reads what it booked) or the
            # campaign failed (releases give matches back): those book as they go.
            together = succeeded and not _read_ahead(campaign_id, [p.id for p in pledges])
            after = _collect_batch(pledges, succeeded, together, report, pacer, cfg["CHARGE_LOCK_SECONDS"])
        finally:
            db.session.info.pop(matching.MATCH_HINT, None)
    return report


def _read_ahead(campaign_id: int, ids: list[int]) -> bool:
    """What every pledge of the batch would ask on its own, asked once: has it a match, has the campaign a fund?

    Read under the batch's locks: a pledge's match is only ever made in the pledge's own transitions,
    which the locks keep to this worker; a fund accepted during the batch matches the pledges of the
    next one. Returns whether the campaign has a fund (its matches then read and book as they go).
    """
    campaign = db.session.get(Campaign, campaign_id)
    matched = set(db.session.scalars(select(Match.pledge_id).where(Match.pledge_id.in_(ids))))
    has_funds = bool(matching.funds_for(campaign))
    db.session.info[matching.MATCH_HINT] = dict(campaign_id=campaign_id, pledge_ids=frozenset(ids), matched=matched,
                                                has_funds=has_funds)
    return has_funds


def _collect_batch(pledges: list[Pledge], succeeded: bool, together: bool, report: CollectionReport,
                   pacer: Pacer, lock_seconds: float) -> int:
    """Ask the processor for each locked pledge, then record every answer in one commit (once each, if that fails).

    Asking changes nothing in the session and issues no SQL; recording asks the processor nothing, so an
    answer is never asked for twice, whichever way it is recorded. After `lock_seconds` the answers so far
    are recorded and the rest of the batch is let go (the next claim locks it again). Returns the last
    pledge id asked about.
    """
    answers = []
    opened, last = time.monotonic(), pledges[0].id
    try:
        for pledge in pledges:
            if last != pledge.id and time.monotonic() - opened >= lock_seconds:
                break  # the webhooks about these pledges wait on their locks: do not keep them long
            last = pledge.id
            try:
                if succeeded:
                    answers.append((pledge, collection.ask_to_charge(pledge, before_request=pacer.wait)))
                else:
                    pacer.wait()
                    collection.forget_method(pledge)
                    answers.append((pledge, None))
            except (ProviderError, DomainError):
                # One pledge the processor (or a rule) refuses must not stop the collection of the others; a
                # rate limit that outlasted the provider's retries is no attempt: the next run tries again.
                log.exception("pledge %s could not be collected; it stays committed for the next run", pledge.id)
                report.skipped += 1
    except BaseException:
        # The worker is stopping (or a bug): keep what the processor has already answered, then stop.
        try:
            _record(answers, together, report)
        except Exception:
            log.exception("the answers of this batch could not be recorded; the next run finds them at the processor")
            db.session.rollback()
        raise
    _record(answers, together, report)
    return last


def _record(answers: list, together: bool, report: CollectionReport) -> None:
    try:
        # `together`: the ledger entries of the whole batch in one INSERT (no fund: nothing reads a balance).
        with ledger.booked_together() if together else nullcontext():
            for pledge, answer in answers:
                _apply(pledge, answer)
        tally = [pledge.status for pledge, _ in answers]  # read before the commit expires them
        db.session.commit()
    except (DomainError, IntegrityError):
        db.session.rollback()
        log.exception("a batch's answers could not be recorded together; recording them one by one")
        for pledge_id, answer in [(pledge.id, answer) for pledge, answer in answers]:
            _record_alone(pledge_id, answer, report)
        return
    for status in tally:
        _count(status, report)


def _record_alone(pledge_id: int, answer, report: CollectionReport) -> None:
    """One answer in a transaction of its own; the pledge is locked again (a worker may have recorded it meanwhile)."""
    pledge = db.session.scalar(select(Pledge).where(Pledge.id == pledge_id, Pledge.status == P.COMMITTED)
                               .with_for_update())
    if pledge is None:
        db.session.rollback()
        report.skipped += 1
        return
    try:
        _apply(pledge, answer)
        status = pledge.status
        db.session.commit()
    except (DomainError, IntegrityError):
        db.session.rollback()
        log.exception("pledge %s: its processor's answer could not be recorded; the next run finds it", pledge_id)
        report.skipped += 1
        return
    _count(status, report)


def _apply(pledge: Pledge, answer) -> None:
    if answer is None:
        collection.record_release(pledge)
    else:
        collection.record_charge(pledge, answer)


def _count(status: PledgeStatus, report: CollectionReport) -> None:
    report.charged += status == P.PAID
    report.collecting += status == P.COLLECTING
    report.needs_action += status == P.NEEDS_ACTION
    report.released += status == P.RELEASED


# -- money on its way for too long --------------------------------------------------------------
def recheck_collecting(now: datetime | None = None) -> dict[str, int]:
    """Ask the processor again about every debit in flight for longer than banks take; one transaction each."""
    seen: dict[str, int] = {}
    ids = collection.collecting_too_long(now)
    db.session.rollback()
    for pledge_id in ids:
        pledge = db.session.scalar(select(Pledge).where(Pledge.id == pledge_id, Pledge.status == P.COLLECTING)
                                   .with_for_update(skip_locked=True))
        if pledge is None:
            db.session.rollback()
            continue
        try:
            status = collection.recheck_collecting(pledge) or "unknown"
            db.session.commit()
        except ProviderError:
            db.session.rollback()
            log.exception("pledge %s: could not ask the processor; next time", pledge_id)
            status = "unreachable"
        seen[status] = seen.get(status, 0) + 1
    return seen


# -- paying out ---------------------------------------------------------------------------------
def pay_out_due(now: datetime | None = None) -> int:
    """Every successful campaign past its hold with charges not yet transferred: one transaction each.

    Returns how many campaigns sent at least one transfer.
    """
    sent = 0
    held_for_host = exists().where(Transfer.campaign_id == Campaign.id, Transfer.pledge_id.is_(None),
                                   Transfer.status == TransferStatus.SENT)  # a host route's whole-campaign hold
    ids = list(db.session.scalars(select(Campaign.id).where(Campaign.status == CampaignStatus.SUCCEEDED,
                                                         Campaign.pooled_fund_id.is_(None))  # booked into a fund
                                  .where(Campaign.id.in_(payouts.undone_charges().with_only_columns(
                                      Pledge.campaign_id)), ~held_for_host)))
    db.session.rollback()
    for campaign_id in ids:
        transfers = payouts.pay_out(db.session.get(Campaign, campaign_id), now) or []
        if any(t.status == TransferStatus.SENT for t in transfers):  # pay_out takes only charges not sent yet
            sent += 1
        db.session.commit()
    return sent


# -- renewing recurring support -----------------------------------------------------------------
@dataclass
class RenewalReport:
    charged: int = 0
    processing: int = 0
    needs_action: int = 0
    skipped: int = 0


def renew_due(now: datetime | None = None, only: int | None = None) -> RenewalReport:
    """Renew every active gift whose period has come: one transaction each, the support's row locked.

    A second worker at the same moment skips the rows the first holds (SKIP LOCKED), then finds them
    moved to their next period; a crash between the processor's answer and the commit is found by
    asking the processor first (recurring.renew). `only` renews one gift (the demo's "next month").
    """
    from webapp.payments.recurring import services as recurring
    from webapp.payments.recurring.models import ChargeStatus, RecurringSupport, SupportState

    now = now or utcnow()
    report = RenewalReport()
    pacer = Pacer(current_app.config["CHARGE_RATE_PER_SECOND"])
    ids = [i for i in recurring.due(now) if only is None or i == only]
    db.session.rollback()
    for support_id in ids:
        support = db.session.scalar(select(RecurringSupport).where(
            RecurringSupport.id == support_id, RecurringSupport.state == SupportState.ACTIVE,
            RecurringSupport.next_charge_at <= now).with_for_update(skip_locked=True))
        if support is None:  # another worker has it, or it was renewed, paused or cancelled meanwhile
            db.session.rollback()
            report.skipped += 1
            continue
        try:
            charge = recurring.renew(support, before_request=pacer.wait)
            db.session.commit()
        except (ProviderError, DomainError):
            db.session.rollback()
            log.exception("recurring support %s could not be renewed; the next run tries again", support_id)
            report.skipped += 1
            continue
        status = charge.status if charge is not None else None
        report.charged += status == ChargeStatus.SUCCEEDED
        report.processing += status == ChargeStatus.PROCESSING
        report.needs_action += status == ChargeStatus.NEEDS_ACTION
    return report


def recheck_recurring(now: datetime | None = None) -> dict[str, int]:
    """Renewals by bank debit on their way longer than PROCESSING_RECHECK_DAYS (their events lost?): ask the
    processor and apply what it says as its webhook would; one transaction each, the gift's row locked."""
    from webapp.payments.recurring import services as recurring
    from webapp.payments.recurring.models import ChargeStatus, RecurringCharge, RecurringSupport

    seen: dict[str, int] = {}
    ids = recurring.processing_too_long(now)
    db.session.rollback()
    for charge_id in ids:
        charge = db.session.get(RecurringCharge, charge_id)
        support = db.session.scalar(select(RecurringSupport).where(RecurringSupport.id == charge.support_id)
                                    .with_for_update(skip_locked=True)) if charge is not None else None
        if support is None:  # a renewal or a webhook holds it: the next run asks again
            db.session.rollback()
            continue
        db.session.refresh(charge)
        if charge.status != ChargeStatus.PROCESSING:
            db.session.rollback()
            continue
        try:
            status = recurring.recheck(support, charge) or "unknown"
            db.session.commit()
        except ProviderError:
            db.session.rollback()
            log.exception("recurring charge %s: could not ask the processor; next time", charge_id)
            status = "unreachable"
        seen[status] = seen.get(status, 0) + 1
    return seen
