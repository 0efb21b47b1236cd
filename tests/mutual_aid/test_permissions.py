"""Who may use each mutual-aid route: every route and method, every role, against an explicit table.

Roles: anonymous, member (an ordinary member, here also the helper who owns the offer and a call),
requester (the member who posted the request), coordinator, moderator, admin. A route of the
mutual_aid blueprint with no row fails `test_every_mutual_aid_route_has_a_row`.

Outcomes: OK is any 2xx/3xx that is not a redirect to the sign-in page; LOGIN is that redirect;
the others are the status code. Someone else's call, request or match answers 404: its address
reveals nothing.
"""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from flask import url_for

from tests import permission_matrix, worlds
from tests.permission_matrix import LOGIN, OK, Case, outcome
from tests.factories import OrganizationFactory
from tests.mutual_aid.conftest import draft, member, offer_details, request_details
from webapp.accounts.models import Role
from webapp.extensions import db
from webapp.mutual_aid.models import Channel, HelpCategory, Notification, Report, SolidarityCall
from webapp.money import Money
from webapp.mutual_aid.services import calls, commitments, events, matching, posts

ROLES = ("anonymous", "member", "requester", "coordinator", "moderator", "admin")
FORBIDDEN, NOT_FOUND = 403, 404


expect = permission_matrix.expectations(ROLES)


EVERYONE = expect(OK)
SIGNED_IN = expect(OK, anonymous=LOGIN)
COORDINATORS = expect(FORBIDDEN, anonymous=LOGIN, coordinator=OK, admin=OK)
MODERATORS = expect(FORBIDDEN, anonymous=LOGIN, coordinator=OK, moderator=OK, admin=OK)
HELPER_ONLY = expect(NOT_FOUND, anonymous=LOGIN, member=OK)
REQUESTER_ONLY = expect(NOT_FOUND, anonymous=LOGIN, requester=OK)
BOTH_SIDES = expect(NOT_FOUND, anonymous=LOGIN, member=OK, requester=OK)


def build_world():
    coordinator = member("coordinator@example.org", region="FR-IDF", role=Role.COORDINATOR)
    w = SimpleNamespace(coordinator=coordinator)
    w.member = member("helper@example.org", region="FR-IDF", origins=("BJ-LI",))
    w.commitment = commitments.create_commitment(w.member, "BJ-LI", Money(10_000, "XOF"), Money(50_000, "XOF"))
    w.requester = member("requester@example.org", region="BJ-LI")
    w.moderator = member("moderator@example.org", region="SN-DK", role=Role.MODERATOR)
    w.admin = member("admin@example.org", region="GB-ENG", role=Role.ADMIN)
    w.stranger = member("stranger@example.org", region="BJ-LI")
    org = OrganizationFactory(country="BJ")
    w.draft = events.create_event(coordinator, draft(org.id, name="Drought draft"))
    w.event = events.create_event(coordinator, draft(org.id, name="Flood"))
    events.activate(w.event, coordinator)
    w.offer = posts.post_offer(w.event, w.member, offer_details())
    w.other_offer = posts.post_offer(w.event, w.stranger, offer_details(title="Another room"))
    w.request = posts.post_request(w.event, w.requester, request_details())
    w.open_request = posts.post_request(w.event, w.stranger, request_details(household=2))
    w.own_open = posts.post_request(w.event, w.requester, request_details(category=HelpCategory.TRANSPORT))
    w.van = posts.post_offer(w.event, w.stranger, offer_details(category=HelpCategory.TRANSPORT, title="A van"))
    w.match = matching.propose(w.offer, w.request, w.requester)
    w.call = w.committed_call = db.session.scalar(db.select(SolidarityCall)
                                                  .where(SolidarityCall.user_id == w.member.id))
    w.notification = Notification(user_id=w.member.id, kind="call", event_id=w.event.id, call_id=w.call.id)
    db.session.add(w.notification)
    w.report = Report(reporter_id=w.stranger.id, offer_id=w.other_offer.id, reason="spam")
    db.session.add(w.report)
    w.token = calls.unsubscribe_token(w.stranger.id, Channel.EMAIL)
    db.session.commit()
    return w




def event_form(w):
    return {"name": "Storm", "kind": "storm", "severity": "moderate", "starts_on": "2026-11-20",
            "relief_organization_id": str(w.event.relief_organization_id), "public_message": "Winds.",
            "country": "BJ", "regions": ["BJ-LI"], "fund_currency": "XOF", "fund_goal": "1000000"}


OFFER_FORM = {"category": "goods", "title": "Rice", "capacity": "5", "country": "BJ", "region": "BJ-LI"}
REQUEST_FORM = {"category": "goods", "urgency": "high", "household_size": "2", "country": "BJ", "region": "BJ-LI"}

EXPECTATIONS: list[Case] = [
    Case("mutual_aid.index", "GET", EVERYONE),
    Case("mutual_aid.show_event", "GET", EVERYONE, lambda w: {"slug": w.event.slug}),
    Case("mutual_aid.show_event", "GET", expect(NOT_FOUND, coordinator=OK, admin=OK),
         lambda w: {"slug": w.draft.slug}, label="draft"),
    Case("mutual_aid.unsubscribe", "GET", EVERYONE, lambda w: {"token": w.token}),
    Case("mutual_aid.unsubscribe", "POST", EVERYONE, lambda w: {"token": w.token}),
    # the coordinator's pages
    Case("mutual_aid.manage_events", "GET", COORDINATORS),
    Case("mutual_aid.new_event", "GET", COORDINATORS),
    Case("mutual_aid.new_event", "POST", COORDINATORS, data=event_form),
    Case("mutual_aid.edit_event", "GET", COORDINATORS, lambda w: {"slug": w.draft.slug}),
    Case("mutual_aid.edit_event", "POST", COORDINATORS, lambda w: {"slug": w.draft.slug}, event_form),
    Case("mutual_aid.activate_event", "GET", COORDINATORS, lambda w: {"slug": w.draft.slug}),
    Case("mutual_aid.activate_event", "POST", COORDINATORS, lambda w: {"slug": w.draft.slug},
         lambda w: {"confirm": "y"}),
    Case("mutual_aid.coordinate", "GET", COORDINATORS, lambda w: {"slug": w.event.slug}),
    Case("mutual_aid.event_calls", "GET", COORDINATORS, lambda w: {"slug": w.event.slug}),
    Case("mutual_aid.change_state", "POST", COORDINATORS, lambda w: {"slug": w.event.slug},
         lambda w: {"to": "recovery"}),
    Case("mutual_aid.report", "GET", COORDINATORS, lambda w: {"slug": w.event.slug}),
    Case("mutual_aid.report_csv", "GET", COORDINATORS, lambda w: {"slug": w.event.slug}),
    # moderation
    Case("mutual_aid.moderation_queue", "GET", MODERATORS),
    Case("mutual_aid.hide_offer", "POST", MODERATORS, lambda w: {"offer_id": w.other_offer.id}),
    Case("mutual_aid.hide_request", "POST", MODERATORS, lambda w: {"request_id": w.open_request.id}),
    Case("mutual_aid.suspend_user", "POST", MODERATORS, lambda w: {"user_id": w.stranger.id}),
    Case("mutual_aid.dismiss_report", "POST", MODERATORS, lambda w: {"report_id": w.report.id}),
    # members
    Case("mutual_aid.my_aid", "GET", SIGNED_IN),
    Case("mutual_aid.preferences", "GET", SIGNED_IN),
    Case("mutual_aid.preferences", "POST", SIGNED_IN, data=lambda w: {"email": "y"}),
    Case("mutual_aid.new_sleeping_offer", "GET", SIGNED_IN),
    Case("mutual_aid.new_sleeping_offer", "POST", SIGNED_IN, data=lambda w: OFFER_FORM),
    Case("mutual_aid.new_offer", "GET", SIGNED_IN, lambda w: {"slug": w.event.slug}),
    Case("mutual_aid.new_offer", "POST", SIGNED_IN, lambda w: {"slug": w.event.slug}, lambda w: OFFER_FORM),
    Case("mutual_aid.new_request", "GET", SIGNED_IN, lambda w: {"slug": w.event.slug}),
    Case("mutual_aid.new_request", "POST", SIGNED_IN, lambda w: {"slug": w.event.slug}, lambda w: REQUEST_FORM),
    Case("mutual_aid.report_post", "POST", SIGNED_IN, data=lambda w: {"offer_id": w.other_offer.id,
                                                                     "reason": "Looks fake."}),
    Case("mutual_aid.show_offer", "GET", SIGNED_IN, lambda w: {"offer_id": w.offer.id}),
    Case("mutual_aid.close_offer", "POST", expect(FORBIDDEN, anonymous=LOGIN, member=OK),
         lambda w: {"offer_id": w.offer.id}),
    Case("mutual_aid.propose_from_offer", "POST", expect(FORBIDDEN, anonymous=LOGIN, member=OK),
         lambda w: {"offer_id": w.offer.id}, lambda w: {"request_id": w.open_request.id}),
    Case("mutual_aid.show_call", "GET", HELPER_ONLY, lambda w: {"call_id": w.call.id}),
    Case("mutual_aid.open_notification", "GET", HELPER_ONLY, lambda w: {"notification_id": w.notification.id}),
    Case("mutual_aid.show_request", "GET", REQUESTER_ONLY, lambda w: {"request_id": w.request.id}),
    Case("mutual_aid.propose_from_request", "POST", REQUESTER_ONLY, lambda w: {"request_id": w.own_open.id},
         lambda w: {"offer_id": w.van.id}),
    Case("mutual_aid.propose_from_request", "POST", expect(NOT_FOUND, anonymous=LOGIN),
         lambda w: {"request_id": w.open_request.id}, lambda w: {"offer_id": w.other_offer.id}, label="not-own"),
    Case("mutual_aid.cancel_request", "POST", REQUESTER_ONLY, lambda w: {"request_id": w.request.id}),
    Case("mutual_aid.still_need", "POST", REQUESTER_ONLY, lambda w: {"request_id": w.request.id},
         lambda w: {"answer": "yes"}),
    Case("mutual_aid.show_match", "GET", BOTH_SIDES, lambda w: {"match_id": w.match.id}),
    Case("mutual_aid.my_commitments", "GET", SIGNED_IN),
    Case("mutual_aid.my_commitments", "POST", SIGNED_IN, data=lambda w: {
        "country": "BJ", "region": "BJ-AQ", "currency": "XOF", "max_amount": "10000", "yearly_cap": "20000",
        "accept_terms": "y"}),
    Case("mutual_aid.cancel_commitment", "POST", expect(NOT_FOUND, anonymous=LOGIN, member=OK),
         lambda w: {"commitment_id": w.commitment.id}),
    Case("mutual_aid.save_payment_method", "POST", expect(NOT_FOUND, anonymous=LOGIN, member=OK),
         lambda w: {"commitment_id": w.commitment.id}),
    Case("mutual_aid.confirm_commitment", "POST", HELPER_ONLY, lambda w: {"call_id": w.committed_call.id}),
    Case("mutual_aid.match_action", "POST", BOTH_SIDES, lambda w: {"match_id": w.match.id, "action": "accept"}),
]


def mutual_aid_routes() -> list[tuple[str, str]]:
    return permission_matrix.routes("mutual_aid.")


def test_every_mutual_aid_route_has_a_row():
    missing = set(mutual_aid_routes()) - {(c.endpoint, c.method) for c in EXPECTATIONS}
    assert not missing, f"routes with no row in tests/mutual_aid/test_permissions.py: {sorted(missing)}"


@pytest.mark.parametrize("case, role", [pytest.param(c, r, id=f"{c.id}-{r}") for c in EXPECTATIONS for r in ROLES])
def test_route_answers_each_role_as_the_table_says(app, case: Case, role: str):
    w = worlds.world(build_world)
    url = url_for(case.endpoint, **case.args(w))
    response = permission_matrix.ask(app, getattr(w, role, None), case.method, url, case.data(w))
    assert outcome(response) == case.expect[role], (
        f"{case.method} {url} as {role}: {response.status_code} {response.headers.get('Location', '')}")
