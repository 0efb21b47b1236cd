"""Moderation (reports, hiding, suspending) and privacy (coarse public pages, exports without people, purge)."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from flask import url_for
from sqlalchemy import func, select

from tests.mutual_aid.conftest import COTONOU, member, offer_details, request_details
from webapp.accounts.models import Role
from webapp.clock import utcnow
from webapp.errors import PermissionDenied
from webapp.extensions import db
from webapp.mutual_aid.errors import PostingTooFast
from webapp.mutual_aid.models import HelpRequest, Offer, OfferState, Report, ReportState, RequestState
from webapp.mutual_aid.services import events, figures, matching, moderation, posts, privacy


@pytest.fixture
def posted(active_event):
    helper = member("helper@example.org", region="BJ-LI", name="Hospitable Helper")
    affected = member("affected@example.org", region="BJ-LI", name="Aïcha Affected")
    offer = posts.post_offer(active_event, helper, offer_details())
    need = posts.post_request(active_event, affected, request_details())
    db.session.commit()
    return helper, affected, offer, need


def test_anyone_signed_in_reports_a_post_and_a_moderator_hides_it(posted, signed_in):
    helper, affected, offer, need = posted
    reporter = member("reporter@example.org")
    client = signed_in(reporter)
    response = client.post(url_for("mutual_aid.report_post"), data={"offer_id": offer.id, "reason": "A scam."})
    assert response.status_code == 302
    report = db.session.scalar(select(Report))
    assert (report.offer_id, report.reporter_id, report.state) == (offer.id, reporter.id, ReportState.OPEN)
    moderator = member("moderator@example.org", role=Role.MODERATOR)
    queue = signed_in(moderator).get(url_for("mutual_aid.moderation_queue")).get_data(as_text=True)
    assert "A scam." in queue
    response = signed_in(moderator).post(url_for("mutual_aid.hide_offer", offer_id=offer.id))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Offer, offer.id).state == OfferState.HIDDEN
    assert db.session.get(Report, report.id).outcome == "hidden"
    assert matching.suggested_offers(db.session.get(HelpRequest, need.id)) == []
    public = signed_in(reporter).get(url_for("mutual_aid.show_event", slug=offer.event.slug)).get_data(as_text=True)
    assert offer.title not in public


def test_a_member_cannot_hide_posts_or_suspend_accounts(posted, signed_in):
    helper, affected, offer, need = posted
    client = signed_in(member("member@example.org"))
    assert client.post(url_for("mutual_aid.hide_offer", offer_id=offer.id)).status_code == 403
    assert client.post(url_for("mutual_aid.hide_request", request_id=need.id)).status_code == 403
    assert client.post(url_for("mutual_aid.suspend_user", user_id=helper.id)).status_code == 403
    with pytest.raises(PermissionDenied):
        moderation.hide_offer(offer, affected)
    db.session.rollback()
    assert db.session.get(Offer, offer.id).state == OfferState.PUBLISHED
    assert db.session.get(type(helper), helper.id).suspended_at is None


def test_a_suspended_account_cannot_sign_in_and_its_posts_disappear(posted, coordinator, client, signed_in):
    helper, affected, offer, need = posted
    matching.propose(offer, need, affected)
    db.session.commit()
    response = signed_in(coordinator).post(url_for("mutual_aid.suspend_user", user_id=helper.id))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(type(helper), helper.id).suspended_at is not None
    assert db.session.get(Offer, offer.id).state == OfferState.HIDDEN
    assert db.session.get(HelpRequest, need.id).state == RequestState.OPEN  # the proposal ended, the need stays
    from tests.factories import PASSWORD

    login = client.post(url_for("accounts.login"), data={"email": helper.email, "password": PASSWORD})
    assert login.status_code == 401 and "suspended" in login.get_data(as_text=True)


def test_only_an_admin_suspends_a_coordinator(coordinator, signed_in):
    moderator = member("moderator@example.org", role=Role.MODERATOR)
    with pytest.raises(PermissionDenied):
        moderation.suspend(coordinator, moderator)
    assert signed_in(moderator).post(url_for("mutual_aid.suspend_user", user_id=coordinator.id)).status_code == 403


def test_a_hidden_request_leaves_helpers_lists_and_its_requester_is_told(posted, coordinator):
    helper, affected, offer, need = posted
    assert [n.request.id for n in matching.requests_near(offer)] == [need.id]
    moderation.hide_request(need, coordinator)
    assert matching.requests_near(offer) == []
    assert need.state == RequestState.CANCELLED


def test_reports_are_rate_limited(posted, app, monkeypatch):
    helper, affected, offer, need = posted
    monkeypatch.setitem(app.config, "MUTUAL_AID_REPORTS_PER_HOUR", 2)
    reporter = member("reporter@example.org")
    moderation.report(reporter, offer=offer, reason="one")
    moderation.report(reporter, request=need, reason="two")
    with pytest.raises(PostingTooFast):
        moderation.report(reporter, offer=offer, reason="three")


def test_the_public_page_shows_cells_and_categories_never_people_addresses_or_points(posted, client):
    helper, affected, offer, need = posted
    page = client.get(url_for("mutual_aid.show_event", slug=offer.event.slug)).get_data(as_text=True)
    assert offer.title in page and "Lodging" in page
    for secret in (affected.name, affected.email, helper.name, helper.email, "Akpakpa", "+229 96 44 55 66",
                   "+229 97 11 22 33", "Blue gate", str(COTONOU[0]), str(COTONOU[1]), "under water"):
        assert secret not in page, secret
    assert 'data-cell="6.35,2.45"' in page  # the 0.1-degree cell around Cotonou


def test_the_report_and_its_csv_carry_hxl_tags_and_no_personal_data(posted, coordinator, signed_in):
    helper, affected, offer, need = posted
    match = matching.propose(offer, need, affected)
    matching.accept(match, helper)
    events.close(offer.event, coordinator)
    db.session.commit()
    client = signed_in(coordinator)
    page = client.get(url_for("mutual_aid.report", slug=offer.event.slug))
    assert page.status_code == 200 and "#adm1+code" in page.get_data(as_text=True)
    response = client.get(url_for("mutual_aid.report_csv", slug=offer.event.slug))
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[1] == ["#adm1+code", "#sector", "#affected", "#reached", "#value", "#currency", "#date"]
    assert rows[2][:4] == ["BJ-LI", "lodging", "3", "3"]
    assert rows[-1][1:2] == ["cash"] and rows[-1][5] == "XOF"
    text = response.get_data(as_text=True)
    for secret in (affected.name, affected.email, helper.email, "Akpakpa", "+229", "under water"):
        assert secret not in text


def test_contact_details_of_a_closed_event_are_purged_after_the_configured_time(posted, coordinator, app):
    helper, affected, offer, need = posted
    events.close(offer.event, coordinator)
    days = app.config["MUTUAL_AID_PURGE_AFTER_DAYS"]
    assert privacy.purge_closed_events(now=utcnow() + timedelta(days=days - 1)) == 0
    assert privacy.purge_closed_events(now=utcnow() + timedelta(days=days + 1)) == 1
    db.session.expire_all()
    need, offer = db.session.get(HelpRequest, need.id), db.session.get(Offer, offer.id)
    assert (need.address, need.contact_phone, need.latitude, need.longitude, need.description) == (
        None, None, None, None, "")
    assert (offer.contact_phone, offer.contact_note, offer.latitude) == (None, None, None)
    assert (need.cell_lat, need.cell_lon) == (63, 24)  # the figures and the map stay
    assert figures.report_rows(offer.event)[0].affected == 3
    assert privacy.purge_closed_events(now=utcnow() + timedelta(days=days + 2)) == 0


def test_the_coordinator_page_shows_money_posts_median_and_the_map(posted, coordinator, signed_in):
    helper, affected, offer, need = posted
    match = matching.propose(offer, need, affected)
    matching.accept(match, helper)
    db.session.commit()
    page = signed_in(coordinator).get(url_for("mutual_aid.coordinate", slug=offer.event.slug)).get_data(as_text=True)
    assert "raised of" in page and 'data-category="lodging"' in page
    assert 'id="median"' in page and "0 min" in page
    assert "<svg" in page and 'data-cell="6.35,2.45"' in page
    assert db.session.scalar(select(func.count()).select_from(Report)) == 0
