"""A gift in the supporter's own currency (converted and booked like a pledge's), the platform's optional tip
charged with each period and booked apart, and what My support, the form and the statement show of them."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from flask import url_for
from sqlalchemy import select

from tests.campaigns.helpers import sign_in
from tests.payments.money_helpers import deliver
from tests.payments.recurring.helpers import OK_CARD, after_due, association, booked, fees, supporter
from tests.payments.support import RATE_DATE
from webapp.extensions import db
from webapp.ledger import services as ledger
from webapp.ledger.models import LedgerEntry
from webapp.money import Money
from webapp.payments import batches
from webapp.payments.recurring import reports
from webapp.payments.recurring import services as recurring
from webapp.payments.recurring.models import RecurringCharge, RecurringSupport, SupportInterval

CAD_PER_EUR = Decimal("1.4650")  # the conftest's rate


def paid_gift(fake, user, org, amount: Money, tip: Money | None = None) -> RecurringSupport:
    support = recurring.start(user, org, amount, SupportInterval.MONTHLY, "America/Toronto", "fr", tip=tip)
    recurring.open_checkout(support, "http://harambee.test/support/mine", "http://harambee.test/")
    db.session.commit()
    deliver(fake.complete_checkout(support.checkout_session_id, OK_CARD))
    db.session.expire_all()
    return db.session.get(RecurringSupport, support.id)


def intents(fake) -> list[dict]:
    return [r.params for r in fake.requests if r.method == "POST" and r.path == "/v1/payment_intents"]


def checkout_amounts(fake) -> list[int]:
    return [int(r.params["line_items"][0]["price_data"]["unit_amount"]) for r in fake.requests
            if r.method == "POST" and r.path == "/v1/checkout/sessions"]


def test_a_gift_in_the_supporters_currency_is_charged_in_it_and_booked_converted_each_period(fake_stripe):
    org, user = association(currency="EUR"), supporter()
    support = paid_gift(fake_stripe, user, org, Money(2_500, "CAD"))
    assert checkout_amounts(fake_stripe) == [2_500]
    assert batches.renew_due(after_due(support)).charged == 1
    [renewal] = intents(fake_stripe)
    assert (int(renewal["amount"]), renewal["currency"]) == (2_500, "cad")
    in_eur = int((Decimal(25) / CAD_PER_EUR * 100).quantize(Decimal(1), rounding="ROUND_HALF_UP"))  # 1 707
    assert [(a, c) for _, a, c in booked(support)] == [(in_eur, "EUR"), (in_eur, "EUR")]
    entries = db.session.scalars(select(LedgerEntry).where(LedgerEntry.cause == f"recurring:{support.id}",
                                                           LedgerEntry.kind == "recurring_charge")).all()
    assert {(e.processor_amount, e.processor_currency) for e in entries} == {(2_500, "CAD")}
    fees = sum(a for _, a, _ in booked(support, ("processor_fee",)))  # the processor's, booked converted too
    assert fees > 0
    assert ledger.balance(ledger.organization_account(org.id), "EUR").amount == 2 * in_eur - fees
    assert ledger.balance(ledger.organization_account(org.id), "CAD").amount == 0
    for charge in db.session.scalars(select(RecurringCharge).where(RecurringCharge.support_id == support.id)):
        assert charge.fx_date == RATE_DATE and abs(charge.fx_rate - 1 / CAD_PER_EUR) < Decimal("1e-9")


def test_a_gift_in_the_organizations_currency_is_booked_as_charged(fake_stripe):
    org, user = association(currency="CAD"), supporter()
    support = paid_gift(fake_stripe, user, org, Money(2_500, "CAD"))
    [(_, amount, currency)] = booked(support)
    assert (amount, currency) == (2_500, "CAD")
    assert db.session.scalar(select(RecurringCharge.fx_rate).where(RecurringCharge.support_id == support.id)) is None


def test_an_organization_that_takes_only_its_currency_refuses_another(app):
    org, user = association(currency="EUR", accepts_supporter_currency=False), supporter()
    with pytest.raises(recurring.SupportRefused):
        recurring.start(user, org, Money(2_500, "CAD"), SupportInterval.MONTHLY, "America/Toronto", "fr")
    assert recurring.start(user, org, Money(2_500, "EUR"), SupportInterval.MONTHLY, "Europe/Paris", "fr")


def test_no_rate_no_gift_in_that_currency(app):
    org, user = association(currency="EUR"), supporter()
    with pytest.raises(recurring.SupportRefused, match="exchange rate|taux"):
        recurring.start(user, org, Money(500_000, "NGN"), SupportInterval.MONTHLY, "Africa/Lagos", "fr")


def test_below_the_processors_minimum_in_the_supporters_currency_is_refused(app):
    org, user = association(currency="EUR"), supporter()
    with pytest.raises(recurring.SupportRefused):
        recurring.start(user, org, Money(10, "CAD"), SupportInterval.MONTHLY, "America/Toronto", "fr")


def test_the_tip_is_charged_with_each_period_and_booked_to_the_platform_apart(fake_stripe):
    org, user = association(currency="CAD"), supporter()
    support = paid_gift(fake_stripe, user, org, Money(2_500, "CAD"), tip=Money(200, "CAD"))
    assert checkout_amounts(fake_stripe) == [2_700]
    assert batches.renew_due(after_due(support)).charged == 1
    [renewal] = intents(fake_stripe)
    assert int(renewal["amount"]) == 2_700
    assert ledger.balance(ledger.organization_account(org.id), "CAD").amount == 5_000 - fees(support)
    assert ledger.balance(ledger.PLATFORM_REVENUE, "CAD").amount == 400
    tips = [e for e in db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "tip"))]
    assert sorted(e.key for e in tips) == sorted(f"tip:recurring:{support.id}:{p}" for p in
                                               db.session.scalars(select(RecurringCharge.period)))
    [line] = reports.statement(user, support.created_at.year)
    assert (line.total, line.renewals, line.tip) == (Money(5_000, "CAD"), 2, Money(400, "CAD"))


def test_a_converted_tip_is_booked_at_the_gifts_rate(fake_stripe):
    org, user = association(currency="EUR"), supporter()
    support = paid_gift(fake_stripe, user, org, Money(2_500, "CAD"), tip=Money(300, "CAD"))
    [tip] = [e for e in db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "tip"))]
    assert (tip.currency, tip.processor_amount, tip.processor_currency) == ("EUR", 300, "CAD")
    assert tip.amount == int((Decimal(3) / CAD_PER_EUR * 100).quantize(Decimal(1), rounding="ROUND_HALF_UP"))
    [line] = reports.statement(user, support.created_at.year)
    assert (line.total, line.tip) == (Money(2_500, "CAD"), Money(300, "CAD"))


@pytest.mark.parametrize("tip", [Money(3_000, "CAD"), Money(100, "EUR")])
def test_a_tip_larger_than_the_gift_or_in_another_currency_is_refused(app, tip):
    org, user = association(currency="CAD"), supporter()
    with pytest.raises(recurring.SupportRefused):
        recurring.start(user, org, Money(2_500, "CAD"), SupportInterval.MONTHLY, "America/Toronto", "fr", tip=tip)


def test_the_form_offers_the_organizations_currency_and_the_supporters_with_the_approximate(app):
    org, user = association(currency="EUR"), supporter(display_currency="CAD", locale="en")
    db.session.commit()
    client = app.test_client()
    sign_in(client, user)
    page = client.get(url_for("recurring.start", slug=org.slug)).get_data(as_text=True)
    assert '<option selected value="CAD">' in page or 'value="CAD" selected' in page or 'selected value="CAD"' in page
    assert 'value="EUR"' in page and 'value="USD"' not in page
    assert "≈" in page and "receives your gift in EUR" in page
    assert 'name="tip"' in page


def test_the_form_refuses_a_currency_the_organization_does_not_accept(app):
    org, user = association(currency="EUR", accepts_supporter_currency=False), supporter(display_currency="CAD")
    db.session.commit()
    client = app.test_client()
    sign_in(client, user)
    page = client.get(url_for("recurring.start", slug=org.slug)).get_data(as_text=True)
    assert 'value="CAD"' not in page
    response = client.post(url_for("recurring.start", slug=org.slug), data={
        "amount": "25", "currency": "CAD", "interval": "monthly", "timezone": "America/Toronto"})
    assert response.status_code == 400
    assert db.session.scalar(select(RecurringSupport.id)) is None


def test_my_support_shows_the_approximate_and_the_tip(fake_stripe, app):
    org, user = association(currency="EUR"), supporter(locale="en")
    paid_gift(fake_stripe, user, org, Money(2_500, "CAD"), tip=Money(200, "CAD"))
    client = app.test_client()
    sign_in(client, user)
    page = client.get(url_for("recurring.mine")).get_data(as_text=True)
    assert "≈" in page and "received by" in page
    assert "tip for Harambee" in page
    statement = client.get(url_for("recurring.statement", year=date.today().year)).get_data(as_text=True)
    assert "Tips to Harambee" in statement


def test_my_support_names_the_saved_card_by_its_brand_and_last_four(fake_stripe, app):
    org, user = association(currency="CAD"), supporter(locale="en")
    paid_gift(fake_stripe, user, org, Money(2_500, "CAD"))
    method = recurring.saved_method(user.id)
    assert (method.brand, method.last4) == ("visa", "4242")
    assert any(r.method == "GET" and r.path == f"/v1/payment_methods/{method.payment_method_id}"
               for r in fake_stripe.requests)
    client = app.test_client()
    sign_in(client, user)
    assert "Visa ending in 4242" in client.get(url_for("recurring.mine")).get_data(as_text=True)


@pytest.mark.parametrize("country, currency", [("BJ", "XOF"), ("CA", "CAD"), ("FR", "EUR"), ("AQ", "EUR")])
def test_a_new_organization_books_in_its_countrys_currency(app, country, currency):
    from webapp.organizations import services as organizations
    from webapp.organizations.models import LegalForm

    details = organizations.OrganizationDetails(name=f"Coop {country}", legal_form=LegalForm.COOPERATIVE,
                                                country=country, region=None, description="", website=None)
    assert organizations.create_organization(supporter(), details).currency == currency
