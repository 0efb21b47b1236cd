"""Disaster events: drafting with valid areas only, activation by coordinators in one transaction, the state machine."""
from __future__ import annotations

import pytest
from flask import url_for
from sqlalchemy import func, select

from tests.mutual_aid.conftest import COTONOU, draft, member
from webapp.campaigns.models import Campaign, CampaignStatus, CampaignTransition, Category, FundingModel
from webapp.errors import InvalidTransition, PermissionDenied
from webapp.extensions import db
from webapp.mutual_aid.errors import InvalidEvent
from webapp.mutual_aid.models import (
    CallDelivery,
    DisasterEvent,
    EventRegion,
    EventState,
    EventTransition,
    Notification,
    Offer,
    SolidarityCall,
)
from webapp.mutual_aid.services import events


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def event_form(org_id: int, **overrides) -> dict:
    data = {"name": "Floods in Cotonou", "kind": "flood", "severity": "severe", "starts_on": "2026-11-20",
            "relief_organization_id": str(org_id), "public_message": "The lagoon overflowed.",
            "country": "BJ", "regions": ["BJ-LI", "BJ-AQ"], "other_regions": "", "centre_latitude": "",
            "centre_longitude": "", "radius_km": "", "fund_currency": "XOF", "fund_goal": "5 000 000"}
    data.update(overrides)
    return data


def test_a_coordinator_creates_a_draft_event_with_its_regions(coordinator, relief_org, signed_in):
    client = signed_in(coordinator)
    response = client.post(url_for("mutual_aid.new_event"),
                           data=event_form(relief_org.id, other_regions="TG-M", centre_latitude="6.37",
                                           centre_longitude="2.42", radius_km="40"))
    assert response.status_code == 302
    event = db.session.scalar(select(DisasterEvent))
    assert event.state == EventState.DRAFT
    assert event.region_codes == ["BJ-AQ", "BJ-LI", "TG-M"]
    assert (event.centre_latitude, event.centre_longitude, event.radius_km) == (6.37, 2.42, 40)
    assert event.fund_goal_amount == 5_000_000 and event.fund_currency == "XOF"


@pytest.mark.parametrize("overrides, field, message", [
    ({"other_regions": "BJ-ZZ"}, "regions", "Unknown region code: BJ-ZZ"),
    ({"regions": [], "other_regions": "XX-99, BJ-LI"}, "regions", "Unknown region code: XX-99"),
    ({"regions": []}, "regions", "at least one region"),
    ({"centre_latitude": "6.3", "centre_longitude": "2.4", "radius_km": "0"}, "radius_km", "at least 1 km"),
    ({"centre_latitude": "6.3", "centre_longitude": "2.4", "radius_km": "-5"}, "radius_km", "at least 1 km"),
    # 0.5 km and less used to pass, round to 0 and break the database's check (a 500)
    ({"centre_latitude": "6.3", "centre_longitude": "2.4", "radius_km": "0.5"}, "radius_km", "at least 1 km"),
    ({"centre_latitude": "6.3", "centre_longitude": "2.4", "radius_km": "0.4"}, "radius_km", "at least 1 km"),
    ({"centre_latitude": "6.3", "centre_longitude": "2.4", "radius_km": "0.99"}, "radius_km", "at least 1 km"),
    ({"centre_latitude": "6.3", "centre_longitude": "2.4", "radius_km": "nan"}, "radius_km", "at least 1 km"),
    ({"centre_latitude": "6.3", "centre_longitude": "2.4", "radius_km": "inf"}, "radius_km", "at least 1 km"),
    ({"centre_latitude": "nan", "centre_longitude": "2.4"}, "centre_latitude", "not on Earth"),
    ({"centre_latitude": "6.3", "centre_longitude": "2.4", "radius_km": "1000.5"}, "radius_km", "at most 1000 km"),
    ({"radius_km": "30"}, "radius_km", "needs a centre"),
    ({"centre_latitude": "96", "centre_longitude": "2.4"}, "centre_latitude", "not on Earth"),
])
def test_an_invalid_area_is_refused_with_a_clear_message_and_nothing_is_written(
        coordinator, relief_org, signed_in, overrides, field, message):
    client = signed_in(coordinator)
    response = client.post(url_for("mutual_aid.new_event"), data=event_form(relief_org.id, **overrides))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(DisasterEvent) == 0 and count(EventRegion) == 0


def test_the_service_refuses_the_same_areas_whatever_the_caller(coordinator, relief_org):
    with pytest.raises(InvalidEvent) as refused:
        events.create_event(coordinator, draft(relief_org.id, region_codes=("BJ-LI", "QQ-1"), radius_km=1001,
                                               centre_latitude=6.3, centre_longitude=2.4))
    assert set(refused.value.problems) == {"regions", "radius_km"}
    assert count(DisasterEvent) == 0


def test_a_radius_of_exactly_1000_km_is_accepted(coordinator, relief_org):
    event = events.create_event(coordinator, draft(relief_org.id, centre_latitude=6.3, centre_longitude=2.4,
                                                   radius_km=1000))
    assert event.radius_km == 1000


def test_a_member_cannot_create_or_activate_an_event(coordinator, relief_org, draft_event, signed_in):
    someone = member("someone@example.org", region="BJ-LI")
    db.session.commit()
    with pytest.raises(PermissionDenied):
        events.create_event(someone, draft(relief_org.id))
    with pytest.raises(PermissionDenied):
        events.activate(draft_event, someone)
    db.session.rollback()
    client = signed_in(someone)
    response = client.post(url_for("mutual_aid.activate_event", slug=draft_event.slug), data={"confirm": "y"})
    assert response.status_code == 403
    assert db.session.get(DisasterEvent, draft_event.id).state == EventState.DRAFT
    assert count(Campaign) == 0 and count(SolidarityCall) == 0


def test_activation_asks_for_confirmation_first(coordinator, draft_event, signed_in):
    member("near@example.org", region="BJ-LI")
    client = signed_in(coordinator)
    page = client.get(url_for("mutual_aid.activate_event", slug=draft_event.slug))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Activation cannot be undone" in text
    unconfirmed = client.post(url_for("mutual_aid.activate_event", slug=draft_event.slug), data={})
    assert unconfirmed.status_code == 400
    assert "Tick the box to confirm" in unconfirmed.get_data(as_text=True)
    assert db.session.get(DisasterEvent, draft_event.id).state == EventState.DRAFT
    assert count(SolidarityCall) == 0


def test_activation_opens_the_fund_live_records_who_and_when_and_the_calls(coordinator, relief_org, draft_event,
                                                                            signed_in):
    member("near@example.org", region="BJ-LI", at=COTONOU)
    client = signed_in(coordinator)
    response = client.post(url_for("mutual_aid.activate_event", slug=draft_event.slug), data={"confirm": "y"})
    assert response.status_code == 302
    event = db.session.get(DisasterEvent, draft_event.id)
    assert event.state == EventState.ACTIVE and event.activated_at is not None
    step = db.session.scalar(select(EventTransition).where(EventTransition.event_id == event.id))
    assert (step.from_state, step.to_state, step.actor_id) == (EventState.DRAFT, EventState.ACTIVE, coordinator.id)
    fund = db.session.get(Campaign, event.fund_campaign_id)
    assert fund.status == CampaignStatus.LIVE and fund.funding_model == FundingModel.KEEP_IT_ALL
    assert fund.organization_id == relief_org.id and fund.category == Category.EMERGENCY
    assert (fund.goal_amount, fund.currency) == (5_000_000, "XOF")
    assert url_for("mutual_aid.show_event", slug=event.slug, _external=True) in fund.story_md
    moves = db.session.execute(select(CampaignTransition.to_status, CampaignTransition.actor_id)
                               .where(CampaignTransition.campaign_id == fund.id).order_by(CampaignTransition.id)).all()
    assert moves == [(CampaignStatus.SUBMITTED, coordinator.id), (CampaignStatus.APPROVED, coordinator.id),
                     (CampaignStatus.LIVE, coordinator.id)]
    # the coordinator and the near member, both living in Littoral
    assert count(SolidarityCall) == 2


def test_an_activation_that_fails_half_way_leaves_no_fund_no_offer_and_no_call(coordinator, relief_org,
                                                                               draft_event, monkeypatch):
    from webapp.mutual_aid.services import calls

    member("near@example.org", region="BJ-LI")
    db.session.commit()

    def broken(event):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(calls, "record_deliveries", broken)
    with pytest.raises(RuntimeError):
        events.activate(draft_event, coordinator)
    db.session.rollback()
    assert db.session.get(DisasterEvent, draft_event.id).state == EventState.DRAFT
    assert count(Campaign) == 0 and count(SolidarityCall) == 0 and count(EventTransition) == 0
    assert count(Offer) == 0


def test_nothing_is_sent_before_the_activation_commits(coordinator, draft_event, smtp_server):
    member("near@example.org", region="BJ-LI")
    db.session.commit()
    events.activate(draft_event, coordinator)
    db.session.flush()
    assert count(SolidarityCall) == 2  # recorded in the open transaction
    assert count(Notification) == 0 and smtp_server.messages == []
    db.session.rollback()  # the coordinator's request failed after all
    assert count(SolidarityCall) == 0 and count(CallDelivery) == 0
    assert smtp_server.messages == []


def test_activating_twice_is_refused_and_records_nothing_more(coordinator, active_event, signed_in):
    with pytest.raises(InvalidTransition):
        events.activate(active_event, coordinator)
    db.session.rollback()
    client = signed_in(coordinator)
    response = client.post(url_for("mutual_aid.activate_event", slug=active_event.slug), data={"confirm": "y"})
    assert response.status_code == 409
    assert count(Campaign) == 1 and count(EventTransition) == 1


def test_the_state_machine_allows_only_its_table(coordinator, active_event):
    events.move_to_recovery(active_event, coordinator)
    events.reactivate(active_event, coordinator)
    events.close(active_event, coordinator)
    assert active_event.state == EventState.CLOSED and active_event.closed_at is not None
    for move in (events.reactivate, events.move_to_recovery, events.close):
        with pytest.raises(InvalidTransition):
            move(active_event, coordinator)
    with pytest.raises(InvalidTransition):
        events.update_event(active_event, coordinator, draft(active_event.relief_organization_id))
    states = db.session.scalars(select(EventTransition.to_state).order_by(EventTransition.id)).all()
    assert states == [EventState.ACTIVE, EventState.RECOVERY, EventState.ACTIVE, EventState.CLOSED]


def test_closing_through_the_page_leads_to_the_report(coordinator, active_event, signed_in):
    client = signed_in(coordinator)
    # closing is confirmed on its own page first (tests/mutual_aid/test_coordinator_forms.py)
    response = client.post(url_for("mutual_aid.change_state", slug=active_event.slug),
                           data={"to": "closed", "confirming": "1", "confirm": "y"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(url_for("mutual_aid.report", slug=active_event.slug))
    assert db.session.get(DisasterEvent, active_event.id).state == EventState.CLOSED
    again = client.post(url_for("mutual_aid.change_state", slug=active_event.slug), data={"to": "active"})
    assert again.status_code == 409


def test_a_draft_is_invisible_to_the_public(draft_event, client, active_event):
    assert client.get(url_for("mutual_aid.show_event", slug=draft_event.slug)).status_code == 404
    assert client.get(url_for("mutual_aid.show_event", slug=active_event.slug)).status_code == 200
