"""Offers and requests: sleeping offers wake up, limits and duplicates, ranking, both-sided acceptance, expiry."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import url_for
from sqlalchemy import func, select

from tests.mutual_aid.conftest import (
    ABOMEY_CALAVI,
    COTONOU,
    PARAKOU,
    PORTO_NOVO,
    draft,
    member,
    offer_details,
    request_details,
)
from webapp import geo
from webapp.clock import utcnow
from webapp.errors import PermissionDenied
from webapp.extensions import db
from webapp.mutual_aid.errors import ContactHidden, EventNotTakingPosts, MatchRefused, PostingTooFast
from webapp.mutual_aid.models import (
    HelpCategory,
    HelpRequest,
    Match,
    MatchState,
    Notification,
    Offer,
    OfferState,
    RequestState,
)
from webapp.mutual_aid.places import band_of, cell_centre, cell_of
from webapp.mutual_aid.services import events, matching, posts


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def kinds(user) -> list[str]:
    return db.session.scalars(select(Notification.kind).where(Notification.user_id == user.id)
                              .order_by(Notification.id)).all()


# -- sleeping offers ----------------------------------------------------------------------------
def test_sleeping_offers_inside_the_area_wake_up_and_stay_registered_for_the_next_event(coordinator, relief_org):
    by_region = member("region@example.org", region="BJ-LI")
    by_radius = member("radius@example.org", region="BJ-OU")
    far = member("far@example.org", region="BJ-BO")
    in_region = posts.register_sleeping_offer(by_region, offer_details(at=None, region="BJ-AQ"))
    in_radius = posts.register_sleeping_offer(by_radius, offer_details(at=PORTO_NOVO, region="BJ-OU"))
    outside = posts.register_sleeping_offer(far, offer_details(at=PARAKOU, region="BJ-BO"))
    event = events.create_event(coordinator, draft(relief_org.id, centre_latitude=COTONOU[0],
                                                   centre_longitude=COTONOU[1], radius_km=40))
    done = events.activate(event, coordinator)
    assert done.woken_offers == 2
    woken = db.session.scalars(select(Offer).where(Offer.event_id == event.id)).all()
    assert {o.woken_from_id for o in woken} == {in_region.id, in_radius.id}
    assert {o.state for o in woken} == {OfferState.PUBLISHED}
    copy = next(o for o in woken if o.woken_from_id == in_region.id)
    assert (copy.owner_id, copy.title, copy.capacity, copy.contact_phone) == (
        by_region.id, in_region.title, in_region.capacity, in_region.contact_phone)
    assert {o.state for o in (in_region, in_radius, outside)} == {OfferState.SLEEPING}


def test_a_sleeping_offer_of_a_suspended_member_does_not_wake(coordinator, relief_org):
    helper = member("helper@example.org", region="BJ-LI")
    posts.register_sleeping_offer(helper, offer_details())
    helper.suspended_at = utcnow()
    event = events.create_event(coordinator, draft(relief_org.id))
    assert events.activate(event, coordinator).woken_offers == 0


# -- posting ------------------------------------------------------------------------------------
def test_posting_to_a_closed_event_is_refused_and_writes_nothing(coordinator, active_event, signed_in):
    affected = member("affected@example.org", region="BJ-LI")
    events.close(active_event, coordinator)
    db.session.commit()
    with pytest.raises(EventNotTakingPosts):
        posts.post_request(active_event, affected, request_details())
    with pytest.raises(EventNotTakingPosts):
        posts.post_offer(active_event, affected, offer_details())
    db.session.rollback()
    client = signed_in(affected)
    form = {"category": "lodging", "urgency": "critical", "household_size": "3", "region": "BJ-LI", "country": "BJ"}
    response = client.post(url_for("mutual_aid.new_request", slug=active_event.slug), data=form)
    assert response.status_code == 409 and "is closed" in response.get_data(as_text=True)
    response = client.post(url_for("mutual_aid.new_offer", slug=active_event.slug),
                           data={"category": "lodging", "title": "A room", "capacity": "2", "region": "BJ-LI",
                                 "country": "BJ"})
    assert response.status_code == 409
    assert count(HelpRequest) == 0 and count(Offer) == 0


def test_mass_posting_is_refused_with_a_clear_answer_and_writes_nothing(active_event, signed_in, app, monkeypatch):
    monkeypatch.setitem(app.config, "MUTUAL_AID_POSTS_PER_HOUR", 3)
    spammer = member("spammer@example.org", region="BJ-LI")
    client = signed_in(spammer)
    form = {"category": "goods", "title": "Rice", "capacity": "5", "region": "BJ-LI", "country": "BJ"}
    for _ in range(3):
        assert client.post(url_for("mutual_aid.new_offer", slug=active_event.slug), data=form).status_code == 302
    response = client.post(url_for("mutual_aid.new_request", slug=active_event.slug),
                           data={"category": "goods", "urgency": "high", "household_size": "2", "region": "BJ-LI",
                                 "country": "BJ"})
    assert response.status_code == 429
    assert "the most we allow" in response.get_data(as_text=True)
    assert count(Offer) == 3 and count(HelpRequest) == 0
    with pytest.raises(PostingTooFast):
        posts.register_sleeping_offer(spammer, offer_details())


def test_a_post_with_an_unknown_region_or_no_place_is_refused(active_event, signed_in):
    affected = member("affected@example.org", region="BJ-LI")
    client = signed_in(affected)
    response = client.post(url_for("mutual_aid.new_request", slug=active_event.slug),
                           data={"category": "goods", "urgency": "high", "household_size": "2"})
    assert response.status_code == 400 and "Say where" in response.get_data(as_text=True)
    with pytest.raises(Exception, match="Unknown region code"):
        posts.post_request(active_event, affected, request_details(at=None, region="BJ-XX"))
    db.session.rollback()
    assert count(HelpRequest) == 0


def test_a_second_request_for_the_same_need_is_flagged_as_a_duplicate(active_event):
    affected = member("affected@example.org", region="BJ-LI")
    first = posts.post_request(active_event, affected, request_details())
    second = posts.post_request(active_event, affected, request_details(description="Please, we are 3."))
    other_need = posts.post_request(active_event, affected, request_details(category=HelpCategory.GOODS))
    assert (first.duplicate_of_id, second.duplicate_of_id, other_need.duplicate_of_id) == (None, first.id, None)


# -- ranking ------------------------------------------------------------------------------------
def test_offers_are_ranked_available_now_then_nearest_and_filtered_by_category_and_room(active_event):
    affected = member("affected@example.org", region="BJ-LI")
    helpers = [member(f"helper{i}@example.org", region="BJ-LI") for i in range(6)]
    near = posts.post_offer(active_event, helpers[0], offer_details(at=(6.37, 2.42), title="Near"))
    farther = posts.post_offer(active_event, helpers[1], offer_details(at=ABOMEY_CALAVI, region="BJ-AQ",
                                                                       title="Farther"))
    later = posts.post_offer(active_event, helpers[2], offer_details(
        at=COTONOU, title="Next week", available_from=date.today() + timedelta(days=7)))
    posts.post_offer(active_event, helpers[3], offer_details(at=COTONOU, title="Too small", capacity=2))
    posts.post_offer(active_event, helpers[4], offer_details(category=HelpCategory.TRANSPORT, title="Van"))
    posts.post_offer(active_event, helpers[5], offer_details(title="Over", available_until=date.today()
                                                             - timedelta(days=1)))
    need = posts.post_request(active_event, affected, request_details(at=COTONOU, household=3))
    ranked = matching.suggested_offers(need)
    assert [s.offer.title for s in ranked] == ["Near", "Farther", "Next week"]
    # measured between cell centres (the database's haversine agrees with webapp.geo's), shown as bands
    assert [s.distance for s in ranked][:2] == [
        band_of(geo.distance_km(*cell_centre(*cell_of(*COTONOU)), *cell_centre(*cell_of(*at))))
        for at in [(6.37, 2.42), ABOMEY_CALAVI]]
    assert [s.distance.label for s in ranked] == ["under 5 km", "10–25 km", "under 5 km"]
    assert [s.available_now for s in ranked] == [True, True, False]
    assert {near.id, farther.id, later.id} == {s.offer.id for s in ranked}


def test_a_helper_sees_requests_near_them_measured_to_a_grid_cell_never_the_point(active_event):
    helper = member("helper@example.org", region="BJ-LI")
    offer = posts.post_offer(active_event, helper, offer_details(at=COTONOU))
    needs = [posts.post_request(active_event, member(f"a{i}@example.org", region="BJ-LI"),
                                request_details(at=at)) for i, at in enumerate([ABOMEY_CALAVI, (6.366, 2.419)])]
    found = matching.requests_near(offer)
    assert [n.request.id for n in found] == [needs[1].id, needs[0].id]
    # the exact point is 0.1 km away, in the offer's cell: measured cell to cell, the distance is under 5 km;
    # Abomey-Calavi's cell is the next one diagonally, 15.7 km from centre to centre
    assert [n.distance.label for n in found] == ["under 5 km", "10–25 km"]


def test_hidden_offers_and_offers_of_suspended_members_leave_the_suggestions(coordinator, active_event):
    from webapp.mutual_aid.services import moderation

    affected = member("affected@example.org", region="BJ-LI")
    hidden_owner, suspended_owner = member("h@example.org"), member("s@example.org")
    hidden = posts.post_offer(active_event, hidden_owner, offer_details())
    posts.post_offer(active_event, suspended_owner, offer_details())
    need = posts.post_request(active_event, affected, request_details())
    assert len(matching.suggested_offers(need)) == 2
    moderation.hide_offer(hidden, coordinator)
    moderation.suspend(suspended_owner, coordinator)
    assert matching.suggested_offers(need) == []


# -- proposing, accepting, the contact ----------------------------------------------------------
@pytest.fixture
def pair(active_event):
    helper = member("helper@example.org", region="BJ-LI")
    affected = member("affected@example.org", region="BJ-LI")
    offer = posts.post_offer(active_event, helper, offer_details())
    need = posts.post_request(active_event, affected, request_details())
    return helper, affected, offer, need


def test_the_contact_is_shown_only_once_both_sides_accepted(pair, signed_in):
    helper, affected, offer, need = pair
    match = matching.propose(offer, need, affected)
    assert need.state == RequestState.PROPOSED
    with pytest.raises(ContactHidden):
        matching.counterpart_contact(match, affected)
    with pytest.raises(ContactHidden):
        matching.counterpart_contact(match, helper)
    page = signed_in(affected).get(url_for("mutual_aid.show_match", match_id=match.id)).get_data(as_text=True)
    assert "+229 97 11 22 33" not in page and helper.email not in page and "Blue gate" not in page
    page = signed_in(helper).get(url_for("mutual_aid.show_match", match_id=match.id)).get_data(as_text=True)
    assert "Akpakpa" not in page and affected.email not in page and "6.3654" not in page
    response = signed_in(helper).post(url_for("mutual_aid.match_action", match_id=match.id, action="accept"))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Match, match.id).state == MatchState.MATCHED
    assert db.session.get(HelpRequest, need.id).state == RequestState.MATCHED
    page = signed_in(affected).get(url_for("mutual_aid.show_match", match_id=match.id)).get_data(as_text=True)
    assert "+229 97 11 22 33" in page and helper.email in page and "Blue gate" in page
    page = signed_in(helper).get(url_for("mutual_aid.show_match", match_id=match.id)).get_data(as_text=True)
    assert "Lot 12, Akpakpa" in page and affected.email in page and "6.3654" in page


def test_a_stranger_never_sees_a_match(pair, signed_in):
    helper, affected, offer, need = pair
    match = matching.propose(offer, need, helper)
    matching.accept(match, affected)
    stranger = member("stranger@example.org", region="BJ-LI")
    with pytest.raises(PermissionDenied):
        matching.counterpart_contact(match, stranger)
    assert signed_in(stranger).get(url_for("mutual_aid.show_match", match_id=match.id)).status_code == 404
    assert signed_in(stranger).get(url_for("mutual_aid.show_request", request_id=need.id)).status_code == 404
    response = signed_in(stranger).post(url_for("mutual_aid.match_action", match_id=match.id, action="accept"))
    assert response.status_code == 404


def test_the_requester_is_told_at_every_change_of_their_request(pair, smtp_server):
    helper, affected, offer, need = pair
    match = matching.propose(offer, need, helper)
    matching.decline(match, affected)
    second_helper = member("second@example.org", region="BJ-LI")
    second = posts.post_offer(need.event, second_helper, offer_details())
    match = matching.propose(second, need, affected)
    matching.accept(match, second_helper)
    matching.fulfil(match, affected)
    db.session.commit()
    assert kinds(affected) == ["request_helper_proposed", "request_match_declined", "request_proposed",
                               "request_matched", "request_fulfilled"]
    assert len([m for m in smtp_server.messages if m["To"] == affected.email]) == 5
    assert "helper_requester_asked" in kinds(second_helper) and "helper_matched" in kinds(second_helper)


def test_a_request_waits_for_one_answer_at_a_time_and_a_pair_is_proposed_once(pair, active_event):
    helper, affected, offer, need = pair
    other = posts.post_offer(active_event, member("other@example.org"), offer_details())
    match = matching.propose(offer, need, affected)
    with pytest.raises(MatchRefused):
        matching.propose(other, need, affected)
    matching.decline(match, helper)
    with pytest.raises(MatchRefused, match="already put together"):
        matching.propose(offer, need, affected)
    with pytest.raises(MatchRefused):
        matching.accept(match, affected)
    with pytest.raises(MatchRefused):
        matching.fulfil(match, affected)


def test_offers_and_requests_of_another_event_never_meet(coordinator, relief_org, pair):
    helper, affected, offer, need = pair
    storm = events.create_event(coordinator, draft(relief_org.id, name="Storm"))
    events.activate(storm, coordinator)
    elsewhere = posts.post_offer(storm, member("storm-helper@example.org"), offer_details())
    assert elsewhere.id not in {s.offer.id for s in matching.suggested_offers(need)}
    with pytest.raises(MatchRefused, match="another event"):
        matching.propose(elsewhere, need, affected)


def test_a_quiet_proposal_expires_and_the_request_reopens(pair, app):
    helper, affected, offer, need = pair
    match = matching.propose(offer, need, affected)
    hours = app.config["MUTUAL_AID_MATCH_EXPIRY_HOURS"]
    assert matching.expire_quiet_matches(now=utcnow() + timedelta(hours=hours - 1)) == 0
    assert matching.expire_quiet_matches(now=utcnow() + timedelta(hours=hours + 1)) == 1
    assert match.state == MatchState.EXPIRED and need.state == RequestState.OPEN
    assert kinds(affected)[-1] == "request_match_expired"
    assert offer.id not in {s.offer.id for s in matching.suggested_offers(need)}  # this pair had its chance
    assert matching.expire_quiet_matches(now=utcnow() + timedelta(hours=hours + 2)) == 0


def test_a_waiting_requester_is_asked_whether_they_still_need_help_once_per_wait(pair, app, signed_in):
    helper, affected, offer, need = pair
    hours = app.config["MUTUAL_AID_NUDGE_AFTER_HOURS"]
    assert matching.nudge_waiting_requesters(now=utcnow() + timedelta(hours=hours - 1)) == 0
    assert matching.nudge_waiting_requesters(now=utcnow() + timedelta(hours=hours + 1)) == 1
    assert matching.nudge_waiting_requesters(now=utcnow() + timedelta(hours=hours + 2)) == 0
    assert kinds(affected)[-1] == "request_still_need_help"
    client = signed_in(affected)
    assert "Do you still need help?" in client.get(url_for("mutual_aid.show_request",
                                                           request_id=need.id)).get_data(as_text=True)
    client.post(url_for("mutual_aid.still_need", request_id=need.id), data={"answer": "no"})
    db.session.expire_all()
    assert db.session.get(HelpRequest, need.id).state == RequestState.CANCELLED


def test_closing_the_event_closes_offers_and_tells_waiting_requesters(coordinator, pair):
    helper, affected, offer, need = pair
    matching.propose(offer, need, helper)
    events.close(need.event, coordinator)
    assert offer.state == OfferState.CLOSED and need.state == RequestState.CANCELLED
    assert kinds(affected)[-1] == "request_event_closed"


def test_the_affected_member_accepts_a_suggested_offer_through_the_pages(pair, signed_in):
    helper, affected, offer, need = pair
    client = signed_in(affected)
    page = client.get(url_for("mutual_aid.show_request", request_id=need.id)).get_data(as_text=True)
    assert offer.title in page and "Accept this offer" in page
    response = client.post(url_for("mutual_aid.propose_from_request", request_id=need.id),
                           data={"offer_id": offer.id})
    assert response.status_code == 302
    match = db.session.scalar(select(Match))
    assert "Contact details are shown once both" in client.get(
        url_for("mutual_aid.show_match", match_id=match.id)).get_data(as_text=True)
    helper_client = signed_in(helper)
    assert "requester_asked" in kinds(helper)[-1]
    helper_client.post(url_for("mutual_aid.match_action", match_id=match.id, action="accept"))
    page = client.get(url_for("mutual_aid.show_match", match_id=match.id)).get_data(as_text=True)
    assert helper.email in page and "+229 97 11 22 33" in page
