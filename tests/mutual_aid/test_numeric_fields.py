"""Numbers typed into the mutual-aid forms: anything outside what the database checks is a field error (a 400 and
the form again), never rounded into a value the database refuses (a 500)."""
from __future__ import annotations

import pytest
from flask import url_for
from sqlalchemy import func, select

from tests.mutual_aid.conftest import draft, member
from tests.mutual_aid.test_events import event_form
from webapp.extensions import db
from webapp.mutual_aid.errors import InvalidEvent
from webapp.mutual_aid.models import DisasterEvent, HelpRequest, Offer, StandingCommitment
from webapp.mutual_aid.services import events


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("radius", [0.5, 0.4, 0.01, 0.999, -0.4, 1000.4, float("nan"), float("inf")])
def test_the_service_refuses_a_radius_the_database_would_refuse_once_rounded(coordinator, relief_org, radius):
    with pytest.raises(InvalidEvent) as refused:
        events.create_event(coordinator, draft(relief_org.id, centre_latitude=6.3, centre_longitude=2.4,
                                               radius_km=radius))
    assert set(refused.value.problems) == {"radius_km"}
    assert "at least 1 km and at most 1000 km" in refused.value.problems["radius_km"]
    assert count(DisasterEvent) == 0


@pytest.mark.parametrize("radius, stored", [(1, 1), (1.4, 1), (1.5, 2), (40.2, 40), (999.6, 1000), (1000, 1000)])
def test_a_radius_inside_the_range_is_stored_in_whole_km_inside_the_range(coordinator, relief_org, radius, stored):
    event = events.create_event(coordinator, draft(relief_org.id, centre_latitude=6.3, centre_longitude=2.4,
                                                   radius_km=radius))
    db.session.commit()
    assert db.session.get(DisasterEvent, event.id).radius_km == stored


def test_editing_a_draft_with_a_radius_under_a_km_re_renders_the_form(coordinator, relief_org, draft_event,
                                                                       signed_in):
    client = signed_in(coordinator)
    response = client.post(url_for("mutual_aid.edit_event", slug=draft_event.slug),
                           data=event_form(relief_org.id, centre_latitude="6.3", centre_longitude="2.4",
                                           radius_km="0.3"))
    assert response.status_code == 400
    assert "at least 1 km and at most 1000 km" in response.get_data(as_text=True)
    assert 'name="radius_km"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(DisasterEvent, draft_event.id).radius_km is None


def test_the_radius_message_is_in_french_for_a_french_coordinator(relief_org, signed_in):
    from webapp.accounts.models import Role

    coordinator = member("coord@example.org", region="BJ-LI", role=Role.COORDINATOR, locale="fr")
    response = signed_in(coordinator).post(
        url_for("mutual_aid.new_event"), headers={"Accept-Language": "fr"},
        data=event_form(relief_org.id, centre_latitude="6.3", centre_longitude="2.4", radius_km="0.5"))
    assert response.status_code == 400
    assert "Le rayon doit être d" in response.get_data(as_text=True)


OFFER = {"category": "goods", "title": "Rice", "capacity": "5", "country": "BJ", "region": "BJ-LI"}
REQUEST = {"category": "goods", "urgency": "high", "household_size": "2", "country": "BJ", "region": "BJ-LI"}


@pytest.mark.parametrize("overrides, field", [
    ({"capacity": "0"}, "capacity"), ({"capacity": "1001"}, "capacity"), ({"capacity": "2.5"}, "capacity"),
    ({"capacity": "1e3"}, "capacity"), ({"capacity": "-1"}, "capacity"),
    ({"capacity": "99999999999999999999999"}, "capacity"),
    ({"latitude": "nan", "longitude": "2.4"}, "latitude"), ({"latitude": "91", "longitude": "2.4"}, "latitude"),
    ({"latitude": "6.3", "longitude": "inf"}, "longitude"), ({"latitude": "6.3", "longitude": "-180.5"}, "longitude"),
])
def test_an_offer_with_a_number_out_of_range_is_a_field_error(active_event, signed_in, overrides, field):
    client = signed_in(member("helper@example.org", region="BJ-LI"))
    response = client.post(url_for("mutual_aid.new_offer", slug=active_event.slug), data={**OFFER, **overrides})
    assert response.status_code == 400
    assert f'id="{field}-errors"' in response.get_data(as_text=True)
    assert count(Offer) == 0


@pytest.mark.parametrize("overrides, field", [
    ({"household_size": "0"}, "household_size"), ({"household_size": "101"}, "household_size"),
    ({"household_size": "1.5"}, "household_size"), ({"household_size": "-3"}, "household_size"),
    ({"latitude": "nan", "longitude": "2.4"}, "latitude"), ({"latitude": "-90.01", "longitude": "2.4"}, "latitude"),
])
def test_a_request_with_a_number_out_of_range_is_a_field_error(active_event, signed_in, overrides, field):
    client = signed_in(member("affected@example.org", region="BJ-LI"))
    response = client.post(url_for("mutual_aid.new_request", slug=active_event.slug), data={**REQUEST, **overrides})
    assert response.status_code == 400
    assert f'id="{field}-errors"' in response.get_data(as_text=True)
    assert count(HelpRequest) == 0


@pytest.mark.parametrize("overrides, field", [
    ({"max_amount": "0"}, "max_amount"), ({"max_amount": "0.4"}, "max_amount"), ({"max_amount": "-5"}, "max_amount"),
    ({"max_amount": "nan"}, "max_amount"), ({"max_amount": "1e400"}, "max_amount"), ({"yearly_cap": "0,4"}, "yearly_cap"),
])
def test_a_commitment_amount_that_is_not_positive_whole_francs_is_a_field_error(signed_in, overrides, field):
    client = signed_in(member("nurse@example.org", region="FR-ARA"))
    form = {"country": "BJ", "region": "BJ-LI", "currency": "XOF", "max_amount": "50000", "yearly_cap": "80000",
            "accept_terms": "y", **overrides}
    response = client.post(url_for("mutual_aid.my_commitments"), data=form)
    assert response.status_code == 400
    assert f'id="{field}-errors"' in response.get_data(as_text=True)
    assert count(StandingCommitment) == 0


@pytest.mark.parametrize("overrides, field", [
    ({"fund_goal": "0"}, "fund_goal"), ({"fund_goal": "0.4"}, "fund_goal"), ({"fund_goal": "-100"}, "fund_goal"),
    ({"fund_goal": "99999999999999999999999"}, "fund_goal"), ({"fund_goal": "inf"}, "fund_goal"),
    ({"centre_latitude": "6.3", "centre_longitude": "nan", "radius_km": "10"}, "centre_latitude"),
])
def test_an_event_with_a_fund_goal_or_centre_out_of_range_is_a_field_error(coordinator, relief_org, signed_in,
                                                                          overrides, field):
    response = signed_in(coordinator).post(url_for("mutual_aid.new_event"), data=event_form(relief_org.id, **overrides))
    assert response.status_code == 400
    assert f'id="{field}-errors"' in response.get_data(as_text=True)
    assert count(DisasterEvent) == 0
