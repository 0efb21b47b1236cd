"""Location privacy before acceptance: an attacker who probes from many chosen points learns a helper's grid
cell and nothing finer (distances between cells, shown as bands; ranking by cell); probing is limited per
account and per address; after acceptance the two sides see the exact distance."""
from __future__ import annotations

import math
import re
from html import unescape
from html.parser import HTMLParser

import pytest
from flask import url_for
from sqlalchemy import func, select

from tests.mutual_aid.conftest import COTONOU, draft, member, offer_details, request_details
from webapp import geo
from webapp.extensions import db
from webapp.mutual_aid.models import HelpRequest
from webapp.mutual_aid import places
from webapp.mutual_aid.places import cell_centre, cell_of
from webapp.mutual_aid.services import events, matching, posts

#: the helper's cell, lat 6.3..6.4 and lon 2.4..2.5 (Cotonou): its centre is (6.35, 2.45)
CELL = (63, 24)
#: two places for the helper in that cell, at opposite corners: about 11.8 km apart
TWINS = ((6.392, 2.408), (6.308, 2.492))
#: an offer the attacker's accomplice posts at a point the attacker knows, in the same cell: the order of the
#: two offers on the page would tell which is nearer to each probe
DECOY = (6.36, 2.44)
#: where the attacker posts requests: 49 points over the cell and the cells around it
PROBES = [(round(6.20 + 0.05 * i, 3), round(2.30 + 0.05 * j, 3)) for i in range(7) for j in range(7)]
UNLIMITED = {"MUTUAL_AID_POSTS_PER_HOUR": 1_000_000, "MUTUAL_AID_POSTS_PER_ACCOUNT": "1000000 per day",
             "MUTUAL_AID_POSTS_PER_ADDRESS": "1000000 per day", "MUTUAL_AID_SUGGESTIONS_PER_ACCOUNT": "1000000 per hour",
             "MUTUAL_AID_SUGGESTIONS_PER_ADDRESS": "1000000 per hour"}


class _Table(HTMLParser):
    """The text of each cell of each body row of the table with the given id."""

    def __init__(self, table_id: str):
        super().__init__()
        self.table_id, self.inside, self.rows, self.cell = table_id, False, [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and dict(attrs).get("id") == self.table_id:
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag == "td":
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self.inside = False
        elif self.inside and tag == "td" and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def table_rows(response, table_id: str) -> list[list[str]]:
    parser = _Table(table_id)
    parser.feed(unescape(response.get_data(as_text=True)))
    return [row for row in parser.rows if row]


def request_form(at, **overrides) -> dict:
    data = {"category": "lodging", "urgency": "critical", "household_size": "1", "country": "BJ", "region": "BJ-LI",
            "latitude": str(at[0]), "longitude": str(at[1])}
    data.update(overrides)
    return data


def km_range(text: str) -> tuple[float, float]:
    """What a distance the page shows says about the true distance, read as an attacker would."""
    if m := re.fullmatch(r"about (\d+) km", text):
        n = int(m[1])
        return max(0.0, n - 0.5), n + 0.5
    if m := re.fullmatch(r"under (\d+) km", text):
        return 0.0, float(m[1])
    if m := re.fullmatch(r"(\d+)\s*[–-]\s*(\d+) km", text):
        return float(m[1]), float(m[2])
    if m := re.fullmatch(r"over (\d+) km", text):
        return float(m[1]), math.inf
    raise AssertionError(f"the attacker cannot read the distance {text!r}")


# -- the attack ---------------------------------------------------------------------------------
def observe(client, event, helper_at, n: int) -> list[list[tuple[str, str]]]:
    """A helper's offer at `helper_at` and the accomplice's decoy are published in `event`; the attacker posts a
    request at every probe point, reads the suggestions (title and distance, in their order), withdraws it."""
    helper = member(f"helper{n}@example.org", region="BJ-LI")
    accomplice = member(f"accomplice{n}@example.org", region="BJ-LI")
    posts.post_offer(event, helper, offer_details(at=helper_at, title="Target room", description=""))
    posts.post_offer(event, accomplice, offer_details(at=DECOY, title="Decoy room", description=""))
    db.session.commit()
    seen = []
    for probe in PROBES:
        posted = client.post(url_for("mutual_aid.new_request", slug=event.slug), data=request_form(probe))
        assert posted.status_code == 302, posted.get_data(as_text=True)
        request_id = int(re.search(r"/requests/(\d+)", posted.headers["Location"])[1])
        page = client.get(url_for("mutual_aid.show_request", request_id=request_id))
        assert page.status_code == 200
        seen.append([(row[0], row[2]) for row in table_rows(page, "suggestions")])
        assert client.post(url_for("mutual_aid.cancel_request", request_id=request_id)).status_code == 302
    return seen


def estimate(seen: list[list[tuple[str, str]]]) -> tuple[float, float]:
    """Least squares over a 200 m grid: every point scored by how far the distances it would have to each probe
    fall outside what the pages said (the band, and which of target and decoy came first); the estimate is the
    centroid of the best-scoring points."""
    constraints = []
    for probe, rows in zip(PROBES, seen, strict=True):
        titles = [title for title, _distance in rows]
        assert titles.count("Target room") == 1, rows
        low, high = km_range(dict(rows)["Target room"])
        target_first = titles.index("Target room") < titles.index("Decoy room")
        constraints.append((probe, low, high, geo.distance_km(*probe, *DECOY), target_first))
    best, points = math.inf, []
    for i in range(101):
        for j in range(101):
            point = (6.25 + 0.002 * i, 2.35 + 0.002 * j)
            score = 0.0
            for probe, low, high, to_decoy, target_first in constraints:
                d = geo.distance_km(*probe, *point)
                score += max(0.0, low - d, d - high) ** 2
                score += max(0.0, d - to_decoy if target_first else to_decoy - d) ** 2
            if score < best - 1e-9:
                best, points = score, [point]
            elif score <= best + 1e-9:
                points.append(point)
    return sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)


@pytest.fixture
def two_events(coordinator, relief_org, active_event):
    second = events.create_event(coordinator, draft(relief_org.id, name="Floods in Cotonou, second wave"))
    events.activate(second, coordinator)
    db.session.commit()
    return active_event, second


def test_a_trilateration_attack_from_a_fresh_account_learns_the_helpers_cell_and_nothing_finer(
        two_events, signed_in, app, monkeypatch):
    for key, value in UNLIMITED.items():  # the attacker with every probe they want: the limits are tested below
        monkeypatch.setitem(app.config, key, value)
    assert {cell_of(*at) for at in (*TWINS, DECOY)} == {CELL}
    attacker = signed_in(member("prober@example.org"))
    seen = [observe(attacker, event, at, n) for n, (event, at) in enumerate(zip(two_events, TWINS, strict=True))]
    guesses = [estimate(s) for s in seen]
    errors = [geo.distance_km(*guess, *at) for guess, at in zip(guesses, TWINS, strict=True)]
    apart = geo.distance_km(*TWINS[0], *TWINS[1])
    # Knowing the cell, the best one can do is its centre. An attacker who could do better would place at
    # least one of two helpers at opposite corners closer than half the distance between them.
    assert max(errors) >= apart / 2 - 0.05, (
        f"the attack placed the helpers {errors[0]:.2f} km and {errors[1]:.2f} km from their true places "
        f"(estimates {guesses}), closer than the cell allows ({apart / 2:.1f} km)")
    # whatever the estimator: the pages were the same wherever the helper stood in its cell
    assert seen[0] == seen[1]
    # and the attack is real: it read a distance on every page, several bands, and found the neighbourhood
    assert len({dict(rows)["Target room"] for rows in seen[0]}) >= 3
    assert geo.distance_km(*guesses[0], *cell_centre(*CELL)) < 25


def test_a_helper_probing_from_chosen_points_learns_a_requests_cell_and_nothing_finer(
        two_events, signed_in, app, monkeypatch):
    for key, value in UNLIMITED.items():
        monkeypatch.setitem(app.config, key, value)
    prober = signed_in(member("helper-prober@example.org"))
    pages = []
    for n, (event, at) in enumerate(zip(two_events, TWINS, strict=True)):
        posts.post_request(event, member(f"affected{n}@example.org", region="BJ-LI"), request_details(at=at))
        db.session.commit()
        seen = []
        for probe in PROBES[::4]:
            posted = client_post_offer(prober, event, probe)
            offer_id = int(re.search(r"/offers/(\d+)", posted.headers["Location"])[1])
            page = prober.get(url_for("mutual_aid.show_offer", offer_id=offer_id))
            seen.append([row[3] for row in table_rows(page, "nearby")])
            prober.post(url_for("mutual_aid.close_offer", offer_id=offer_id))
        pages.append(seen)
    assert pages[0] == pages[1]
    assert all(len(rows) == 1 for rows in pages[0]) and len({rows[0] for rows in pages[0]}) >= 2


def client_post_offer(client, event, at):
    posted = client.post(url_for("mutual_aid.new_offer", slug=event.slug),
                         data={"category": "lodging", "title": "A room", "capacity": "4", "country": "BJ",
                               "region": "BJ-LI", "latitude": str(at[0]), "longitude": str(at[1])})
    assert posted.status_code == 302, posted.get_data(as_text=True)
    return posted


def test_distances_are_measured_between_cell_centres_and_shown_as_bands(active_event):
    affected = member("affected@example.org", region="BJ-LI")
    helper = member("helper@example.org", region="BJ-LI")
    corner = posts.post_offer(active_event, helper, offer_details(at=(6.3999, 2.4001), title="Corner"))
    need = posts.post_request(active_event, affected, request_details(at=(6.4001, 2.3999)))  # 30 m away
    [suggestion] = matching.suggested_offers(need)
    between_cells = geo.distance_km(*cell_centre(63, 24), *cell_centre(64, 23))
    assert suggestion.offer.id == corner.id and suggestion.distance == places.band_of(between_cells)
    assert suggestion.distance.label == "10–25 km"
    assert [places.band_of(km).label for km in (0, 4.9, 5, 11.1, 25, 99, 250, 1000)] == [
        "under 5 km", "under 5 km", "5–10 km", "10–25 km", "25–50 km", "50–100 km", "over 250 km", "over 250 km"]
    assert places.band_of(None) is None
    assert 0.099 < places.CELL_DEGREES < 0.101


def test_offers_in_the_same_cell_are_ranked_oldest_first_wherever_they_stand(active_event):
    affected = member("affected@example.org", region="BJ-LI")
    far_in_cell = posts.post_offer(active_event, member("a@example.org"), offer_details(at=(6.309, 2.491)))
    near_in_cell = posts.post_offer(active_event, member("b@example.org"), offer_details(at=(6.366, 2.419)))
    need = posts.post_request(active_event, affected, request_details(at=(6.3655, 2.4185)))
    assert [s.offer.id for s in matching.suggested_offers(need)] == [far_in_cell.id, near_in_cell.id]


def test_the_band_labels_are_translated(active_event, signed_in):
    affected = member("affected@example.org", region="BJ-LI", locale="fr")
    posts.post_offer(active_event, member("helper@example.org"), offer_details(at=COTONOU))
    need = posts.post_request(active_event, affected, request_details(at=COTONOU))
    client = signed_in(affected)
    page = client.get(url_for("mutual_aid.show_request", request_id=need.id), headers={"Accept-Language": "fr"})
    assert [row[2] for row in table_rows(page, "suggestions")] == ["moins de 5 km"]
    assert "jamais entre des adresses" in unescape(page.get_data(as_text=True))


def test_after_acceptance_the_two_sides_see_the_exact_distance_and_only_they(active_event, signed_in):
    affected = member("affected@example.org", region="BJ-LI")
    helper = member("helper@example.org", region="BJ-LI")
    offer = posts.post_offer(active_event, helper, offer_details(at=(6.3999, 2.4001)))
    need = posts.post_request(active_event, affected, request_details(at=(6.4101, 2.3899)))
    match = matching.propose(offer, need, affected)
    db.session.commit()
    as_helper = signed_in(helper)
    before = unescape(as_helper.get(url_for("mutual_aid.show_match", match_id=match.id)).get_data(as_text=True))
    assert 'id="exact-distance"' not in before and "6.4101" not in before
    matching.accept(match, helper)
    db.session.commit()
    exact = round(geo.distance_km(6.3999, 2.4001, 6.4101, 2.3899), 1)
    for client in (as_helper, signed_in(affected)):
        page = unescape(client.get(url_for("mutual_aid.show_match", match_id=match.id)).get_data(as_text=True))
        assert f"{exact:.1f} km between the offer and the request" in page
    stranger = signed_in(member("stranger@example.org"))
    assert stranger.get(url_for("mutual_aid.show_match", match_id=match.id)).status_code == 404


# -- the probing limits -------------------------------------------------------------------------
def _count_requests() -> int:
    return db.session.scalar(select(func.count()).select_from(HelpRequest))


def test_probing_by_posting_is_limited_for_a_fresh_account_and_a_second_account_from_the_same_address(
        active_event, signed_in, app, monkeypatch):
    monkeypatch.setitem(app.config, "MUTUAL_AID_POSTS_PER_HOUR", 1000)
    monkeypatch.setitem(app.config, "MUTUAL_AID_POSTS_PER_ACCOUNT", "3 per day")
    monkeypatch.setitem(app.config, "MUTUAL_AID_POSTS_PER_ADDRESS", "5 per day")
    here, elsewhere = {"REMOTE_ADDR": "198.51.100.7"}, {"REMOTE_ADDR": "203.0.113.9"}
    url = url_for("mutual_aid.new_request", slug=active_event.slug)
    first = signed_in(member("fresh@example.org"))
    statuses = [first.post(url, data=request_form(p, category=c), environ_base=here).status_code
                for p, c in zip(PROBES[:4], ("lodging", "goods", "transport", "storage"), strict=True)]
    assert statuses == [302, 302, 302, 429]
    refused = first.post(url, data=request_form(PROBES[5], category="equipment_loan"), environ_base=elsewhere)
    assert refused.status_code == 429  # a new address does not give the account a new budget
    assert "the most offers and requests we allow" in unescape(refused.get_data(as_text=True))
    # offers draw on the same budget
    offer = first.post(url_for("mutual_aid.new_offer", slug=active_event.slug), environ_base=here,
                       data={"category": "goods", "title": "Rice", "capacity": "5", "country": "BJ", "region": "BJ-LI"})
    assert offer.status_code == 429
    second = signed_in(member("second@example.org", locale="fr"))
    answers = [second.post(url, data=request_form(p, category=c), environ_base=here, headers={"Accept-Language": "fr"})
               for p, c in zip(PROBES[6:9], ("lodging", "goods", "transport"), strict=True)]
    assert [a.status_code for a in answers] == [302, 302, 429]  # the address had 5: 3 + 2
    assert "le maximum d'offres et de demandes" in unescape(answers[-1].get_data(as_text=True))
    assert _count_requests() == 5
    # the form can still be read, and a form refused for bad input uses up nothing
    third = signed_in(member("third@example.org"))
    assert third.get(url, environ_base=here).status_code == 200
    bad = [third.post(url, data=request_form(PROBES[9], household_size="0"), environ_base=elsewhere).status_code
           for _ in range(3)]
    good = [third.post(url, data=request_form(p, category=c), environ_base=elsewhere).status_code
            for p, c in zip(PROBES[10:14], ("lodging", "goods", "transport", "storage"), strict=True)]
    assert (bad, good) == ([400] * 3, [302, 302, 302, 429])
    assert _count_requests() == 8


def test_probing_by_reloading_suggestions_is_limited_per_account_and_per_address(
        active_event, signed_in, app, monkeypatch):
    monkeypatch.setitem(app.config, "MUTUAL_AID_SUGGESTIONS_PER_ACCOUNT", "4 per hour")
    monkeypatch.setitem(app.config, "MUTUAL_AID_SUGGESTIONS_PER_ADDRESS", "6 per hour")
    here = {"REMOTE_ADDR": "198.51.100.7"}
    one, two = member("one@example.org", region="BJ-LI"), member("two@example.org", region="BJ-LI", locale="fr")
    mine = posts.post_request(active_event, one, request_details())
    theirs = posts.post_request(active_event, two, request_details())
    first = signed_in(one)
    url = url_for("mutual_aid.show_request", request_id=mine.id)
    assert [first.get(url, environ_base=here).status_code for _ in range(5)] == [200] * 4 + [429]
    refused = first.get(url, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert refused.status_code == 429
    assert "the most times we allow in an hour" in unescape(refused.get_data(as_text=True))
    second = signed_in(two)
    url = url_for("mutual_aid.show_request", request_id=theirs.id)
    answers = [second.get(url, environ_base=here, headers={"Accept-Language": "fr"}) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]  # the address had 6: 4 + 2
    assert "le maximum de fois" in unescape(answers[-1].get_data(as_text=True))


# -- the coordinator's preview ------------------------------------------------------------------
def reach_on_page(client, event) -> tuple[int, ...]:
    page = client.get(url_for("mutual_aid.activate_event", slug=event.slug)).get_data(as_text=True)
    return tuple(int(n) for n in re.findall(r"<strong>(\d+)</strong>", page[page.index('id="reach"'):]))


def test_moving_a_drafts_centre_and_radius_reveals_a_members_cell_and_nothing_finer(coordinator, relief_org,
                                                                                    signed_in):
    """The activation page counts the members each audience would call. A coordinator who walks a draft's radius
    (or centre) and reads the counts finds where the count changes: it must change only when a cell crosses the
    circle, and nobody inside the circle may be missed."""
    # a member of Ouémé (not among the event's regions), near Porto-Novo; two places in the same cell
    inside, outside = (6.41, 2.61), (6.49, 2.69)
    assert cell_of(*inside) == cell_of(*outside)
    resident = member("porto-novo@example.org", region="BJ-OU", at=inside)
    event = events.create_event(coordinator, draft(relief_org.id))
    client = signed_in(coordinator)
    walks = []
    for at in (inside, outside):
        resident.latitude, resident.longitude = at
        counts = []
        for radius in range(1, 61):
            events.update_event(event, coordinator, draft(relief_org.id, centre_latitude=COTONOU[0],
                                                          centre_longitude=COTONOU[1], radius_km=radius))
            db.session.commit()
            near = reach_on_page(client, event)[0]
            if geo.distance_km(*COTONOU, *at) <= radius:
                assert near == 2, f"{at} is {geo.distance_km(*COTONOU, *at):.1f} km away: inside {radius} km"
            counts.append(near)
        walks.append(counts)
    # the exact test would have moved the step from about 22 km to about 33 km
    assert walks[0] == walks[1]
    assert set(walks[0]) == {1, 2}  # the member's cell did cross the circle during the walk
