"""The pages of recurring support: "My support", the organization's recurring income per month, the public
transparency apart from campaigns, the yearly statement in the supporter's language, the demo's "next month"."""
from __future__ import annotations

from flask import url_for

from tests.campaigns.helpers import sign_in
from tests.payments.money_helpers import deliver_pending
from tests.payments.recurring.helpers import after_due, association, booked, charges, editor_of, start_gift, supporter
from webapp.extensions import db
from webapp.payments import batches


def text(response) -> str:
    return response.get_data(as_text=True)


def test_my_support_lists_each_gift_with_its_next_date_and_amount(fake_stripe, client):
    user = supporter(locale="en")
    support = start_gift(fake_stripe, user, association(), amount=2_500, currency="CAD")
    sign_in(client, user)
    page = text(client.get(url_for("recurring.mine")))
    assert "Association Ganvié Solidarité" in page and "CA$25.00" in page
    assert support.next_charge_on.strftime("%B") in page


def test_the_money_page_shows_recurring_income_per_month_from_the_ledger(fake_stripe, client):
    org = association()
    editor = editor_of(org, email="treasurer@example.org")
    support = start_gift(fake_stripe, supporter(), org, amount=2_500, currency="CAD")
    start_gift(fake_stripe, supporter(email="kofi@example.org"), org, amount=1_000, currency="CAD")
    batches.renew_due(after_due(support))
    deliver_pending(fake_stripe)
    sign_in(client, editor)
    page = text(client.get(url_for("recurring.income", slug=org.slug)))
    # by the month the money came in (here the renewal ran the same month as the first payments)
    month = support.created_at.strftime("%Y-%m")
    assert month in page and "CA$70.00" in page and ">4<" in page  # both gifts, both renewed
    assert len(charges(support)) == 2


def test_the_transparency_page_shows_recurring_support_apart_from_campaigns(fake_stripe, client):
    org = association()
    start_gift(fake_stripe, supporter(), org, amount=2_500, currency="CAD")
    page = text(client.get(url_for("recurring.transparency", slug=org.slug)))
    assert "Monthly and yearly support" in page and "CA$25.00" in page
    assert "No pledge paid yet." in page  # campaigns are counted apart


def test_the_yearly_statement_lists_what_was_given_to_whom_in_the_supporters_language(fake_stripe, client):
    user = supporter(locale="fr")
    support = start_gift(fake_stripe, user, association(), amount=2_500, currency="CAD")
    sign_in(client, user)
    page = text(client.get(url_for("recurring.statement", year=support.created_at.year),
                           headers={"Accept-Language": "fr"}))
    assert "Relevé de mes dons" in page and "Association Ganvié Solidarité" in page and "25,00" in page
    empty = text(client.get(url_for("recurring.statement", year=2001)))
    assert "Association Ganvié" not in empty


def test_the_demo_next_month_charges_the_renewal_once(fake_stripe, client):
    user = supporter()
    support = start_gift(fake_stripe, user, association())
    sign_in(client, user)
    assert client.post(url_for("recurring.next_month", reference=support.reference)).status_code == 302
    assert client.post(url_for("recurring.next_month", reference=support.reference)).status_code == 302
    deliver_pending(fake_stripe)
    db.session.expire_all()
    statuses = charges(support)
    assert list(statuses.values()) == ["succeeded", "succeeded", "succeeded"]  # one per month: two clicks, two months
    assert len(booked(support)) == 3


def test_changing_the_amount_applies_from_the_next_renewal(fake_stripe, client):
    user = supporter()
    support = start_gift(fake_stripe, user, association(), amount=2_500, currency="CAD")
    sign_in(client, user)
    assert client.post(url_for("recurring.change_amount", reference=support.reference),
                       data={"amount": "40"}).status_code == 302
    assert client.post(url_for("recurring.change_amount", reference=support.reference),
                       data={"amount": "abc"}).status_code == 400
    batches.renew_due(after_due(support))
    amounts = sorted(e[1] for e in booked(support))
    assert amounts == [2_500, 4_000]


def test_my_support_offers_the_amount_to_change_with_the_readers_decimal_comma(fake_stripe, client):
    user = supporter(locale="fr")
    support = start_gift(fake_stripe, user, association(), amount=2_500, currency="CAD")
    sign_in(client, user)
    client.post("/language", data={"lang": "fr"})
    page = text(client.get(url_for("recurring.mine")))
    assert f'id="amount-{support.reference}" name="amount" inputmode="decimal" size="8" value="25,00"' in page
    response = client.post(url_for("recurring.change_amount", reference=support.reference), data={"amount": "30,50"})
    assert response.status_code == 302
    db.session.expire_all()
    assert support.amount == 3_050
