"""The Stripe Connect payout route against the fake Stripe: where Connect can pay, recipient accounts, the
Connect webhook endpoint and its own secret, the transfers capability, one transfer per charge in the
settlement currency with source_transaction, reversals after refunds and lost disputes, and the ledger."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.payments.money_helpers import deliver, deliver_pending, entries, keep_it_all, organizer_of, paid_pledge
from tests.payments.support import live_campaign, load_rates
from webapp.campaigns.models import FundingModel
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.ledger import services as ledger
from webapp.money import Money
from webapp.organizations.models import OrgRole
from webapp.payments import batches, reconcile, refunds
from webapp.payments.models import ConnectedAccount, Transfer, TransferStatus
from webapp.payments.payouts import services as payouts

CONNECT_URL = "/payments/webhooks/stripe/connect"
PLATFORM_URL = "/payments/webhooks/stripe"


def fresh(obj):
    """The row as the database now has it."""
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


def _owner_of(org):
    owner = UserFactory(email=f"owner-{org.id}@example.org")
    MembershipFactory(organization=org, user=owner, role=OrgRole.OWNER)
    db.session.commit()
    return owner


def _campaign_in(country: str, currency: str = "EUR"):
    org = OrganizationFactory(name=f"Organization in {country}", country=country)
    campaign = live_campaign(currency, FundingModel.KEEP_IT_ALL, organization=org)
    db.session.commit()
    return campaign


def _connected(fake, campaign, *, transfers: str = "active") -> ConnectedAccount:
    owner = _owner_of(campaign.organization)
    payouts.onboarding_link(campaign.organization, owner.email, return_url="http://harambee.test/back",
                            refresh_url="http://harambee.test/back")
    db.session.commit()
    account = payouts.account_of(campaign.organization)
    deliver(fake.onboard(account.processor_account_id, transfers=transfers))
    return fresh(account)


def _after_hold(app):
    return utcnow() + timedelta(days=app.config["PAYOUT_HOLD_DAYS"], minutes=1)


def _close(campaign):
    campaign.ends_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    batches.close_due_campaigns()
    db.session.commit()


# -- where Connect can pay ---------------------------------------------------------------------
@pytest.mark.parametrize("country, name", [("BJ", "Benin"), ("MA", "Morocco"), ("KE", "Kenya")])
def test_an_organization_connect_cannot_pay_is_told_so_and_pointed_to_a_host_and_nothing_is_created(
        client, login, fake_stripe, country, name):
    campaign = _campaign_in(country)
    login(client, _owner_of(campaign.organization))
    response = client.post(f"/manage/campaigns/{campaign.slug}/payout-account")
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert f"Stripe cannot pay organizations in {name}" in page and "host" in page
    assert f"/manage/campaigns/{campaign.slug}/money" in page
    assert fake_stripe.count("account") == 0 and db.session.scalar(select(ConnectedAccount)) is None
    money = client.get(f"/manage/campaigns/{campaign.slug}/money").get_data(as_text=True)
    assert f"Stripe cannot pay organizations in {name}" in money and "payout-account" not in money


def test_the_refusal_is_in_french_for_a_french_reader(client, login, fake_stripe):
    campaign = _campaign_in("BJ")
    login(client, _owner_of(campaign.organization))
    page = client.post(f"/manage/campaigns/{campaign.slug}/payout-account",
                       headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Stripe ne peut pas" in page and "Bénin" in page


@pytest.mark.parametrize("country", ["FR", "DE", "US", "CA"])
def test_an_organization_connect_can_pay_is_onboarded_on_the_recipient_agreement(
        client, login, fake_stripe, country):
    campaign = _campaign_in(country)
    login(client, _owner_of(campaign.organization))
    response = client.post(f"/manage/campaigns/{campaign.slug}/payout-account")
    assert response.status_code == 303 and "/connect/onboarding/acct_" in response.headers["Location"]
    [account] = fake_stripe.of_kind("account")
    assert account["country"] == country  # passed explicitly, cross-border or not
    assert account["tos_acceptance"]["service_agreement"] == "recipient"
    assert account["capabilities"] == {"transfers": "inactive"}  # transfers only: no card_payments
    stored = db.session.scalar(select(ConnectedAccount))
    assert (stored.country, stored.service_agreement, stored.can_receive_transfers) == (country, "recipient", False)
    assert fake_stripe.invalid_requests() == []


def test_the_fake_refuses_a_cross_border_account_on_the_full_agreement(fake_stripe):
    import stripe

    client = stripe.StripeClient("sk_test_fake", base_addresses={"api": fake_stripe.url})
    with pytest.raises(stripe.InvalidRequestError, match="recipient"):
        client.v1.accounts.create(params={"type": "express", "country": "DE",
                                          "capabilities": {"transfers": {"requested": True}}})


# -- the Connect webhook endpoint ----------------------------------------------------------------
def test_connect_events_are_verified_with_the_connect_secret_and_each_endpoint_refuses_the_other_kind(
        client, fake_stripe):
    campaign = _campaign_in("FR")
    payouts.onboarding_link(campaign.organization, "o@example.org", return_url="http://harambee.test/b",
                            refresh_url="http://harambee.test/b")
    db.session.commit()
    account = payouts.account_of(campaign.organization)
    events = fake_stripe.onboard(account.processor_account_id)
    assert [e["type"] for e in events] == ["account.updated", "capability.updated"]
    assert all(e["account"] == account.processor_account_id for e in events)
    for event in events:
        # signed with the platform's secret: the Connect endpoint refuses it, and nothing is recorded
        body, headers = fake_stripe.webhook_request(event, fake_stripe.webhook_secret)
        assert client.post(CONNECT_URL, data=body, headers=headers).status_code == 400
        # a Connect event at the platform endpoint, even signed with its secret, is refused
        assert client.post(PLATFORM_URL, data=body, headers=headers).status_code == 400
    assert not fresh(account).can_receive_transfers
    # a platform event signed with the Connect secret: refused by the platform endpoint and by the Connect one
    platform_event = fake_stripe.event("payout.paid", {"id": "po_1", "object": "payout", "amount": 1,
                                                       "currency": "eur", "status": "paid"})
    body, headers = fake_stripe.webhook_request(platform_event, fake_stripe.connect_webhook_secret)
    assert client.post(PLATFORM_URL, data=body, headers=headers).status_code == 400
    assert client.post(CONNECT_URL, data=body, headers=headers).status_code == 400
    # each with its own secret, to its own endpoint
    for event in events:
        body, headers = fake_stripe.webhook_request(event)
        assert client.post(CONNECT_URL, data=body, headers=headers).status_code == 200
        assert client.post(CONNECT_URL, data=body, headers=headers).get_json()["status"] == "already processed"
    account = fresh(account)
    assert account.payouts_enabled and account.transfers_capability == "active" and account.can_receive_transfers


# -- capability gating, transfers in the settlement currency -------------------------------------
def test_transfers_wait_for_the_transfers_capability_and_then_go_per_charge(app, fake_stripe):
    campaign = _campaign_in("FR")
    first = paid_pledge(fake_stripe, campaign, 3_000, email="a@example.org")
    second = paid_pledge(fake_stripe, campaign, 2_000, email="b@example.org")
    account = _connected(fake_stripe, campaign, transfers="pending")
    assert account.payouts_enabled and not account.can_receive_transfers
    _close(campaign)
    assert batches.pay_out_due(_after_hold(app)) == 0
    assert fake_stripe.count("transfer") == 0
    with app.test_request_context("/"):
        assert "transfers capability" in payouts.status_for(fresh(campaign), _after_hold(app))
    deliver(fake_stripe.set_capability(account.processor_account_id, "transfers", "active"))
    assert batches.pay_out_due(_after_hold(app)) == 1
    sent = {t["source_transaction"]: t for t in fake_stripe.of_kind("transfer")}
    assert set(sent) == {first.charge_id, second.charge_id}
    for pledge in (fresh(first), fresh(second)):
        transfer = sent[pledge.charge_id]
        assert transfer["currency"] == "eur" and transfer["transfer_group"] == f"campaign-{campaign.id}"
        assert transfer["amount"] == pledge.settled_amount  # what the charge settled as, less its fee
    keys = [r.idempotency_key for r in fake_stripe.requests if r.path == "/v1/transfers"]
    assert len(keys) == 2 and all(f"transfer-pledge-{p.id}-" in k for p, k in zip((first, second), keys))
    # the capability goes inactive: a later charge's transfer waits again
    deliver(fake_stripe.set_capability(account.processor_account_id, "transfers", "inactive"))
    assert not fresh(account).can_receive_transfers


def test_a_campaign_in_xof_is_transferred_in_the_settlement_currency_and_the_ledger_reconciles(app, fake_stripe):
    load_rates(utcnow().date(), XOF="655.957")
    fake_stripe.settlement_currency = "eur"
    fake_stripe.exchange_rates = {"xof": Decimal(1) / Decimal("655.957")}
    campaign = _campaign_in("FR", "XOF")
    pledges = [paid_pledge(fake_stripe, campaign, amount, email=f"{i}@example.org")
               for i, amount in enumerate((20_000, 15_000))]
    _connected(fake_stripe, campaign)
    _close(campaign)
    assert batches.pay_out_due(_after_hold(app)) == 1
    deliver_pending(fake_stripe)
    transfers = db.session.scalars(select(Transfer).order_by(Transfer.id)).all()
    assert [t.currency for t in transfers] == ["EUR", "EUR"] and [t.campaign_currency for t in transfers] == ["XOF"] * 2
    for transfer, pledge in zip(transfers, pledges):
        pledge = fresh(pledge)
        assert pledge.settled_currency == "EUR" and transfer.amount == pledge.settled_amount
        assert fake_stripe.objects[transfer.processor_transfer_id]["currency"] == "eur"
    # the ledger: the campaign's account is empty (XOF), what left the balance is booked in EUR too
    assert ledger.balance(ledger.campaign_account(campaign.id), "XOF") == Money(0, "XOF")
    out = entries(kind="transfer_out")
    assert {(e.currency, e.processor_currency) for e in out} == {("XOF", "EUR")}
    assert sum(e.processor_amount for e in out) == sum(t.amount for t in transfers)
    assert all(v == 0 for v in _sums().values())
    today = utcnow().date()
    assert reconcile.reconcile(today, today) == []


def test_the_fake_refuses_a_transfer_above_the_charge_or_in_another_currency(app, fake_stripe):
    import stripe

    campaign = _campaign_in("FR")
    pledge = paid_pledge(fake_stripe, campaign, 3_000)
    account = _connected(fake_stripe, campaign)
    client = stripe.StripeClient("sk_test_fake", base_addresses={"api": fake_stripe.url})
    base = {"destination": account.processor_account_id, "source_transaction": pledge.charge_id}
    with pytest.raises(stripe.InvalidRequestError, match="exceeds"):
        client.v1.transfers.create(params={**base, "amount": pledge.settled_amount + 1, "currency": "eur"})
    with pytest.raises(stripe.InvalidRequestError, match="currency"):
        client.v1.transfers.create(params={**base, "amount": 100, "currency": "usd"})
    client.v1.transfers.create(params={**base, "amount": pledge.settled_amount, "currency": "eur"})
    with pytest.raises(stripe.InvalidRequestError, match="exceeds"):  # the charge's money is all passed on
        client.v1.transfers.create(params={**base, "amount": 1, "currency": "eur"})


# -- reversals -------------------------------------------------------------------------------------
def _paid_out(app, fake, amounts=(4_000, 2_500)):
    campaign = _campaign_in("FR")
    pledges = [paid_pledge(fake, campaign, amount, email=f"{i}@example.org") for i, amount in enumerate(amounts)]
    _connected(fake, campaign)
    _close(campaign)
    assert batches.pay_out_due(_after_hold(app)) == 1
    deliver_pending(fake)
    return campaign, pledges


def _sums() -> dict[str, int]:
    """The trial balance summed per currency (zero for every currency when every entry balances)."""
    totals: dict[str, int] = {}
    for (_account, currency), value in ledger.trial_balance().items():
        totals[currency] = totals.get(currency, 0) + value
    return totals


def test_a_refund_after_the_transfer_reverses_its_share_once_and_the_ledger_stays_right(app, fake_stripe):
    campaign, (pledge, other) = _paid_out(app, fake_stripe)
    transfer = db.session.scalar(select(Transfer).where(Transfer.pledge_id == pledge.id))
    before = transfer.amount
    owner = organizer_of(campaign)
    refunds.request_refund(fresh(pledge), owner, Money(1_000, "EUR"), "Out of stock")
    db.session.commit()
    events = fake_stripe.take_events()
    deliver(events)
    deliver(events)  # redelivered: nothing more is reversed
    deliver_pending(fake_stripe)  # transfer.reversed: already booked
    [reversal] = fake_stripe.of_kind("transfer_reversal")
    assert reversal["transfer"] == transfer.processor_transfer_id and reversal["amount"] == 1_000
    transfer = fresh(transfer)
    assert transfer.reversed_amount == 1_000 and transfer.amount == before
    assert [e.amount for e in entries(kind="transfer_reversal")] == [1_000]
    assert ledger.balance(ledger.campaign_account(campaign.id), "EUR") == Money(0, "EUR")
    assert ledger.balance(ledger.organization_account(campaign.organization_id), "EUR").amount == (
        fake_stripe.objects[transfer.processor_transfer_id]["amount"] - 1_000
        + db.session.scalar(select(Transfer.amount).where(Transfer.pledge_id == other.id)))
    today = utcnow().date()
    assert reconcile.reconcile(today, today) == []


def test_a_lost_dispute_after_the_transfer_reverses_the_whole_transfer(app, fake_stripe):
    campaign, (pledge, _other) = _paid_out(app, fake_stripe)
    transfer = db.session.scalar(select(Transfer).where(Transfer.pledge_id == pledge.id))
    created, withdrawn = fake_stripe.dispute(pledge.payment_intent_id)
    deliver([created, withdrawn])
    assert fake_stripe.count("transfer_reversal") == 0  # an open chargeback reverses nothing yet
    closed = fake_stripe.close_dispute(created["data"]["object"]["id"], won=False)
    deliver(closed)
    deliver(closed)
    deliver_pending(fake_stripe)
    [reversal] = fake_stripe.of_kind("transfer_reversal")
    assert reversal["amount"] == transfer.amount
    assert fresh(transfer).reversed_amount == transfer.amount
    assert [e.amount for e in entries(kind="transfer_reversal")] == [transfer.campaign_amount]
    today = utcnow().date()
    assert reconcile.reconcile(today, today) == []


def test_the_sandbox_onboarding_activates_transfers_and_the_transfer_leaves_after_the_hold(app, client, login):
    campaign = keep_it_all(goal=1_000, organization=OrganizationFactory(name="SCOP Le Pain Partagé", country="FR"))
    db.session.commit()
    from tests.payments.test_payouts import _paid_pledge

    _paid_pledge(client, campaign, "40")
    login(client, _owner_of(campaign.organization))
    response = client.post(f"/manage/campaigns/{campaign.slug}/payout-account")
    onboarding = response.headers["Location"].split("harambee.test", 1)[1]
    assert client.post(onboarding).status_code == 302  # the Connect events, through the Connect path
    account = db.session.scalar(select(ConnectedAccount))
    assert account.payouts_enabled and account.transfers_capability == "active"
    _close(campaign)
    assert batches.pay_out_due(_after_hold(app)) == 1
    [transfer] = db.session.scalars(select(Transfer)).all()
    assert transfer.status == TransferStatus.SENT and transfer.source_charge_id
    page = client.get(f"/manage/campaigns/{campaign.slug}/money").get_data(as_text=True)
    assert "Transferred to the organization" in page


def test_the_demo_puts_the_lyon_bakery_on_connect_in_the_sandbox(app):
    from webapp import demo
    from webapp.organizations.models import Organization

    demo.load_all()
    demo.load_all()  # safe to run twice
    db.session.commit()
    bakery = db.session.scalar(select(Organization).where(Organization.slug == "scop-pain-lyon"))
    [account] = db.session.scalars(select(ConnectedAccount)).all()
    assert account.organization_id == bakery.id and account.service_agreement == "recipient"
    assert account.can_receive_transfers and account.payouts_enabled
