"""A recurring gift directed to an organization's pooled fund: each period is booked into the fund's account
(`pooled_fund:<id>`) instead of the organization's, and its fee, refunds and disputes draw back from the fund."""
from __future__ import annotations

import pytest
from flask import url_for
from sqlalchemy import select

from tests.campaigns.helpers import sign_in
from tests.factories import CampaignFactory, OrganizationFactory
from tests.payments.money_helpers import deliver
from tests.payments.recurring.helpers import after_due, association, editor_of, supporter
from webapp.extensions import db
from webapp.governance import funds
from webapp.ledger import services as ledger
from webapp.money import Money
from webapp.payments import batches
from webapp.payments.models import Refund
from webapp.payments.recurring import reports
from webapp.payments.recurring import services as recurring
from webapp.payments.recurring.models import RecurringCharge, RecurringSupport, SupportInterval

FEE = 1_500  #: the fake's dispute fee


def held(account: str, currency: str = "CAD") -> int:
    db.session.expire_all()
    return ledger.balance(account, currency).amount


@pytest.fixture
def pooled(fake_stripe):
    """A CAD association with a CAD pooled fund, and a supporter whose monthly gift goes to the fund, its first
    period paid on Checkout and its second renewed off-session."""
    org, user = association(), supporter()
    fund = funds.open_fund(org, editor_of(org, email="board@example.org"), "Caisse commune", "", "CAD")
    target = recurring.fund_target(org.id, fund.id)
    support = recurring.start(user, org, Money(2_500, "CAD"), SupportInterval.MONTHLY, "America/Toronto", "fr",
                              fund=target)
    recurring.open_checkout(support, "http://harambee.test/support/mine", "http://harambee.test/")
    db.session.commit()
    deliver(fake_stripe.complete_checkout(support.checkout_session_id, "4242424242424242"))
    support = db.session.get(RecurringSupport, support.id)
    assert batches.renew_due(after_due(support)).charged == 1
    db.session.commit()
    return org, fund, db.session.get(RecurringSupport, support.id)


def the_charges(support) -> list[RecurringCharge]:
    db.session.expire_all()
    return list(db.session.scalars(select(RecurringCharge).where(RecurringCharge.support_id == support.id)
                                   .order_by(RecurringCharge.period)))


def test_each_period_of_a_gift_to_a_pooled_fund_is_booked_into_the_fund_not_the_organization(pooled):
    org, fund, support = pooled
    first, second = the_charges(support)
    fees = first.settled_fee + second.settled_fee
    assert support.pooled_fund_id == fund.id and support.booked_in == "CAD"
    assert held(funds.fund_account(fund.id)) == 2 * 2_500 - fees
    assert held(ledger.organization_account(org.id)) == 0
    entries = db.session.scalars(select(ledger.LedgerEntry).where(ledger.LedgerEntry.kind == "recurring_charge")).all()
    assert {e.credit_account for e in entries} == {f"pooled_fund:{fund.id}"}
    # the organization's recurring income still counts what its supporters gave, to the fund included
    assert sum(n for _, _, n in reports.income_by_month(org.id)) == 2


def test_a_refund_and_a_lost_dispute_of_a_period_draw_back_from_the_fund(pooled, fake_stripe, client):
    org, fund, support = pooled
    first, second = the_charges(support)
    account = funds.fund_account(fund.id)
    before = held(account)
    sign_in(client, editor_of(org, email="kofi@example.org"))
    response = client.post(url_for("recurring.refund", slug=org.slug, charge_id=second.id),
                           data={"amount": "10.00", "reason": "Donné deux fois"})
    assert response.status_code == 302
    refund = db.session.scalars(select(Refund)).one()
    deliver(fake_stripe.refund_events(refund.processor_refund_id))
    assert held(account) == before - 1_000
    assert held(ledger.organization_account(org.id)) == 0

    deliver(fake_stripe.dispute(first.charge_id))
    assert held(account) == before - 1_000 - 2_500 - FEE
    assert held(ledger.organization_account(org.id)) == 0
    page = client.get(url_for("governance.fund", fund_id=fund.id)).get_data(as_text=True)
    assert page.count("Monthly or yearly support") == 2 and "Refund of a supporter’s payment" in page
    assert "Payment disputed by the supporter’s bank" in page and "−" in page


def test_a_gift_is_refused_for_another_organizations_fund_or_with_a_campaign(fake_stripe):
    org, user = association(), supporter()
    other = OrganizationFactory(slug="autre", currency="CAD")
    theirs = funds.open_fund(other, editor_of(other, email="a@example.org"), "Leur caisse", "", "CAD")
    foreign = recurring.fund_target(other.id, theirs.id)
    with pytest.raises(recurring.SupportRefused):
        recurring.start(user, org, Money(2_500, "CAD"), SupportInterval.MONTHLY, "America/Toronto", "fr",
                        fund=foreign)
    mine = funds.open_fund(org, editor_of(org, email="b@example.org"), "Caisse", "", "CAD")
    campaign = CampaignFactory(organization=org, live=True, currency="CAD", ongoing=True)
    with pytest.raises(recurring.SupportRefused):
        recurring.start(user, org, Money(2_500, "CAD"), SupportInterval.MONTHLY, "America/Toronto", "fr",
                        fund=recurring.fund_target(org.id, mine.id), campaign=campaign)


def test_the_start_page_offers_the_fund_and_books_the_gift_into_it(fake_stripe, client):
    org, user = association(), supporter()
    fund = funds.open_fund(org, editor_of(org, email="b@example.org"), "Caisse commune", "", "CAD")
    db.session.commit()
    sign_in(client, user)
    page = client.get(url_for("recurring.start", slug=org.slug))
    assert url_for("recurring.start", slug=org.slug, fund=fund.id) in page.get_data(as_text=True)
    page = client.get(url_for("recurring.start", slug=org.slug, fund=fund.id))
    assert page.status_code == 200 and "Caisse commune" in page.get_data(as_text=True)
    assert client.get(url_for("recurring.start", slug=org.slug, fund="999999")).status_code == 404
    assert client.get(url_for("recurring.start", slug=org.slug, fund="x1")).status_code == 404
    response = client.post(url_for("recurring.start", slug=org.slug, fund=fund.id),
                           data={"amount": "25.00", "currency": "CAD", "interval": "monthly",
                                 "timezone": "America/Toronto", "tip": ""})
    assert response.status_code == 303
    support = db.session.scalars(select(RecurringSupport)).one()
    assert support.pooled_fund_id == fund.id
    assert "Caisse commune" in recurring.describe(support)
