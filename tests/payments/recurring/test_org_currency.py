"""An organization's owners set its currency and whether it takes its supporters': validated against the
platform's currencies, refused to its editors, and leaving every gift already started as it was."""
from __future__ import annotations

import pytest
from flask import url_for
from sqlalchemy import select

from tests.campaigns.helpers import sign_in
from tests.factories import MembershipFactory, UserFactory
from tests.payments.recurring.helpers import after_due, association, booked, editor_of, start_gift, supporter
from webapp.extensions import db
from webapp.ledger.models import LedgerEntry
from webapp.money import Money
from webapp.organizations.models import Organization
from webapp.payments import batches
from webapp.payments.recurring import services as recurring
from webapp.payments.recurring.models import SupportInterval


def owner_of(org):
    user = UserFactory(verified=True, email="owner@example.org")
    MembershipFactory(organization=org, user=user, owner=True)
    return user


def org_now(org) -> Organization:
    db.session.expire_all()
    return db.session.get(Organization, org.id)


def test_an_owner_changes_the_currency_and_existing_gifts_keep_theirs(fake_stripe, client):
    org = association(currency="CAD")
    support = start_gift(fake_stripe, supporter(), org)  # 25 CAD a month, booked in CAD
    sign_in(client, owner_of(org))
    page = client.get(url_for("recurring.currency", slug=org.slug))
    assert page.status_code == 200 and 'value="XOF"' in page.get_data(as_text=True)
    response = client.post(url_for("recurring.currency", slug=org.slug), data={"currency": "XOF", "accepts": "0"})
    assert response.status_code == 302
    org = org_now(org)
    assert (org.currency, org.accepts_supporter_currency) == ("XOF", False)

    assert batches.renew_due(after_due(support)).charged == 1  # the gift renews as it was: in CAD, booked in CAD
    assert {c for _, _, c in booked(support)} == {"CAD"} and len(booked(support)) == 2
    with pytest.raises(recurring.SupportRefused):  # a new gift is in XOF only now
        recurring.start(supporter(email="new@example.org"), org, Money(2_500, "CAD"), SupportInterval.MONTHLY,
                        "America/Toronto", "fr")
    new = recurring.start(supporter(email="new2@example.org"), org, Money(5_000, "XOF"), SupportInterval.MONTHLY,
                          "Africa/Porto-Novo", "fr")
    assert new.booked_currency == "XOF"


@pytest.mark.parametrize("data", [{"currency": "ZZZ", "accepts": "1"}, {"currency": "BTC", "accepts": "1"},
                                  {"currency": "", "accepts": "1"}, {"currency": "EUR", "accepts": "maybe"},
                                  {"currency": "EUR"}, {}])
def test_a_currency_the_platform_does_not_take_or_a_bad_choice_is_a_400_and_changes_nothing(client, data):
    org = association(currency="CAD")
    sign_in(client, owner_of(org))
    response = client.post(url_for("recurring.currency", slug=org.slug), data=data)
    assert response.status_code == 400
    org = org_now(org)
    assert (org.currency, org.accepts_supporter_currency) == ("CAD", True)


def test_an_editor_who_is_not_an_owner_is_refused_and_nothing_changes(client):
    org = association(currency="CAD")
    sign_in(client, editor_of(org, email="kofi@example.org"))
    assert client.post(url_for("recurring.currency", slug=org.slug),
                       data={"currency": "EUR", "accepts": "1"}).status_code == 403
    assert org_now(org).currency == "CAD"


def test_the_service_refuses_a_currency_the_processor_cannot_charge(app, monkeypatch):
    org = association(currency="CAD")
    owner = owner_of(org)
    monkeypatch.setitem(app.config, "SUPPORTED_CURRENCIES", [*app.config["SUPPORTED_CURRENCIES"], "ZWL"])
    with pytest.raises(recurring.SupportRefused):
        recurring.set_currency(org, owner, "ZWL", True)
    assert db.session.scalars(select(LedgerEntry)).all() == []
