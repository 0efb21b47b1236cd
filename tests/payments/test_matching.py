"""Match funds: the rule (ratio, caps), the budget never overdrawn (also under concurrent pledges on
PostgreSQL), matches given back by refunded, lapsed and released pledges, the CSV statement, and the
eligibility rules with the reasons a campaign is refused.

Pledges here go through the sandbox provider and the webhook code with the processor's events, as
in test_webhooks; what the fund adds is read from the Match rows and from the ledger.
"""
from __future__ import annotations

import csv
import io
from datetime import timedelta
from html import unescape

import pytest
from flask import url_for
from sqlalchemy import select

from config import TestConfig
from tests.campaigns.helpers import sign_in
from tests.payments.money_helpers import all_or_nothing, entries, fund, keep_it_all, organizer_of, pass_deadline
from tests.payments.support import (
    charge_obj,
    event,
    fresh,
    live_campaign,
    payload_of,
    pending_pledge,
    raised,
    session_obj,
    signature,
)
from tests.factories import UserFactory
from webapp.accounts.models import Role
from webapp.campaigns.models import Category, FundingModel
from webapp.clock import utcnow
from webapp.errors import DomainError
from webapp.extensions import db
from webapp.ledger import services as ledger
from webapp.money import Money
from webapp.payments import batches, webhooks
from webapp.payments.collection import services as closing
from webapp.payments.matching import services as matching
from webapp.payments.matching.models import Match, MatchFund
from webapp.payments.models import Pledge, PledgeStatus

P = PledgeStatus


def receive(evt: dict) -> None:
    payload = payload_of(evt)
    assert webhooks.receive(payload, signature(payload))[0] == 200


def paid(campaign, amount: int, **kwargs) -> Pledge:
    """A keep-it-all pledge whose checkout the processor reports paid."""
    pledge = pending_pledge(campaign, amount, **kwargs)
    receive(event("checkout.session.completed", session_obj(pledge, status="complete", payment_status="paid",
                                                            payment_intent=f"pi_test_{pledge.reference}")))
    return fresh(pledge)


def committed(campaign, amount: int, card_tail: str = "4242") -> Pledge:
    """An all-or-nothing pledge whose card (a sandbox test card) is saved."""
    pledge = pending_pledge(campaign, amount)
    ref = pledge.reference
    receive(event("setup_intent.succeeded", {"id": f"seti_test_{ref}", "object": "setup_intent",
                                             "customer": f"cus_sandbox_{ref}",
                                             "payment_method": f"pm_sandbox_{card_tail}_{ref}",
                                             "metadata": {"pledge_id": str(pledge.id)}}))
    return fresh(pledge)


def refunded(pledge: Pledge, amount_refunded: int) -> Pledge:
    receive(event("charge.refunded", charge_obj(pledge, amount_refunded=amount_refunded)))
    return fresh(pledge)


def match_of(pledge: Pledge) -> int | None:
    db.session.expire_all()
    match = db.session.scalar(select(Match).where(Match.pledge_id == pledge.id))
    return None if match is None else match.amount


def remaining(f: MatchFund) -> int:
    db.session.expire_all()
    return matching.remaining(db.session.get(MatchFund, f.id)).amount


def fund_balance(f: MatchFund, currency: str = "EUR") -> int:
    """What the ledger says the fund has committed (its account: credits minus debits)."""
    return ledger.balance(ledger.fund_account(f.id), currency).amount


# -- the rule ---------------------------------------------------------------------------------------------
def test_one_to_one_doubles_each_pledge_in_the_totals_and_the_ledger():
    campaign = keep_it_all(goal=100_000)
    f = fund(campaign, budget=100_00)

    pledge = paid(campaign, 3_000)

    assert match_of(pledge) == 3_000
    assert raised(campaign) == 6_000
    [booked] = entries(kind="match")
    assert (booked.debit_account, booked.credit_account, booked.amount) == (
        f"fund:{f.id}", f"campaign:{campaign.id}", 3_000)
    assert remaining(f) == 7_000 and fund_balance(f) == -3_000


def test_one_for_two_adds_half_rounded_down():
    campaign = keep_it_all(goal=100_000)
    fund(campaign, ratio=(1, 2))
    assert match_of(paid(campaign, 3_001)) == 1_500


def test_the_cap_per_pledge_limits_each_match():
    campaign = keep_it_all(goal=100_000)
    fund(campaign, cap_per_pledge=Money(1_000, "EUR"))
    assert [match_of(paid(campaign, a)) for a in (3_000, 600)] == [1_000, 600]


def test_the_cap_per_campaign_limits_the_campaign_not_the_other_campaigns_of_the_fund():
    campaign = keep_it_all(goal=100_000)
    f = fund(campaign, cap_per_campaign=Money(5_000, "EUR"))
    other = keep_it_all(goal=100_000)
    matching.decide(matching.apply(f, other), accept=True)
    db.session.commit()

    assert [match_of(paid(campaign, 3_000)) for _ in range(3)] == [3_000, 2_000, None]
    assert match_of(paid(other, 3_000)) == 3_000
    assert matching.used(f.id, campaign.id) == 5_000


def test_the_budget_is_never_overdrawn():
    campaign = keep_it_all(goal=100_000)
    f = fund(campaign, budget=4_000)

    assert [match_of(paid(campaign, 3_000)) for _ in range(3)] == [3_000, 1_000, None]
    assert remaining(f) == 0 and fund_balance(f) == -4_000


def test_the_campaign_page_announces_the_match_and_what_remains(client):
    campaign = keep_it_all(goal=100_000)
    fund(campaign, budget=50_00, ratio=(1, 1), cap_per_pledge=Money(20_00, "EUR"))
    paid(campaign, 1_000)
    db.session.commit()

    page = unescape(client.get(url_for("campaigns.show", slug=campaign.slug)).get_data(as_text=True))

    assert "For every 1 EUR given, Ville de Lyon adds 1." in page
    assert "Up to €20.00 per pledge." in page and "€40.00 of its fund remains." in page


# -- giving back ---------------------------------------------------------------------------------------------
def test_a_refunded_pledge_gives_its_match_back_in_proportion_then_in_full():
    campaign = keep_it_all(goal=100_000)
    f = fund(campaign)
    pledge = paid(campaign, 3_000)

    refunded(pledge, 1_000)
    assert match_of(pledge) == 2_000
    assert remaining(f) == 8_000 and fund_balance(f) == -2_000
    assert [e.amount for e in entries(kind="match_return")] == [1_000]

    assert refunded(pledge, 3_000).status == P.REFUNDED
    assert match_of(pledge) == 0
    assert remaining(f) == 100_00 and fund_balance(f) == 0
    assert raised(campaign) == 0


def test_a_lapsed_pledge_gives_its_match_back(app):
    campaign = all_or_nothing(goal=1_000)
    f = fund(campaign)
    late = committed(campaign, 2_000, card_tail="3184")  # the sandbox's authentication card
    assert match_of(late) == 2_000 and remaining(f) == 8_000
    assert entries(kind="match") == []  # promised, not owed until the pledge is charged
    pass_deadline(campaign)
    batches.close_due_campaigns()
    batches.collect(campaign.id)
    assert fresh(late).status == P.NEEDS_ACTION

    closing.chase_needs_action(now=utcnow() + timedelta(days=8))
    db.session.commit()

    assert fresh(late).status == P.LAPSED
    assert match_of(late) == 0 and remaining(f) == 100_00
    assert entries(kind="match") == entries(kind="match_return") == []


def test_a_released_pledge_of_a_failed_campaign_gives_its_match_back():
    campaign = all_or_nothing(goal=1_000_000)
    f = fund(campaign)
    pledge = committed(campaign, 2_000)
    pass_deadline(campaign)
    batches.close_due_campaigns()

    batches.collect(campaign.id)

    assert fresh(pledge).status == P.RELEASED
    assert match_of(pledge) == 0 and remaining(f) == 100_00


def test_a_charged_pledge_books_the_match_it_was_promised_when_committed():
    campaign = all_or_nothing(goal=1_000)
    f = fund(campaign)
    pledge = committed(campaign, 2_500)
    pass_deadline(campaign)
    batches.close_due_campaigns()

    batches.collect(campaign.id)

    assert fresh(pledge).status == P.PAID
    assert [e.amount for e in entries(kind="match")] == [2_500] and fund_balance(f) == -2_500


# -- the statement ---------------------------------------------------------------------------------------------
def test_the_fund_manager_downloads_a_csv_statement_and_nobody_else_may(client):
    campaign = keep_it_all(goal=100_000, slug="fournil")
    manager = UserFactory(verified=True, role=Role.FUNDER)
    f = fund(campaign, manager=manager)
    first = paid(campaign, 3_000)
    second = paid(campaign, 1_250)
    refunded(first, 1_500)
    db.session.commit()

    sign_in(client, manager)
    response = client.get(url_for("funds.statement", fund_id=f.id))

    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == f"attachment; filename=match-fund-{f.id}.csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    today = utcnow().date().isoformat()
    assert rows == [
        ["date", "campaign", "row", "pledge_status", "pledged", "matched_first", "matched_now", "currency"],
        [today, "fournil", "1", "paid", "30.00", "30.00", "15.00", "EUR"],
        [today, "fournil", "2", "paid", "12.50", "12.50", "12.50", "EUR"],
    ]
    # nothing in it names a pledge's reference, which would open its receipt (issue 9)
    assert not {first.reference, second.reference} & {cell for row in rows for cell in row}

    sign_in(client, UserFactory(verified=True, role=Role.FUNDER))  # another institution
    assert client.get(url_for("funds.statement", fund_id=f.id)).status_code == 403


# -- eligibility ---------------------------------------------------------------------------------------------
def _fund_terms(**changes) -> matching.FundTerms:
    today = utcnow().date()
    values = dict(name="Fonds", institution="Fondation Agir", budget=Money(100_00, "EUR"), ratio_numerator=1,
                  ratio_denominator=1, cap_per_pledge=None, cap_per_campaign=None, categories=[], countries=[],
                  regions=[], funding_models=[], starts_on=today - timedelta(days=1), ends_on=today + timedelta(days=30))
    values.update(changes)
    return matching.FundTerms(**values)


GENERIC = "This campaign does not meet the fund's conditions (period, category, territory or funding model)."
TODAY = utcnow().date()


@pytest.mark.parametrize("changes, message", [
    (dict(budget=Money(100_000, "XOF")), "This fund matches pledges in XOF only."),
    (dict(categories=["health"]), GENERIC),
    (dict(countries=["FR", "BJ"]), GENERIC),
    (dict(regions=["SN-DK"]), GENERIC),
    (dict(funding_models=["all_or_nothing"]), GENERIC),
    (dict(starts_on=TODAY - timedelta(days=30), ends_on=TODAY - timedelta(days=1)), GENERIC),  # over
    (dict(starts_on=TODAY + timedelta(days=1), ends_on=TODAY + timedelta(days=30)), GENERIC),  # not yet
], ids=["currency", "category", "country", "region", "funding-model", "period-over", "period-ahead"])
def test_an_ineligible_campaign_is_refused_with_the_reason(client, changes, message):
    campaign = live_campaign("EUR", FundingModel.KEEP_IT_ALL, country="SN", region="SN-TH",
                             category=Category.AGRICULTURE, slug="moulin")
    manager = UserFactory(verified=True, role=Role.FUNDER)
    f = matching.create_fund(manager, _fund_terms(**changes))
    owner = organizer_of(campaign)
    db.session.commit()

    with pytest.raises(DomainError, match=message.replace("(", r"\(").replace(")", r"\)")):
        matching.apply(f, campaign)

    sign_in(client, manager)  # the fund chooses the campaign
    chosen = client.post(url_for("funds.show", fund_id=f.id), data={"slug": "moulin"})
    assert chosen.status_code == 400 and message in unescape(chosen.get_data(as_text=True))
    sign_in(client, owner)  # the organizer applies
    applied = client.post(url_for("funds.apply", fund_id=f.id, slug="moulin"))
    assert applied.status_code == 400 and message in unescape(applied.get_data(as_text=True))
    assert matching.funds_for(campaign) == []


def test_an_eligible_campaign_is_chosen_and_its_pledges_matched(client):
    campaign = live_campaign("EUR", FundingModel.KEEP_IT_ALL, country="SN", region="SN-TH",
                             category=Category.AGRICULTURE, slug="moulin")
    manager = UserFactory(verified=True, role=Role.FUNDER)
    f = matching.create_fund(manager, _fund_terms(categories=["agriculture"], countries=["SN"],
                                                  funding_models=["keep_it_all"]))
    db.session.commit()
    sign_in(client, manager)

    assert client.post(url_for("funds.show", fund_id=f.id), data={"slug": "moulin"}).status_code == 302
    assert match_of(paid(campaign, 1_000)) == 1_000


def test_a_fund_whose_period_ended_matches_no_more_pledges():
    campaign = keep_it_all(goal=100_000)
    f = fund(campaign)
    f.ends_on = utcnow().date() - timedelta(days=1)
    db.session.commit()
    assert match_of(paid(campaign, 1_000)) is None and remaining(f) == 100_00


# -- concurrency ---------------------------------------------------------------------------------------------
@pytest.mark.pg_only
def test_concurrent_pledges_never_overdraw_the_fund(app):
    from concurrent.futures import ThreadPoolExecutor
    import threading

    from webapp import create_app

    worker = create_app(type("MatchWorkerConfig", (TestConfig,), {
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 20, "max_overflow": 0, "pool_timeout": 60},
        "STRIPE_WEBHOOK_SECRET": app.config["STRIPE_WEBHOOK_SECRET"]}))
    campaign = keep_it_all(goal=1_000_000)
    f = fund(campaign, budget=10_000)
    pledges = [pending_pledge(campaign, 700, email=f"b{i}@example.org") for i in range(20)]
    payloads = [payload_of(event("checkout.session.completed", session_obj(
        p, status="complete", payment_status="paid", payment_intent=f"pi_test_{p.reference}"))) for p in pledges]
    signed = [(payload, signature(payload)) for payload in payloads]
    barrier = threading.Barrier(len(payloads))

    def confirm(delivery):
        payload, header = delivery
        barrier.wait()
        client = worker.test_client()
        return client.post("/payments/webhooks/stripe", data=payload,
                           headers={"Stripe-Signature": header, "Content-Type": "application/json"}).status_code

    try:
        with ThreadPoolExecutor(max_workers=len(payloads)) as pool:
            statuses = list(pool.map(confirm, signed))
    finally:
        with worker.app_context():
            db.engine.dispose()

    assert statuses == [200] * 20
    db.session.expire_all()
    assert {fresh(p).status for p in pledges} == {P.PAID}
    amounts = sorted((match_of(p) or 0 for p in pledges), reverse=True)
    assert sum(amounts) == 10_000  # 14 full matches of 700 and one of 200, whatever the order
    assert amounts[:15] == [700] * 14 + [200] and amounts[15:] == [0] * 5
    assert remaining(f) == 0 and fund_balance(f) == -10_000
