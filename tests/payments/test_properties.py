"""Random deliveries of processor events: duplicates, reorders, failures, refunds and disputes.

Hypothesis draws, for several pledges on one campaign, what really happened at the processor (a card
paid, a debit bounced, a checkout abandoned, refunds, a dispute: an inquiry, a chargeback open, won or
lost, with every dispute event Stripe sends), then delivers those events in a random
order with redeliveries. After every delivery the campaign total equals the sum of the confirmed pledges
computed here from the pledge rows, no pledge moves back, and once everything has arrived each pledge is
where the processor's story left it; the ledger balances after every event, a redelivery books
nothing, and a dispute ends as its story says with the money back when it was won.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.payments.support import (
    charge_obj,
    event,
    intent_obj,
    live_campaign,
    payload_of,
    pending_pledge,
    session_obj,
    signature,
    tier,
)
from webapp.campaigns.models import FundingModel, RewardTier
from webapp.campaigns.services import progress_of
from webapp.extensions import db
from webapp.payments import webhooks
from webapp.ledger import services as ledger
from webapp.ledger.models import LedgerEntry
from webapp.payments.models import HOLDING_STATUSES, Dispute, Pledge, PledgeEvent, PledgeStatus, ProcessedEvent

P = PledgeStatus

#: The moves a pledge may make, written out here independently of the services' table.
FORWARD = {
    P.PENDING: {P.PROCESSING, P.COMMITTED, P.PAID, P.FAILED, P.EXPIRED},
    P.PROCESSING: {P.PAID, P.FAILED},
    P.COMMITTED: {P.CANCELLED, P.PAID, P.COLLECTING, P.NEEDS_ACTION, P.RELEASED},
    P.COLLECTING: {P.PAID, P.NEEDS_ACTION},
    P.NEEDS_ACTION: {P.PAID, P.COLLECTING, P.LAPSED},
    P.PAID: {P.REFUNDED},
}


def reachable(old: PledgeStatus, new: PledgeStatus) -> bool:
    """new can be reached from old by forward moves (one event may make two, e.g. paid then refunded)."""
    seen, todo = set(), [old]
    while todo:
        for nxt in FORWARD.get(todo.pop(), set()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return new in seen

#: What can happen to a checkout opened in payment mode (keep-it-all) and in setup mode (all-or-nothing).
PAYMENT_STORIES = ["card", "declined_then_card", "declined_then_left", "debit_paid", "debit_bounced", "left"]
SETUP_STORIES = ["card_saved", "left"]
PAYS = {"card", "declined_then_card", "debit_paid"}


@dataclass
class Story:
    kind: str
    amount: int
    pay_currency: str
    refunds: list[int] = field(default_factory=list)  #: cumulative amounts refunded, in the charge currency
    #: None, or how a dispute goes: an inquiry (closed, no money), a chargeback still open, won or lost
    dispute: str | None = None


@st.composite
def stories(draw, setup: bool):
    kind = draw(st.sampled_from(SETUP_STORIES if setup else PAYMENT_STORIES))
    amount = draw(st.integers(min_value=100, max_value=20_000))  # 1 EUR: above the minimum in XOF too
    pay_currency = draw(st.sampled_from(["EUR", "EUR", "XOF"]))
    story = Story(kind, amount, pay_currency)
    if kind in PAYS:
        # refunds are reported cumulatively: increasing fractions of the charge, maybe all of it
        fractions = draw(st.lists(st.integers(min_value=1, max_value=4), max_size=3, unique=True))
        story.refunds = sorted(fractions)  # quarters of the charge, turned into amounts once it is known
        story.dispute = draw(st.sampled_from([None, None, "inquiry", "open", "won", "lost"]))
    return story


def events_of(pledge: Pledge, story: Story) -> list[dict]:
    """The processor's events for what happened, in the order they happened."""
    ref = pledge.reference
    pi = f"pi_test_{ref}"
    paid_session = session_obj(pledge, status="complete", payment_status="paid", payment_intent=pi)
    unpaid_session = session_obj(pledge, status="complete", payment_status="unpaid", payment_intent=pi)
    declined = intent_obj(pledge, status="requires_payment_method",
                          last_payment_error={"code": "card_declined", "message": "Your card was declined."})
    succeeded = intent_obj(pledge)
    expired = session_obj(pledge, status="expired")
    chain = {
        "card": [("checkout.session.completed", paid_session), ("payment_intent.succeeded", succeeded)],
        "declined_then_card": [("payment_intent.payment_failed", declined),
                               ("checkout.session.completed", paid_session), ("payment_intent.succeeded", succeeded)],
        "declined_then_left": [("payment_intent.payment_failed", declined), ("checkout.session.expired", expired)],
        "debit_paid": [("checkout.session.completed", unpaid_session),
                       ("checkout.session.async_payment_succeeded", session_obj(pledge, payment_intent=pi)),
                       ("payment_intent.succeeded", succeeded)],
        "debit_bounced": [("checkout.session.completed", unpaid_session),
                          ("checkout.session.async_payment_failed", session_obj(pledge, payment_intent=pi)),
                          ("payment_intent.payment_failed", declined)],
        "left": [("checkout.session.expired", expired)],
        "card_saved": [("checkout.session.completed",
                        session_obj(pledge, status="complete", payment_status="no_payment_required",
                                    setup_intent=f"seti_test_{ref}")),
                       ("setup_intent.succeeded", {"id": f"seti_test_{ref}", "object": "setup_intent",
                                                   "customer": f"cus_test_{ref}", "payment_method": f"pm_test_{ref}",
                                                   "metadata": {"pledge_id": str(pledge.id)}})],
    }[story.kind]
    for quarter in story.refunds:
        chain.append(("charge.refunded", charge_obj(pledge, amount_refunded=refund_of(pledge, quarter))))
    chain += dispute_events(pledge, story.dispute)
    return [event(kind, obj, event_id=f"evt_{secrets.token_hex(10)}") for kind, obj in chain]


DISPUTE_FEE = 1_500


def dispute_events(pledge: Pledge, how: str | None) -> list[tuple[str, dict]]:
    """Stripe's dispute events, each carrying the whole dispute as it stood (status, balance transactions)."""
    if how is None:
        return []
    ref, currency = pledge.reference, pledge.charge_currency.lower()
    withdrawal = {"id": f"txn_w_{ref}", "object": "balance_transaction", "amount": -pledge.charge_amount,
                  "fee": DISPUTE_FEE, "currency": currency, "reporting_category": "dispute"}
    reinstatement = {"id": f"txn_r_{ref}", "object": "balance_transaction", "amount": pledge.charge_amount,
                     "fee": -DISPUTE_FEE, "currency": currency, "reporting_category": "dispute_reversal"}

    def dispute(status: str, *txns: dict) -> dict:
        return {"id": f"dp_test_{ref}", "object": "dispute", "charge": f"ch_test_{ref}",
                "payment_intent": f"pi_test_{ref}", "amount": pledge.charge_amount, "currency": currency,
                "status": status, "reason": "fraudulent", "balance_transactions": list(txns)}

    if how == "inquiry":
        return [("charge.dispute.created", dispute("warning_needs_response")),
                ("charge.dispute.closed", dispute("warning_closed"))]
    opened = [("charge.dispute.created", dispute("needs_response", withdrawal)),
              ("charge.dispute.funds_withdrawn", dispute("needs_response", withdrawal))]
    if how == "open":
        return opened
    if how == "lost":
        return opened + [("charge.dispute.closed", dispute("lost", withdrawal))]
    return opened + [("charge.dispute.closed", dispute("won", withdrawal, reinstatement)),
                     ("charge.dispute.funds_reinstated", dispute("won", withdrawal, reinstatement))]


def dispute_net(pledge_id: int) -> int:
    """What disputes took from the campaign for this pledge, less what they gave back, in the ledger."""
    rows = db.session.execute(select(LedgerEntry.kind, LedgerEntry.amount).where(
        LedgerEntry.cause == f"pledge:{pledge_id}", LedgerEntry.kind.in_(("dispute", "dispute_reinstated")))).all()
    return sum(amount if kind == "dispute" else -amount for kind, amount in rows)


def refund_of(pledge: Pledge, quarter: int) -> int:
    return pledge.charge_amount if quarter == 4 else max(1, pledge.charge_amount * quarter // 4)


def expected_end(pledge: Pledge, story: Story) -> tuple[PledgeStatus, int]:
    """Where the processor's story leaves the pledge: its state and the refund in the campaign's currency."""
    if story.kind == "card_saved":
        return P.COMMITTED, 0
    if story.kind in ("left", "declined_then_left"):
        return P.EXPIRED, 0
    if story.kind == "debit_bounced":
        return P.FAILED, 0
    refunded_charge = max((refund_of(pledge, q) for q in story.refunds), default=0)
    if refunded_charge >= pledge.charge_amount:
        return P.REFUNDED, pledge.amount
    return P.PAID, pledge.amount * refunded_charge // pledge.charge_amount


# -- what is checked after every delivery --------------------------------------------------------------
def rows_of(campaign_id: int) -> list:
    """(id, status, amount, refunded_amount) of the campaign's pledges, read from the database."""
    return db.session.execute(select(Pledge.id, Pledge.status, Pledge.amount, Pledge.refunded_amount)
                              .where(Pledge.campaign_id == campaign_id).order_by(Pledge.id)).all()


def snapshot(rows) -> dict[int, tuple[PledgeStatus, int]]:
    return {row.id: (row.status, row.refunded_amount) for row in rows}


def balances_by_currency() -> dict[str, int]:
    """The ledger's trial balance summed per currency: zero for every currency, after every event."""
    totals: dict[str, int] = {}
    for (_account, currency), value in ledger.trial_balance().items():
        totals[currency] = totals.get(currency, 0) + value
    return totals


def check_totals(campaign, rows) -> None:
    """The total the campaign page shows equals the sum over confirmed pledges, computed here."""
    confirmed = [row for row in rows if row.status in (P.COMMITTED, P.PAID)]
    progress = progress_of(campaign)
    assert progress.raised.amount == sum(row.amount - row.refunded_amount for row in confirmed)
    assert progress.backers == len(confirmed)


def check_moves(before: dict, after: dict) -> int:
    """Every change goes forward and refunds only grow; returns how many pledges changed state."""
    moves = 0
    for pledge_id, (old, old_refund) in before.items():
        new, new_refund = after[pledge_id]
        if new != old:
            assert reachable(old, new), f"pledge {pledge_id} moved back: {old} -> {new}"
            moves += 1
        assert old_refund <= new_refund, f"pledge {pledge_id}'s refund went down"
    return moves


def check_history(pledge: Pledge) -> None:
    """The pledge's recorded changes are one chain of forward moves from its creation to its state."""
    steps = db.session.execute(select(PledgeEvent.from_status, PledgeEvent.to_status)
                               .where(PledgeEvent.pledge_id == pledge.id).order_by(PledgeEvent.id)).all()
    assert steps[0] == (None, P.PENDING)
    for (_, previous), (source, target) in zip(steps, steps[1:]):
        assert source == previous and target in FORWARD.get(source, set()), steps
    assert steps[-1][1] == pledge.status, steps


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_totals_equal_confirmed_pledges_whatever_the_order_of_events(data):
    setup = data.draw(st.booleans(), label="all-or-nothing")
    campaign = live_campaign("EUR", FundingModel.ALL_OR_NOTHING if setup else FundingModel.KEEP_IT_ALL)
    plan = data.draw(st.lists(stories(setup), min_size=1, max_size=5), label="stories")
    reward = tier(campaign, 50, limit=len(plan))
    db.session.commit()
    pledges = [pending_pledge(campaign, s.amount, tier=reward, pay_currency=s.pay_currency) for s in plan]
    happened = [events_of(p, s) for p, s in zip(pledges, plan, strict=True)]
    all_events = [e for chain in happened for e in chain]

    order = data.draw(st.permutations(range(len(all_events))), label="delivery order")
    redeliveries = data.draw(st.lists(st.tuples(st.integers(0, len(all_events) - 1), st.integers(0, len(order))),
                                      max_size=6), label="redeliveries (event, position)")
    deliveries = list(order)
    for index, position in redeliveries:
        deliveries.insert(position, index)

    delivered: set[str] = set()
    state = snapshot(rows_of(campaign.id))
    entries_before = db.session.scalar(select(func.count()).select_from(LedgerEntry))
    attempts = 0
    while deliveries:
        index = deliveries.pop(0)
        attempts += 1
        assert attempts <= 4 * len(all_events) + len(redeliveries), "some event is never applied"
        evt = all_events[index]
        payload = payload_of(evt)
        status, _message = webhooks.receive(payload, signature(payload))
        if status == 503:  # a dispute before its payment's events: nothing recorded, Stripe delivers it again
            assert evt["type"].startswith("charge.dispute.") and evt["id"] not in delivered
            assert snapshot(rows_of(campaign.id)) == state
            assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == entries_before
            deliveries.append(index)
            continue
        assert status == 200
        redelivery = evt["id"] in delivered
        delivered.add(evt["id"])

        rows = rows_of(campaign.id)
        after = snapshot(rows)
        entries_now = db.session.scalar(select(func.count()).select_from(LedgerEntry))
        if redelivery:
            assert after == state, f"redelivered {evt['type']} changed something"
            assert entries_now == entries_before, f"redelivered {evt['type']} booked something"
        entries_before = entries_now
        assert all(total == 0 for total in balances_by_currency().values())
        assert check_moves(state, after) <= 1  # one event moves at most one pledge
        state = after

        check_totals(campaign, rows)
        assert all(0 <= row.refunded_amount <= row.amount for row in rows)
        assert db.session.scalar(select(func.count()).select_from(ProcessedEvent)
                                 .where(ProcessedEvent.event_id.in_(delivered))) == len(delivered)
        units = db.session.scalar(select(RewardTier.units_claimed).where(RewardTier.id == reward.id))
        assert units == sum(1 for row in rows if row.status in HOLDING_STATUSES)

    # once everything has arrived, each pledge is where the processor's story left it
    db.session.expire_all()
    expected_total = 0
    for pledge, story in zip(pledges, plan, strict=True):
        pledge = db.session.get(Pledge, pledge.id)
        status, refunded = expected_end(pledge, story)
        assert (pledge.status, pledge.refunded_amount) == (status, refunded), (story, pledge.charge_amount)
        if status in (P.COMMITTED, P.PAID):
            expected_total += pledge.amount - refunded
        check_history(pledge)  # one record per change, however often and in whatever order events came
        if story.kind in PAYS:
            assert pledge.payment_intent_id == f"pi_test_{pledge.reference}"
        if story.dispute is not None and story.kind in PAYS:
            [dispute] = db.session.scalars(select(Dispute).where(Dispute.pledge_id == pledge.id)).all()
            assert dispute.outcome == {"inquiry": "closed"}.get(story.dispute, story.dispute)
            # whatever the order: an inquiry or a won dispute leaves nothing taken; a chargeback takes what
            # was not refunded when it was booked, and the pledge stays counted as the pledge it was
            if story.dispute in ("inquiry", "won"):
                assert dispute_net(pledge.id) == 0
            elif not story.refunds:
                assert dispute_net(pledge.id) == pledge.amount
            assert (pledge.disputed_at is not None) == (story.dispute != "inquiry")
    assert progress_of(campaign).raised.amount == expected_total
