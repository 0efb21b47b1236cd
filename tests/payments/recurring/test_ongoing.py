"""The page where an organization's editors mark a live campaign as ongoing (it takes monthly and yearly gifts)."""
from __future__ import annotations

import pytest
from flask import url_for

from tests.campaigns.helpers import sign_in
from tests.factories import CampaignFactory, OrganizationFactory
from tests.payments.recurring.helpers import association, editor_of, supporter
from webapp.extensions import db
from webapp.money import Money
from webapp.payments.recurring import services as recurring
from webapp.payments.recurring.models import SupportInterval


def test_an_editor_marks_a_live_campaign_ongoing_then_it_takes_gifts_then_stops(app):
    org = association(currency="XOF")
    fund = CampaignFactory(organization=org, live=True, currency="XOF", title="Fonds d'urgence")
    editor, user = editor_of(org, email="ed@example.org"), supporter()
    db.session.commit()
    with pytest.raises(recurring.SupportRefused):
        recurring.start(user, org, Money(5_000, "XOF"), SupportInterval.MONTHLY, "Africa/Porto-Novo", "fr",
                        campaign=fund)
    client = app.test_client()
    sign_in(client, editor)
    page = client.get(url_for("recurring.ongoing", slug=org.slug)).get_data(as_text=True)
    assert "Fonds d" in page and "Not taken" in page
    response = client.post(url_for("recurring.set_ongoing", slug=org.slug, campaign_slug=fund.slug),
                           data={"ongoing": "1"})
    assert response.status_code == 302
    db.session.expire_all()
    assert fund.ongoing is True
    support = recurring.start(user, org, Money(5_000, "XOF"), SupportInterval.MONTHLY, "Africa/Porto-Novo", "fr",
                              campaign=fund)
    assert support.booked_currency == "XOF"
    db.session.commit()
    client.post(url_for("recurring.set_ongoing", slug=org.slug, campaign_slug=fund.slug), data={"ongoing": "0"})
    db.session.expire_all()
    assert fund.ongoing is False
    with pytest.raises(recurring.SupportRefused):
        recurring.start(user, org, Money(5_000, "XOF"), SupportInterval.MONTHLY, "Africa/Porto-Novo", "fr",
                        campaign=fund)


def test_a_campaign_that_is_not_live_cannot_be_marked_and_others_campaigns_are_not_found(app):
    org = association()
    draft = CampaignFactory(organization=org, draft=True)
    elsewhere = CampaignFactory(organization=OrganizationFactory(slug="ailleurs"), live=True)
    editor = editor_of(org, email="ed@example.org")
    db.session.commit()
    client = app.test_client()
    sign_in(client, editor)
    assert draft.title not in client.get(url_for("recurring.ongoing", slug=org.slug)).get_data(as_text=True)
    assert client.post(url_for("recurring.set_ongoing", slug=org.slug, campaign_slug=draft.slug),
                       data={"ongoing": "1"}).status_code == 409
    assert client.post(url_for("recurring.set_ongoing", slug=org.slug, campaign_slug=elsewhere.slug),
                       data={"ongoing": "1"}).status_code == 404
    db.session.expire_all()
    assert (draft.ongoing, elsewhere.ongoing) == (False, False)


@pytest.mark.parametrize("value", ["", "yes", "2"])
def test_a_choice_that_is_neither_is_a_400(app, value):
    org = association()
    fund = CampaignFactory(organization=org, live=True)
    editor = editor_of(org, email="ed@example.org")
    db.session.commit()
    client = app.test_client()
    sign_in(client, editor)
    response = client.post(url_for("recurring.set_ongoing", slug=org.slug, campaign_slug=fund.slug),
                           data={"ongoing": value})
    assert response.status_code == 400
    db.session.expire_all()
    assert fund.ongoing is False
