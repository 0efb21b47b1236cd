"""Closing campaigns at their deadline: the outcome by funding model, who is told what, charging committed
pledges off-session once (StripeProvider against the fake Stripe), the backer's part when a charge needs
them, reminders and lapses, and releasing everyone when a campaign fails."""
from __future__ import annotations

import re
from urllib.parse import urlsplit
from datetime import timedelta
from types import SimpleNamespace

import pytest
from flask import url_for
from sqlalchemy import select

from tests.campaigns.helpers import sign_in
from tests.payments.money_helpers import (
    AUTH_CARD,
    DECLINED_CARD,
    all_or_nothing,
    charge_key,
    charge_keys,
    close_and_collect,
    committed_pledge,
    deliver,
    deliver_pending,
    detached,
    entries,
    intent_creations,
    keep_it_all,
    ledger_sum,
    organizer_of,
    pass_deadline,
    pledge_row,
    status_of,
)
from tests.payments.support import count, fresh, live_campaign, tier
from webapp.campaigns.models import CampaignStatus, CampaignTransition, FundingModel, RewardTier
from webapp.extensions import db
from webapp.organizations.models import OrgRole
from webapp.payments import batches
from webapp.payments.collection import services as closing
from webapp.payments.models import Pledge, PledgeStatus

P = PledgeStatus
S = CampaignStatus
AON, MIN_OPT, KEEP = FundingModel.ALL_OR_NOTHING, FundingModel.MINIMUM_OPTIMUM, FundingModel.KEEP_IT_ALL


def mail_to(smtp_server, address: str) -> list:
    return [m for m in smtp_server.messages if m["To"] == address]


def body(smtp_server, message) -> str:
    return smtp_server.text_of(message)


# -- the outcome ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("model, minimum, pledged, expected", [
    (AON, None, [6_000, 4_000], S.SUCCEEDED),  # exactly the goal
    (AON, None, [6_000, 3_999], S.FAILED),  # one cent short
    (MIN_OPT, 4_000, [4_000], S.SUCCEEDED),  # the minimum is enough
    (MIN_OPT, 4_000, [3_999], S.FAILED),
    (KEEP, None, [], S.SUCCEEDED),  # keep-it-all keeps what it has, even nothing
    (KEEP, None, [1], S.SUCCEEDED),
], ids=["aon-at-goal", "aon-1-below", "minopt-at-minimum", "minopt-1-below", "keep-nothing", "keep-little"])
def test_the_outcome_follows_the_funding_model(model, minimum, pledged, expected):
    campaign = live_campaign("EUR", model, goal=10_000, minimum_amount=minimum)
    for n, amount in enumerate(pledged):
        pledge_row(campaign, amount, P.PAID if model == KEEP else P.COMMITTED, n=n)
    pledge_row(campaign, 50_000, P.EXPIRED, n=99)  # an abandoned checkout counts for nothing
    db.session.commit()
    pass_deadline(campaign)

    assert batches.close_due_campaigns() == [campaign.id]

    assert status_of(campaign) == expected


def test_a_campaign_is_closed_once_and_a_live_one_before_its_deadline_not_at_all():
    due = all_or_nothing(goal=1_000)
    running = all_or_nothing(goal=1_000)
    db.session.commit()
    pass_deadline(due)

    assert batches.close_due_campaigns() == [due.id]
    assert batches.close_due_campaigns() == []
    assert count(CampaignTransition, CampaignTransition.campaign_id == due.id,
                 CampaignTransition.to_status.in_((S.SUCCEEDED, S.FAILED))) == 1
    assert status_of(running) == S.LIVE


@pytest.mark.parametrize("reached", [True, False], ids=["succeeded", "failed"])
def test_organizers_and_backers_are_told_the_outcome_in_their_own_language(smtp_server, reached):
    campaign = all_or_nothing(goal=10_000, title="Moulin à mil")
    organizer_of(campaign, locale="fr", email="amina@example.org")
    organizer_of(campaign, locale="en", role=OrgRole.EDITOR, email="kofi@example.org")
    pledge_row(campaign, 6_000, n=1, email="afi@example.org", locale="fr")
    pledge_row(campaign, 4_000 if reached else 3_000, n=2, email="nurse@example.org", locale="en")
    pledge_row(campaign, 2_000, P.EXPIRED, n=3, email="left@example.org")
    db.session.commit()
    pass_deadline(campaign)

    batches.close_due_campaigns()

    assert sorted(m["To"] for m in smtp_server.messages) == [
        "afi@example.org", "amina@example.org", "kofi@example.org", "nurse@example.org"]
    [fr_org], [en_org] = mail_to(smtp_server, "amina@example.org"), mail_to(smtp_server, "kofi@example.org")
    [fr_backer], [en_backer] = mail_to(smtp_server, "afi@example.org"), mail_to(smtp_server, "nurse@example.org")
    if reached:
        assert "a réussi" in fr_org["Subject"] and "a réussi" in fr_backer["Subject"]
        assert en_org["Subject"] == en_backer["Subject"] == "“Moulin à mil” succeeded"
        assert "Félicitations" in body(smtp_server, fr_org) or "Bravo" in body(smtp_server, fr_org)
        assert "Votre contribution est en cours de débit" in body(smtp_server, fr_backer)
        assert "Your pledge is being charged now" in body(smtp_server, en_backer)
    else:
        assert "n'a pas atteint son objectif" in fr_org["Subject"]
        assert en_backer["Subject"] == "“Moulin à mil” did not reach its goal"
        assert "Vous ne serez pas débité" in body(smtp_server, fr_backer)
        assert "You will not be charged" in body(smtp_server, en_backer)
        assert "Nobody is charged" in body(smtp_server, en_org)


# -- success: charging off-session, once ---------------------------------------------------------------
def test_a_successful_campaign_charges_every_committed_pledge_once_off_session_in_batches(
        app, client, fake_stripe, monkeypatch):
    monkeypatch.setitem(app.config, "CHARGE_BATCH_SIZE", 3)
    monkeypatch.setitem(app.config, "CHARGE_LOCK_SECONDS", 600)  # a busy machine never cuts the first batch short
    campaign = all_or_nothing(goal=5_000)
    organizer = organizer_of(campaign)
    pledges = [committed_pledge(fake_stripe, campaign, 1_000 + 100 * i, email=f"backer{i}@example.org")
               for i in range(7)]
    pass_deadline(campaign)
    batches.close_due_campaigns()

    first = batches.collect(campaign.id, max_batches=1)

    assert (first.charged, first.needs_action) == (3, 0)
    assert closing.collection_progress(campaign) == {"paid": 3, "committed": 4}
    sign_in(client, organizer)
    page = client.get(url_for("money.dashboard", slug=campaign.slug)).get_data(as_text=True)
    assert "Collecting: the committed pledges are being charged" in page

    rest = batches.collect(campaign.id)
    deliver_pending(fake_stripe)

    assert rest.charged == 4
    assert fake_stripe.count("payment_intent") == len(intent_creations(fake_stripe)) == 7
    assert charge_keys(fake_stripe) == {charge_key(p): 1 for p in pledges}
    by_key = {r.idempotency_key: r.params for r in intent_creations(fake_stripe)}
    for pledge in pledges:
        params = by_key[charge_key(pledge)]
        assert params["off_session"] == "true" and params["confirm"] == "true"
        assert (params["amount"], params["currency"]) == (str(pledge.charge_amount), "eur")
        assert (params["customer"], params["payment_method"]) == (pledge.customer_id, pledge.payment_method_id)
        assert params["metadata"]["pledge_id"] == str(pledge.id)
        assert params["transfer_group"] == f"campaign-{campaign.id}"
        paid = fresh(pledge)
        assert paid.status == P.PAID and paid.charge_attempts == 1 and paid.charge_id and paid.settled_fee
    assert closing.collection_progress(campaign) == {"paid": 7}
    assert ledger_sum("charge", campaign.id) == sum(p.amount for p in pledges)
    assert len(entries(kind="processor_fee", campaign_id=campaign.id)) == 7

    assert batches.collect(campaign.id).charged == 0  # a later run finds nobody left
    assert len(intent_creations(fake_stripe)) == 7


def test_a_batch_held_longer_than_its_lock_time_records_what_it_has_and_claims_the_rest_again(
        app, fake_stripe, monkeypatch):
    monkeypatch.setitem(app.config, "CHARGE_LOCK_SECONDS", 0)  # every answer is recorded at once
    campaign = all_or_nothing(goal=1_000)
    pledges = [committed_pledge(fake_stripe, campaign, 1_000 + i, email=f"b{i}@example.org") for i in range(4)]
    pass_deadline(campaign)
    batches.close_due_campaigns()

    first = batches.collect(campaign.id, batch_size=10, max_batches=2)  # two claims, one pledge recorded each

    assert first.charged == 2
    assert [fresh(p).status for p in pledges] == [P.PAID, P.PAID, P.COMMITTED, P.COMMITTED]
    assert batches.collect(campaign.id, batch_size=10).charged == 2
    assert charge_keys(fake_stripe) == {charge_key(p): 1 for p in pledges}
    assert fake_stripe.count("payment_intent") == len(intent_creations(fake_stripe)) == 4


@pytest.mark.parametrize("ago, waits", [(timedelta(seconds=1), 3), (timedelta(days=2), 7)],
                         ids=["just-ended", "ended-long-ago"])
def test_charges_are_paced_to_the_processors_rate_limit(app, monkeypatch, ago, waits):
    monkeypatch.setitem(app.config, "CHARGE_RATE_PER_SECOND", 20)
    slept = []
    monkeypatch.setattr(batches, "time", SimpleNamespace(monotonic=lambda: 100.0, sleep=slept.append))
    campaign = all_or_nothing(goal=1_000)
    for n in range(4):  # sandbox methods of the succeeding test card
        pledge_row(campaign, 1_000, n=n, customer_id=f"cus_sandbox_{n}", payment_method_id=f"pm_sandbox_4242_{n}")
    db.session.commit()
    pass_deadline(campaign, ago)
    batches.close_due_campaigns()

    assert batches.collect(campaign.id).charged == 4
    # 20 requests a second: the charges, and once the deadline is 12 hours old the check before each (one more
    # request each); the clock stands still here, so each of the 4 (or 8) requests but the first waits 1/20 s
    assert slept == [pytest.approx(0.05)] * waits


def test_a_charge_that_needs_the_backer_asks_them_by_email_with_a_link_that_completes_the_payment(
        client, fake_stripe, smtp_server):
    campaign = all_or_nothing(goal=3_000, title="Four à pain")
    fine = committed_pledge(fake_stripe, campaign, 2_000, email="fine@example.org")
    auth = committed_pledge(fake_stripe, campaign, 1_500, AUTH_CARD, email="auth@example.org")
    declined = committed_pledge(fake_stripe, campaign, 1_000, DECLINED_CARD, email="declined@example.org",
                                locale="fr")
    smtp_server.clear()

    report = close_and_collect(fake_stripe, campaign)

    assert (report.charged, report.needs_action) == (1, 2)
    assert fresh(fine).status == P.PAID
    auth, declined = fresh(auth), fresh(declined)
    assert auth.status == declined.status == P.NEEDS_ACTION
    assert auth.needs_action_since is not None
    assert abs(auth.reminded_at - auth.needs_action_since) < timedelta(seconds=1)  # asked once, just now
    assert "authentication" in auth.failure_reason and "insufficient funds" in declined.failure_reason
    told = [m["Subject"] for m in mail_to(smtp_server, "auth@example.org")]
    assert told == ["“Four à pain” succeeded", "Complete your payment to “Four à pain”"]
    ask = mail_to(smtp_server, "auth@example.org")[1]
    assert mail_to(smtp_server, "declined@example.org")[1]["Subject"].startswith("Finalisez votre paiement")
    link = re.search(r"http://harambee\.test/\S+/complete\?token=\S+", smtp_server.text_of(ask)).group(0)
    page_url = url_for("money.complete_payment", reference=auth.reference, _external=True)
    assert link.startswith(page_url + "?token=")  # the reference alone opens nothing (issue 9)

    # The link opens a page, whose button leads to the processor's hosted page for an on-session payment.
    page = client.get(link, follow_redirects=True)
    assert page.status_code == 200 and "Complete the payment" in page.get_data(as_text=True)
    hosted = client.post(page_url)
    assert hosted.status_code == 303 and hosted.location.startswith(f"{fake_stripe.url}/c/pay/")
    session = fake_stripe.objects[hosted.location.rsplit("/", 1)[1]]
    assert (session["mode"], session["customer"], session["amount_total"]) == ("payment", auth.customer_id, 1_500)
    deliver(fake_stripe.complete_checkout(session["id"], AUTH_CARD, authenticate=True))

    assert fresh(auth).status == P.PAID
    assert ledger_sum("charge", campaign.id) == 2_000 + 1_500
    # once paid, the link shows the receipt instead of asking again
    opened = client.get(link)  # the token is remembered, and dropped from the address
    assert opened.status_code == 303 and urlsplit(opened.location).path == urlsplit(page_url).path
    assert not urlsplit(opened.location).query
    assert client.get(page_url).location.endswith(url_for("payments.receipt", reference=auth.reference))


def test_reminders_every_48_hours_then_the_pledge_lapses_after_7_days_and_gives_back_its_reward(
        fake_stripe, smtp_server):
    campaign = all_or_nothing(goal=1_000, title="Pressoir")
    reward = tier(campaign, 1_000, limit=2)
    db.session.commit()
    committed_pledge(fake_stripe, campaign, 1_000, tier=reward)
    late = committed_pledge(fake_stripe, campaign, 1_000, AUTH_CARD, tier=reward, email="late@example.org")
    close_and_collect(fake_stripe, campaign)
    asked = fresh(late).reminded_at  # the first ask, sent at the close
    smtp_server.clear()
    hours = lambda h: asked + timedelta(hours=h)  # noqa: E731

    steps = []
    for h in (47, 48, 49, 95, 96, 144, 167.9, 168):
        steps.append((h, closing.chase_needs_action(now=hours(h))))
        db.session.commit()

    assert steps == [(47, (0, 0)), (48, (1, 0)), (49, (0, 0)), (95, (0, 0)), (96, (1, 0)), (144, (1, 0)),
                     (167.9, (0, 0)), (168, (0, 1))]
    subjects = [m["Subject"] for m in mail_to(smtp_server, "late@example.org")]
    assert subjects[:3] == ["Reminder: complete your payment to “Pressoir”"] * 3 and len(subjects) == 4
    assert fresh(late).status == P.LAPSED
    db.session.expire_all()
    assert db.session.get(RewardTier, reward.id).units_claimed == 1
    assert closing.chase_needs_action(now=hours(400)) == (0, 0)
    assert fake_stripe.count("payment_intent") == 2  # the paid one and the refused attempt: nothing more


def test_a_failed_campaign_releases_committed_pledges_detaches_their_cards_and_charges_nobody(
        fake_stripe, smtp_server):
    campaign = all_or_nothing(goal=100_000, title="Grand moulin")
    reward = tier(campaign, 1_000, limit=5)
    db.session.commit()
    pledges = [committed_pledge(fake_stripe, campaign, 2_000, tier=reward, email=f"b{i}@example.org")
               for i in range(3)]
    smtp_server.clear()

    report = close_and_collect(fake_stripe, campaign)

    assert status_of(campaign) == S.FAILED
    assert (report.released, report.charged) == (3, 0)
    assert intent_creations(fake_stripe) == [] and fake_stripe.count("charge") == 0
    assert detached(fake_stripe) == {p.payment_method_id for p in pledges}
    assert all(fake_stripe.objects[p.payment_method_id]["customer"] is None for p in pledges)
    assert {fresh(p).status for p in pledges} == {P.RELEASED}
    db.session.expire_all()
    assert db.session.get(RewardTier, reward.id).units_claimed == 0
    assert entries(campaign_id=campaign.id) == []
    for i in range(3):
        [told] = mail_to(smtp_server, f"b{i}@example.org")
        assert told["Subject"] == "“Grand moulin” did not reach its goal"
        assert "You will not be charged" in smtp_server.text_of(told)


def test_keep_it_all_keeps_what_was_paid_at_the_deadline_without_charging_again(fake_stripe):
    from tests.payments.money_helpers import paid_pledge

    campaign = keep_it_all(goal=100_000)
    paid = paid_pledge(fake_stripe, campaign, 2_500)
    intents = fake_stripe.count("payment_intent")

    report = close_and_collect(fake_stripe, campaign)

    assert status_of(campaign) == S.SUCCEEDED
    assert (report.charged, report.released) == (0, 0)
    assert fake_stripe.count("payment_intent") == intents
    assert fresh(paid).status == P.PAID


def test_the_command_closes_and_collects_and_says_what_it_did(app, fake_stripe):
    campaign = all_or_nothing(goal=1_000)
    committed_pledge(fake_stripe, campaign, 1_000)
    committed_pledge(fake_stripe, campaign, 1_000, AUTH_CARD)
    pass_deadline(campaign)

    result = app.test_cli_runner().invoke(args=["campaigns", "close-due"])

    assert result.exit_code == 0, result.output
    assert f"campaign {campaign.id}: 1 charged, 1 need the backer, 0 released" in result.output
    assert status_of(campaign) == S.SUCCEEDED
    db.session.expire_all()
    assert sorted(p.status for p in db.session.scalars(select(Pledge))) == [P.NEEDS_ACTION, P.PAID]
