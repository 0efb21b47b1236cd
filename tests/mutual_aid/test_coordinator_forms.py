"""The coordinator's forms as a browser submits them: editing a draft, choosing the relief organization, closing."""
from __future__ import annotations

from html.parser import HTMLParser

from flask import url_for
from sqlalchemy import select

from tests.campaigns.helpers import field_errors, page_text
from tests.factories import MembershipFactory, OrganizationFactory
from tests.mutual_aid.conftest import draft
from webapp.extensions import db
from webapp.mutual_aid.models import DisasterEvent, EventState
from webapp.mutual_aid.services import events
from webapp.organizations.models import OrgRole


class _BrowserForm(HTMLParser):
    """What a browser would send for the page's <form method=post> holding `having`, untouched by the person."""

    def __init__(self, having: str):
        super().__init__(convert_charrefs=True)
        self.having = having
        self.fields: list[tuple[str, str]] = []
        self.options: dict[str, list[tuple[str, str, bool]]] = {}  # select name → (value, label, selected)
        self._in_form = self._done = False
        self._select: tuple[str, bool] | None = None
        self._option: list | None = None
        self._textarea: list | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self._done:
            return
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self._in_form = True
        if not self._in_form:
            return
        if tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value") or ("y" if kind == "checkbox" else "")))
        elif tag == "select":
            self._select = (a["name"], "multiple" in a)
            self.options[a["name"]] = []
        elif tag == "option" and self._select:
            self._option = [a.get("value"), "", "selected" in a]
        elif tag == "textarea":
            self._textarea = [a["name"], ""]

    def handle_data(self, data):
        if self._option is not None:
            self._option[1] += data
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "option" and self._option is not None:
            value, label, selected = self._option
            self.options[self._select[0]].append((label.strip() if value is None else value, label.strip(), selected))
            self._option = None
        elif tag == "select" and self._select:
            name, multiple = self._select
            chosen = [value for value, _label, selected in self.options[name] if selected]
            if not chosen and not multiple and self.options[name]:
                chosen = [self.options[name][0][0]]  # a single select always sends its first option
            self.fields.extend((name, value) for value in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea[0], self._textarea[1].lstrip("\n")))
            self._textarea = None
        elif tag == "form" and self._in_form:
            self._in_form = False
            if any(name == self.having for name, _value in self.fields) or self.having in self.options:
                self._done = True
            else:  # not the form we look for: forget it
                self.fields, self.options = [], {}


def browser_form(response, having: str = "csrf_token") -> _BrowserForm:
    parser = _BrowserForm(having)
    parser.feed(response.get_data(as_text=True))
    return parser


def as_data(fields: list[tuple[str, str]], **changes) -> dict[str, list[str]]:
    data: dict[str, list[str]] = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    data.update({name: value if isinstance(value, list) else [value] for name, value in changes.items()})
    return data


# -- 3. editing a draft ------------------------------------------------------------------------------------
def test_the_edit_form_opens_with_the_country_and_regions_of_the_draft(coordinator, draft_event, signed_in):
    client = signed_in(coordinator)
    form = browser_form(client.get(url_for("mutual_aid.edit_event", slug=draft_event.slug)), "name")
    sent = as_data(form.fields)
    assert sent["country"] == ["BJ"]
    assert sorted(sent["regions"]) == ["BJ-AQ", "BJ-LI"]
    assert {value for value, _label, _sel in form.options["regions"]} >= {"BJ-AQ", "BJ-LI", "BJ-BO"}


def test_saving_a_draft_untouched_keeps_its_regions(coordinator, draft_event, signed_in):
    client = signed_in(coordinator)
    form = browser_form(client.get(url_for("mutual_aid.edit_event", slug=draft_event.slug)), "name")
    response = client.post(url_for("mutual_aid.edit_event", slug=draft_event.slug),
                           data=as_data(form.fields, name="Floods in Cotonou and Calavi"))
    assert response.status_code == 302, field_errors(response, "regions")
    event = db.session.get(DisasterEvent, draft_event.id)
    assert event.name == "Floods in Cotonou and Calavi"
    assert event.region_codes == ["BJ-AQ", "BJ-LI"]


def test_regions_of_another_country_come_back_in_the_other_regions_field(coordinator, relief_org, signed_in):
    event = events.create_event(coordinator, draft(relief_org.id, region_codes=("BJ-LI", "BJ-AQ", "TG-M")))
    client = signed_in(coordinator)
    form = browser_form(client.get(url_for("mutual_aid.edit_event", slug=event.slug)), "name")
    sent = as_data(form.fields)
    assert sent["country"] == ["BJ"] and sorted(sent["regions"]) == ["BJ-AQ", "BJ-LI"]
    assert sent["other_regions"] == ["TG-M"]
    assert client.post(url_for("mutual_aid.edit_event", slug=event.slug), data=sent).status_code == 302
    assert db.session.get(DisasterEvent, event.id).region_codes == ["BJ-AQ", "BJ-LI", "TG-M"]


# -- 4. the relief organization is a choice ------------------------------------------------------------------
def test_the_relief_organization_is_never_chosen_for_the_coordinator(coordinator, relief_org, signed_in):
    OrganizationFactory(slug="amis-ecotourisme", name="Association des amis de l'écotourisme", country="BJ")
    client = signed_in(coordinator)
    page = client.get(url_for("mutual_aid.new_event"))
    form = browser_form(page, "name")
    first_value, first_label, _selected = form.options["relief_organization_id"][0]
    assert first_value == "" and first_label == "Choose…"
    data = as_data(form.fields, name="Floods", public_message="The lagoon overflowed.", country="BJ",
                   regions=["BJ-LI"], fund_goal="5 000 000")
    response = client.post(url_for("mutual_aid.new_event"), data=data)
    assert response.status_code == 400
    assert field_errors(response, "relief_organization_id") == [
        "Choose the organization that receives the emergency fund."]
    assert db.session.scalar(select(DisasterEvent)) is None


def test_a_relief_organization_that_does_not_exist_is_refused_with_a_message(coordinator, relief_org, signed_in):
    client = signed_in(coordinator)
    form = browser_form(client.get(url_for("mutual_aid.new_event")), "name")
    for bad in ("999999", "abc"):
        data = as_data(form.fields, name="Floods", public_message="The lagoon overflowed.", country="BJ",
                       regions=["BJ-LI"], fund_goal="5 000 000", relief_organization_id=bad)
        response = client.post(url_for("mutual_aid.new_event"), data=data)
        assert response.status_code == 400
        assert field_errors(response, "relief_organization_id") == [
            "Choose the organization that receives the emergency fund."]


def test_the_coordinators_own_organizations_come_first(coordinator, relief_org, signed_in):
    OrganizationFactory(slug="amis-ecotourisme", name="Association des amis de l'écotourisme", country="BJ")
    own = OrganizationFactory(slug="secours-littoral", name="Secours du Littoral", country="BJ")
    MembershipFactory(organization=own, user=coordinator, role=OrgRole.OWNER)
    client = signed_in(coordinator)
    labels = [label for _v, label, _s in browser_form(client.get(url_for("mutual_aid.new_event")), "name")
              .options["relief_organization_id"]]
    assert labels[:2] == ["Choose…", "Secours du Littoral"]
    assert labels[2:] == sorted(labels[2:])
    assert "Croix Solidaire du Bénin" in labels and "Association des amis de l'écotourisme" in labels


def test_the_edit_form_keeps_the_chosen_relief_organization(coordinator, draft_event, relief_org, signed_in):
    client = signed_in(coordinator)
    sent = as_data(browser_form(client.get(url_for("mutual_aid.edit_event", slug=draft_event.slug)), "name").fields)
    assert sent["relief_organization_id"] == [str(relief_org.id)]


def test_the_relief_organization_choice_is_in_french(coordinator, relief_org, signed_in):
    coordinator.locale = "fr"
    client = signed_in(coordinator)
    page = client.get(url_for("mutual_aid.new_event"))
    assert browser_form(page, "name").options["relief_organization_id"][0][1] == "Choisir…"


# -- 5. closing asks first, and the report link says what it is ----------------------------------------------
def test_closing_asks_for_a_confirmation_first(coordinator, active_event, signed_in):
    client = signed_in(coordinator)
    event_page = client.get(url_for("mutual_aid.coordinate", slug=active_event.slug))
    assert "Close the event…" in page_text(event_page)
    response = client.post(url_for("mutual_aid.change_state", slug=active_event.slug), data={"to": "closed"})
    assert response.status_code == 200
    text = page_text(response)
    assert "Close “Floods in Cotonou”" in text and "cannot be undone" in text
    assert db.session.get(DisasterEvent, active_event.id).state == EventState.ACTIVE

    # the confirmation page's own form, sent without ticking the box: still open, with a message
    confirmation = browser_form(response, "to").fields
    unticked = as_data(confirmation)
    assert unticked["to"] == ["closed"] and "confirm" not in unticked
    refused = client.post(url_for("mutual_aid.change_state", slug=active_event.slug), data=unticked)
    assert refused.status_code == 400
    assert field_errors(refused, "confirm") == ["Tick the box to confirm the closing."]
    db.session.expire_all()
    assert db.session.get(DisasterEvent, active_event.id).state == EventState.ACTIVE

    closed = client.post(url_for("mutual_aid.change_state", slug=active_event.slug),
                         data=as_data(confirmation, confirm="y"))
    assert closed.status_code == 302
    assert closed.headers["Location"].endswith(url_for("mutual_aid.report", slug=active_event.slug))
    db.session.expire_all()
    assert db.session.get(DisasterEvent, active_event.id).state == EventState.CLOSED


def test_moving_to_recovery_needs_no_confirmation(coordinator, active_event, signed_in):
    client = signed_in(coordinator)
    response = client.post(url_for("mutual_aid.change_state", slug=active_event.slug), data={"to": "recovery"})
    assert response.status_code == 302
    assert db.session.get(DisasterEvent, active_event.id).state == EventState.RECOVERY


def test_the_link_to_a_closed_events_report_is_not_report_abuse(coordinator, active_event, signed_in):
    events.close(active_event, coordinator)
    client = signed_in(coordinator)
    url = url_for("mutual_aid.coordinate", slug=active_event.slug)
    report = url_for("mutual_aid.report", slug=active_event.slug)
    assert f'href="{report}">View the report</a>' in client.get(url).get_data(as_text=True)
    coordinator.locale = "fr"
    db.session.commit()
    french = client.get(url).get_data(as_text=True)
    assert f'href="{report}">Voir le compte rendu</a>' in french
    assert "Signaler" not in french
