"""The demo: the Ganvié school kitchen's indicators and a report whose values await confirmation, loaded once."""
from __future__ import annotations

from flask import url_for
from sqlalchemy import select

from webapp import demo
from webapp.campaigns.models import Campaign
from webapp.extensions import db
from webapp.impact.models import ConfirmationAnswer, ConfirmationRequest, Indicator, IndicatorValue


def test_the_demo_kitchen_has_indicators_and_values_awaiting_confirmation_once(app):
    demo.load_all()
    db.session.commit()
    assert demo.load_all()["impact indicators"] == 0
    db.session.commit()
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == "ganvie-school-kitchen"))
    indicators = list(db.session.scalars(select(Indicator).where(Indicator.campaign_id == campaign.id)))
    assert sorted(i.source.value for i in indicators) == ["catalog", "custom", "sdg"]
    values = list(db.session.scalars(select(IndicatorValue).where(IndicatorValue.campaign_id == campaign.id)))
    assert len(values) == 3 and sum(v.asked_at is not None for v in values) == 2
    requests = list(db.session.scalars(select(ConfirmationRequest)))
    assert requests and all(r.answered_on is None and r.address is None for r in requests)
    assert db.session.scalar(select(ConfirmationAnswer.id)) is None
    html = app.test_client().get(url_for("campaigns.show", slug=campaign.slug)).get_data(as_text=True)
    assert "Confirmed by 0 of" in html and "Not yet put to the people concerned." in html
