"""The anonymous page cache (webapp.pagecache): what it serves, to whom, how fresh, and what never leaks."""
from __future__ import annotations

import re

import pytest
from flask import url_for

from tests.factories import CampaignFactory, MembershipFactory, PledgeFactory, UserFactory
from webapp.extensions import cache, db
from webapp.money import Money
from webapp.payments import bookkeeping
from webapp.payments.models import PledgeStatus

TIMEOUT = 5  # seconds an entry lives (config.PAGE_CACHE_SECONDS); the cache's clock is moved, never waited for


@pytest.fixture
def page_cache(app):
    """The session's app with a SimpleCache page cache, for this test only."""
    saved = {name: app.config[name] for name in ("CACHE_TYPE", "PAGE_CACHE_SECONDS")}
    app.config.update(CACHE_TYPE="SimpleCache", PAGE_CACHE_SECONDS=TIMEOUT)
    cache.init_app(app, config={"CACHE_TYPE": "SimpleCache"})
    try:
        yield cache
    finally:
        cache.clear()
        app.config.update(saved)
        cache.init_app(app, config={"CACHE_TYPE": saved["CACHE_TYPE"]})


def _raised(amount: int) -> str:
    return Money(amount, "XOF").format("en")


def _live():
    campaign = CampaignFactory(live=True, slug="grain-mill")
    db.session.commit()
    return campaign


def _nonces(html: bytes) -> list[bytes]:
    return re.findall(rb'nonce="([^"]+)"', html)


def _tokens(html: bytes) -> list[bytes]:
    return re.findall(rb'name="csrf_token" value="([^"]+)"', html)


def test_a_second_anonymous_visit_is_served_from_the_cache(app, page_cache):
    _live()
    first = app.test_client().get("/campaigns/grain-mill")
    second = app.test_client().get("/campaigns/grain-mill")
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.headers["X-Page-Cache"] == "miss" and second.headers["X-Page-Cache"] == "hit"
    assert app.test_client().get("/").headers["X-Page-Cache"] == "miss"
    assert app.test_client().get("/").headers["X-Page-Cache"] == "hit"
    assert app.test_client().get("/?q=mill").headers["X-Page-Cache"] == "miss"  # the query is in the key


def test_a_cached_page_carries_this_visitors_own_nonce_and_csrf_token(app, page_cache):
    _live()
    alice, bob = app.test_client(), app.test_client()
    first, second = alice.get("/campaigns/grain-mill"), bob.get("/campaigns/grain-mill")
    assert second.headers["X-Page-Cache"] == "hit"
    for response in (first, second):
        nonces = _nonces(response.data)
        assert nonces and set(nonces) == {nonces[0]}
        assert f"'nonce-{nonces[0].decode()}'" in response.headers["Content-Security-Policy"]
        assert b"<!--harambee:" not in response.data  # no marker left
    assert _nonces(first.data)[0] != _nonces(second.data)[0]
    alice_token, bob_token = _tokens(first.data), _tokens(second.data)
    assert alice_token and bob_token and alice_token != bob_token
    # each token is valid for its own session only: Bob's page lets Bob choose a language with CSRF on
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        chosen = bob.post(url_for("accounts.choose_language"),
                          data={"lang": "fr", "next": "/", "csrf_token": bob_token[0].decode()})
        assert chosen.status_code == 302
        refused = bob.post(url_for("accounts.choose_language"),
                           data={"lang": "fr", "next": "/", "csrf_token": alice_token[0].decode()})
        assert refused.status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_the_key_holds_the_language_and_the_currency(app, page_cache):
    _live()
    english = app.test_client().get("/campaigns/grain-mill", headers={"Accept-Language": "en-US"})
    french = app.test_client().get("/campaigns/grain-mill", headers={"Accept-Language": "fr-FR"})
    canadian = app.test_client().get("/campaigns/grain-mill", headers={"Accept-Language": "en-CA"})
    assert [r.headers["X-Page-Cache"] for r in (english, french, canadian)] == ["miss", "miss", "miss"]
    assert b'lang="fr"' in french.data and b'<html lang="en"' in english.data


def test_signed_in_members_and_flashed_messages_never_meet_the_cache(app, page_cache, signed_in):
    _live()
    app.test_client().get("/campaigns/grain-mill")
    member = signed_in(UserFactory(verified=True, name="Aminata Member"))
    page = member.get("/campaigns/grain-mill")
    assert "X-Page-Cache" not in page.headers and b"Aminata Member" in page.data
    assert b"Aminata Member" not in app.test_client().get("/campaigns/grain-mill").data
    visitor = app.test_client()
    with visitor.session_transaction() as session:
        session["_flashes"] = [("info", "Only for this visitor")]
    flashed = visitor.get("/campaigns/grain-mill")
    assert "X-Page-Cache" not in flashed.headers and b"Only for this visitor" in flashed.data
    assert b"Only for this visitor" not in app.test_client().get("/campaigns/grain-mill").data


def test_a_confirmed_pledge_shows_at_once_after_commit(app, page_cache):
    campaign = _live()
    assert _raised(25_000).encode() not in app.test_client().get("/campaigns/grain-mill").data
    assert app.test_client().get("/campaigns/grain-mill").headers["X-Page-Cache"] == "hit"
    pledge = PledgeFactory(campaign=campaign, amount=25_000, status=PledgeStatus.PAID)
    db.session.flush()
    bookkeeping.book_charge(pledge)
    db.session.commit()
    page = app.test_client().get("/campaigns/grain-mill")
    assert page.headers["X-Page-Cache"] == "miss" and _raised(25_000).encode() in page.data
    assert _raised(25_000).encode() in app.test_client().get("/").data


def test_a_rolled_back_write_leaves_the_cache_alone(app, page_cache):
    campaign = _live()
    app.test_client().get("/campaigns/grain-mill")
    campaign.title = "Not saved"
    db.session.flush()
    db.session.rollback()
    assert app.test_client().get("/campaigns/grain-mill").headers["X-Page-Cache"] == "hit"


def test_a_change_the_listeners_cannot_see_shows_within_the_timeout(app, page_cache, monkeypatch):
    """A write outside the ORM (another process, a SQL console) is on the page within PAGE_CACHE_SECONDS."""
    campaign = _live()
    app.test_client().get("/campaigns/grain-mill")
    with db.engine.begin() as conn:  # not through the session: no listener hears it
        conn.exec_driver_sql("UPDATE campaigns SET title = 'A mill and a well' WHERE id = %d" % campaign.id)
    db.session.expire_all()  # the test's session shares the views' identity map; another process would not
    stale = app.test_client().get("/campaigns/grain-mill")
    assert stale.headers["X-Page-Cache"] == "hit" and b"A mill and a well" not in stale.data
    later(monkeypatch, TIMEOUT / 2)
    assert app.test_client().get("/campaigns/grain-mill").headers["X-Page-Cache"] == "hit"  # still young
    later(monkeypatch, TIMEOUT + 0.1)
    fresh = app.test_client().get("/campaigns/grain-mill")
    assert fresh.headers["X-Page-Cache"] == "miss" and b"A mill and a well" in fresh.data


def later(monkeypatch, seconds: float) -> None:
    """Move the clocks of the store (cachelib) and of the page cache's freshness `seconds` ahead of now."""
    import time

    import cachelib.simple

    from webapp import pagecache

    real = time.time
    monkeypatch.setattr(cachelib.simple, "time", lambda: real() + seconds)
    monkeypatch.setattr(pagecache, "_now", lambda: real() + seconds)


def test_a_stale_page_is_rendered_again_by_one_visitor_while_the_others_get_the_stale_copy(app, page_cache,
                                                                                          monkeypatch):
    from webapp import pagecache

    _live()
    assert app.test_client().get("/").headers["X-Page-Cache"] == "miss"
    later(monkeypatch, TIMEOUT + 0.1)
    with app.test_request_context("/"):
        key = pagecache._key("listing")
    assert page_cache.add(f"{key}:refreshing", 1, timeout=TIMEOUT)  # another worker is rendering it
    stale = app.test_client().get("/")
    assert stale.status_code == 200 and stale.headers["X-Page-Cache"] == "hit"
    page_cache.delete(f"{key}:refreshing")
    assert app.test_client().get("/").headers["X-Page-Cache"] == "miss"  # this one renders it again
    assert app.test_client().get("/").headers["X-Page-Cache"] == "hit"  # meanwhile marked: the stale copy


def test_the_home_page_shows_a_pledge_within_the_freshness_of_its_entries(app, page_cache, monkeypatch):
    """The listing follows money within PAGE_CACHE_SECONDS (not at each pledge); a campaign's own page at once."""
    campaign = _live()
    assert _raised(25_000).encode() not in app.test_client().get("/").data
    pledge = PledgeFactory(campaign=campaign, amount=25_000, status=PledgeStatus.PAID)
    db.session.flush()
    bookkeeping.book_charge(pledge)
    db.session.commit()
    assert _raised(25_000).encode() in app.test_client().get("/campaigns/grain-mill").data  # at once
    assert app.test_client().get("/").headers["X-Page-Cache"] == "hit"  # the listing within its freshness
    later(monkeypatch, TIMEOUT + 0.1)
    assert _raised(25_000).encode() in app.test_client().get("/").data


def test_an_update_posted_and_an_edited_campaign_change_the_page_at_once(app, page_cache):
    from webapp.campaigns import services

    campaign = _live()
    editor = MembershipFactory(organization=campaign.organization, editor=True).user
    app.test_client().get("/campaigns/grain-mill")
    services.post_update(campaign, editor, "The mill has arrived", "It works.")
    db.session.commit()
    page = app.test_client().get("/campaigns/grain-mill")
    assert page.headers["X-Page-Cache"] == "miss" and b"The mill has arrived" in page.data
    app.test_client().get("/")
    campaign.title = "A mill for two villages"  # what an approved revision or a moderator's edit writes
    db.session.commit()
    assert b"A mill for two villages" in app.test_client().get("/campaigns/grain-mill").data
    assert b"A mill for two villages" in app.test_client().get("/").data


def test_revalidation_answers_304_for_the_same_session_only(app, page_cache):
    _live()
    visitor = app.test_client()
    first = visitor.get("/campaigns/grain-mill")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "private, no-cache" and first.headers["Last-Modified"]
    again = visitor.get("/campaigns/grain-mill", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    other = app.test_client().get("/campaigns/grain-mill", headers={"If-None-Match": etag})
    assert other.status_code == 200  # another session: its own CSRF token, so another copy


def test_static_files_have_fingerprinted_addresses_kept_a_year(app, client):
    address = url_for("static", filename="site.css")
    assert re.search(r"/static/site\.css\?v=[0-9a-f]{12}$", address)
    response = client.get(address)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    stale = client.get("/static/site.css?v=000000000000")
    assert stale.status_code == 200 and "immutable" not in stale.headers.get("Cache-Control", "")


def test_signed_in_members_share_the_campaign_body_but_not_each_others_header_or_token(app, page_cache, signed_in):
    campaign = _live()
    editor = MembershipFactory(organization=campaign.organization, editor=True).user
    editor.name = "Edith Editor"
    moderators = [UserFactory(moderator=True, verified=True, name=f"Moderator {n}") for n in (1, 2)]
    reader = UserFactory(verified=True, name="Rita Reader")
    pages = {user.name: signed_in(user).get("/campaigns/grain-mill") for user in (editor, *moderators, reader)}
    for name, page in pages.items():
        assert page.status_code == 200 and name.encode() in page.data
        assert b"<!--harambee:" not in page.data
    edit_link = url_for("manage.edit_campaign", slug="grain-mill").encode()
    assert edit_link in pages["Edith Editor"].data
    assert edit_link not in pages["Rita Reader"].data and edit_link not in pages["Moderator 2"].data
    fast_forward = url_for("money.fast_forward", slug="grain-mill").encode()
    assert fast_forward in pages["Moderator 1"].data and fast_forward in pages["Moderator 2"].data
    assert fast_forward not in pages["Rita Reader"].data
    one, two = _tokens(pages["Moderator 1"].data), _tokens(pages["Moderator 2"].data)
    assert len(one) == len(two) >= 2 and set(one).isdisjoint(two)  # header's and fast-forward's: their own


def test_a_confirmed_pledge_shows_at_once_to_members_too(app, page_cache, signed_in):
    campaign = _live()
    member = signed_in(UserFactory(verified=True))
    assert _raised(25_000).encode() not in member.get("/campaigns/grain-mill").data
    pledge = PledgeFactory(campaign=campaign, amount=25_000, status=PledgeStatus.PAID)
    db.session.flush()
    bookkeeping.book_charge(pledge)
    db.session.commit()
    assert _raised(25_000).encode() in member.get("/campaigns/grain-mill").data


def test_a_translation_added_or_edited_changes_the_page_at_once(app, page_cache):
    """campaign_translations and campaign_update_translations rows carry campaign_id: a write invalidates."""
    from webapp.campaigns import revisions, services, translations
    from webapp.campaigns.models import CampaignTranslation

    campaign = _live()
    editor = MembershipFactory(organization=campaign.organization, editor=True).user
    french = {"Accept-Language": "fr"}
    app.test_client().get("/campaigns/grain-mill", headers=french)
    app.test_client().get("/", headers=french)
    revisions.apply_translations(campaign, {"fr": {"title": "Un moulin à grain", "summary": "Moudre", "story_md": ""}})
    db.session.commit()
    assert "Un moulin à grain" in app.test_client().get("/campaigns/grain-mill", headers=french).get_data(as_text=True)
    assert "Un moulin à grain" in app.test_client().get("/", headers=french).get_data(as_text=True)
    row = db.session.query(CampaignTranslation).filter_by(campaign_id=campaign.id).one()
    row.title = "Un moulin pour deux villages"
    db.session.commit()
    assert "Un moulin pour deux villages" in app.test_client().get("/campaigns/grain-mill",
                                                                    headers=french).get_data(as_text=True)
    update = services.post_update(campaign, editor, "The mill has arrived", "It works.")
    db.session.commit()
    app.test_client().get("/campaigns/grain-mill", headers=french)
    translations.save_update_translation(update, campaign, editor, "fr", title="Le moulin est arrivé", body_md="Il marche.")
    db.session.commit()
    assert "Le moulin est arrivé" in app.test_client().get("/campaigns/grain-mill", headers=french).get_data(as_text=True)


def _statements(app, action) -> list[str]:
    from sqlalchemy import event

    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        action()
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    return seen


def test_a_pledge_re_renders_the_money_only_and_the_record_stays_cached(app, page_cache, signed_in, monkeypatch):
    """At the surge every pledge changes the totals; the story, updates, reports, impact and budget stay."""
    from webapp.campaigns import services

    monkeypatch.setitem(app.config, "FX_DISPLAY_CACHE_SECONDS", 60)  # as configured outside the tests

    campaign = _live()
    editor = MembershipFactory(organization=campaign.organization, editor=True).user
    services.post_update(campaign, editor, "The mill has arrived", "It works.")
    db.session.commit()
    member = signed_in(UserFactory(verified=True))
    assert b"The mill has arrived" in member.get("/campaigns/grain-mill").data
    pledge = PledgeFactory(campaign=campaign, amount=25_000, status=PledgeStatus.PAID)
    db.session.flush()
    bookkeeping.book_charge(pledge)
    db.session.commit()
    pages = []
    seen = _statements(app, lambda: pages.append(member.get("/campaigns/grain-mill")))
    assert _raised(25_000).encode() in pages[0].data and b"The mill has arrived" in pages[0].data
    assert not [s for s in seen if "campaign_updates" in s or "budget_lines" in s or "progress_reports" in s
                or "impact_indicators" in s], seen  # the record came from the cache
    assert len(seen) <= 6, "\n".join(s[:90] for s in seen)
    anonymous = []
    PledgeFactory(campaign=campaign, amount=1_000, status=PledgeStatus.PAID)
    db.session.commit()
    assert len(_statements(app, lambda: anonymous.append(app.test_client().get("/campaigns/grain-mill")))) <= 4
    assert anonymous[0].headers["X-Page-Cache"] == "miss"


def test_a_budget_line_or_a_progress_report_changes_the_record_at_once(app, page_cache, signed_in):
    from webapp.campaigns.models import BudgetLine
    from webapp.progress_reports import services as reports

    campaign = _live()
    editor = MembershipFactory(organization=campaign.organization, editor=True).user
    member = signed_in(UserFactory(verified=True))
    for client in (app.test_client(), member):
        assert b"Millstones" not in client.get("/campaigns/grain-mill").data
    db.session.add(BudgetLine(campaign_id=campaign.id, title="Millstones", amount=40_000, required=True, position=0))
    db.session.commit()
    for client in (app.test_client(), member):
        assert b"Millstones" in client.get("/campaigns/grain-mill").data
    reports.post_report(campaign, editor, "The first sacks of flour", "Forty sacks.", [])
    db.session.commit()
    for client in (app.test_client(), member):
        assert b"The first sacks of flour" in client.get("/campaigns/grain-mill").data


def test_a_pledge_leaves_the_campaigns_record_version_alone(app, page_cache):
    from webapp import pagecache

    campaign = _live()
    app.test_client().get("/campaigns/grain-mill")
    record, money = pagecache._record_version_key("grain-mill"), pagecache._campaign_version_key("grain-mill")
    before = cache.get_many(record, money)
    pledge = PledgeFactory(campaign=campaign, amount=5_000, status=PledgeStatus.PAID)
    db.session.flush()
    bookkeeping.book_charge(pledge)
    db.session.commit()
    after = cache.get_many(record, money)
    assert after[0] == before[0] and after[1] != before[1]
    campaign.summary = "Grinding for two villages"
    db.session.commit()
    edited = cache.get_many(record, money)
    assert edited[0] != after[0] and edited[1] != after[1]


def test_another_process_change_reaches_this_process_within_the_version_delay(app, page_cache, monkeypatch):
    """Version tokens are remembered PAGE_CACHE_VERSION_SECONDS: this process's own writes show at once, another
    process's (here: a token written straight into the store, as its invalidation would) within that delay."""
    from webapp import pagecache

    monkeypatch.setitem(app.config, "PAGE_CACHE_VERSION_SECONDS", 1)
    campaign = _live()
    assert app.test_client().get("/campaigns/grain-mill").headers["X-Page-Cache"] == "miss"
    assert app.test_client().get("/campaigns/grain-mill").headers["X-Page-Cache"] == "hit"
    campaign.title = "Written here"
    db.session.commit()
    assert b"Written here" in app.test_client().get("/campaigns/grain-mill").data  # at once
    cache.set(pagecache._campaign_version_key("grain-mill"), "elsewhere", timeout=0)
    assert app.test_client().get("/campaigns/grain-mill").headers["X-Page-Cache"] == "hit"  # remembered
    real = pagecache.time.monotonic
    monkeypatch.setattr(pagecache.time, "monotonic", lambda: real() + 1.1)
    assert app.test_client().get("/campaigns/grain-mill").headers["X-Page-Cache"] == "miss"  # read again
