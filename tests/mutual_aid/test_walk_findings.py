"""Findings of the walk through the paths (issue 11) in mutual aid: waking offers, the call page, the fund's story."""
from __future__ import annotations

from datetime import timedelta

from flask import url_for
from sqlalchemy import select

from tests.mutual_aid.conftest import COTONOU, draft, member, offer_details, request_details
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.mutual_aid.models import Match, MatchState, Offer, SolidarityCall
from webapp.mutual_aid.services import events, posts


def _matched(event, offer_copy, affected_email: str) -> Match:
    affected = member(affected_email, region="BJ-LI", at=COTONOU)
    request = posts.post_request(event, affected, request_details())
    match = Match(event_id=event.id, offer_id=offer_copy.id, request_id=request.id, proposed_by_id=affected.id,
                  state=MatchState.MATCHED, expires_at=utcnow() + timedelta(days=2), matched_at=utcnow(),
                  accepted_by_helper_at=utcnow(), accepted_by_requester_at=utcnow())
    db.session.add(match)
    db.session.flush()
    return match


def test_an_offer_matched_in_a_running_event_is_not_published_again_in_the_next(coordinator, relief_org):
    helper = member("helper@example.org", region="BJ-LI", at=COTONOU)
    sleeping = posts.register_sleeping_offer(helper, offer_details())
    flood = events.create_event(coordinator, draft(relief_org.id, name="Flood"))
    assert events.activate(flood, coordinator).woken_offers == 1
    copy = db.session.scalar(select(Offer).where(Offer.event_id == flood.id, Offer.woken_from_id == sleeping.id))
    _matched(flood, copy, "affected@example.org")
    storm = events.create_event(coordinator, draft(relief_org.id, name="Storm", region_codes=("BJ-LI",)))
    assert events.activate(storm, coordinator).woken_offers == 0
    assert db.session.scalar(select(Offer).where(Offer.event_id == storm.id)) is None


def test_an_offer_whose_match_ended_with_its_closed_event_wakes_for_the_next(coordinator, relief_org):
    helper = member("helper@example.org", region="BJ-LI", at=COTONOU)
    sleeping = posts.register_sleeping_offer(helper, offer_details())
    flood = events.create_event(coordinator, draft(relief_org.id, name="Flood"))
    events.activate(flood, coordinator)
    copy = db.session.scalar(select(Offer).where(Offer.event_id == flood.id, Offer.woken_from_id == sleeping.id))
    _matched(flood, copy, "affected@example.org")
    events.close(flood, coordinator)
    storm = events.create_event(coordinator, draft(relief_org.id, name="Storm", region_codes=("BJ-LI",)))
    assert events.activate(storm, coordinator).woken_offers == 1


def test_the_helpers_call_page_shows_the_offer_it_woke_with_a_link(coordinator, relief_org, signed_in):
    helper = member("helper@example.org", region="BJ-LI", at=COTONOU)
    sleeping = posts.register_sleeping_offer(helper, offer_details(title="A dry room upstairs"))
    flood = events.create_event(coordinator, draft(relief_org.id))
    events.activate(flood, coordinator)
    copy = db.session.scalar(select(Offer).where(Offer.event_id == flood.id, Offer.woken_from_id == sleeping.id))
    call = db.session.scalar(select(SolidarityCall).where(SolidarityCall.user_id == helper.id))
    client = signed_in(helper)
    page = client.get(url_for("mutual_aid.show_call", call_id=call.id)).get_data(as_text=True)
    assert "A dry room upstairs" in page
    assert f'href="{url_for("mutual_aid.show_offer", offer_id=copy.id)}"' in page


def test_the_counterparts_phone_number_is_a_tel_link(active_event, signed_in):
    from webapp.mutual_aid.services import matching

    helper = member("helper@example.org", region="BJ-LI")
    affected = member("affected@example.org", region="BJ-LI")
    offer = posts.post_offer(active_event, helper, offer_details())  # phone "+229 97 11 22 33"
    need = posts.post_request(active_event, affected, request_details())  # phone "+229 96 44 55 66"
    match = matching.propose(offer, need, affected)
    matching.accept(match, helper)
    page = signed_in(affected).get(url_for("mutual_aid.show_match", match_id=match.id)).get_data(as_text=True)
    assert '<a href="tel:+22997112233">+229 97 11 22 33</a>' in page
    page = signed_in(helper).get(url_for("mutual_aid.show_match", match_id=match.id)).get_data(as_text=True)
    assert '<a href="tel:+22996445566">+229 96 44 55 66</a>' in page


def test_a_phone_link_keeps_only_what_a_dialler_reads():
    from webapp.i18n import phone_link

    assert str(phone_link("+229 (97) 11-22.33")) == '<a href="tel:+22997112233">+229 (97) 11-22.33</a>'
    assert str(phone_link('<b>97"</b>')) == '<a href="tel:97">&lt;b&gt;97&#34;&lt;/b&gt;</a>'
    assert str(phone_link("call me")) == "call me"  # no digit: no link
    assert phone_link(None) == ""


def test_the_affected_regions_hint_makes_sense_on_a_touch_screen(coordinator, signed_in):
    from tests.campaigns.helpers import page_text

    text = page_text(signed_in(coordinator).get(url_for("mutual_aid.new_event")))
    assert "Hold Ctrl (or ⌘) to choose several." not in text  # no Ctrl key on a phone
    assert "on a phone or tablet" in text


def test_notification_times_say_their_time_zone(coordinator, relief_org, signed_in):
    from tests.campaigns.helpers import page_text
    from tests.factories import NotificationFactory

    helper = member("helper@example.org", region="BJ-LI", at=COTONOU)
    NotificationFactory(user_id=helper.id)
    text = page_text(signed_in(helper).get(url_for("mutual_aid.my_aid")))
    assert "UTC" in text
    francophone = member("fr@example.org", locale="fr")
    NotificationFactory(user_id=francophone.id)
    french = page_text(signed_in(francophone).get(url_for("mutual_aid.my_aid")))
    assert "UTC" in french  # the zone in every language


def test_the_datetime_filter_adds_the_zone_the_time_is_shown_in(app):
    from datetime import datetime

    with app.test_request_context("/"):
        shown = app.jinja_env.filters["datetime"](datetime(2026, 12, 1, 8, 30), "short")
    assert shown.endswith("\u00a0UTC") and "8:30" in shown


def test_the_french_report_and_its_csv_have_french_headers_and_the_same_hxl_tags(coordinator, active_event, signed_in):
    import csv
    import io

    from tests.campaigns.helpers import page_text

    coordinator.locale = "fr"
    events.close(active_event, coordinator)
    client = signed_in(coordinator)
    text = page_text(client.get(url_for("mutual_aid.report", slug=active_event.slug)))
    assert "Région (ISO 3166-2)" in text and "Personnes touchées" in text and "Secteur" in text
    assert "People affected" not in text and "Sector" not in text
    rows = list(csv.reader(io.StringIO(client.get(url_for("mutual_aid.report_csv", slug=active_event.slug))
                                       .get_data(as_text=True))))
    assert rows[0] == ["Région (ISO 3166-2)", "Secteur", "Personnes touchées", "Personnes aidées", "Valeur",
                       "Devise", "Date"]
    assert rows[1] == ["#adm1+code", "#sector", "#affected", "#reached", "#value", "#currency", "#date"]


def _fund_of(event):
    from webapp.campaigns.models import Campaign

    return db.session.get(Campaign, event.fund_campaign_id)


def test_the_emergency_funds_story_is_in_the_organizations_language_whoever_activates(coordinator):
    from flask_babel import force_locale

    from tests.factories import OrganizationFactory

    ghana = OrganizationFactory(slug="accra-relief", name="Accra Relief", country="GH")
    benin = OrganizationFactory(slug="secours-cotonou", name="Secours Cotonou", country="BJ")
    with force_locale("fr"):  # a French-speaking coordinator activates both
        english = events.create_event(coordinator, draft(ghana.id, name="Accra floods", region_codes=("GH-AA",)))
        events.activate(english, coordinator)
    with force_locale("en"):
        french = events.create_event(coordinator, draft(benin.id, name="Crue de l'Ouémé"))
        events.activate(french, coordinator)
    assert "This is the emergency fund of" in _fund_of(english).story_md
    assert _fund_of(english).title.startswith("Emergency fund")
    assert "Voici le fonds d'urgence" in _fund_of(french).story_md
    assert _fund_of(french).title.startswith("Fonds d'urgence")


def test_the_emergency_funds_page_shows_the_events_message_once(coordinator, relief_org, client):
    event = events.create_event(coordinator, draft(relief_org.id))
    events.activate(event, coordinator)
    db.session.commit()
    fund = _fund_of(event)
    page = client.get(url_for("campaigns.show", slug=fund.slug)).get_data(as_text=True)
    head, body = page.split("</head>", 1)
    # once on the page; the head's description and share tags (og:, twitter:) carry it too, as they should
    assert body.count("The lagoon overflowed: families need shelter.") == 1
    assert 'content="The lagoon overflowed: families need shelter."' in head


def test_a_long_message_cut_in_the_summary_is_whole_in_the_story(coordinator, relief_org):
    long = "The lagoon overflowed. " * 15  # 345 characters: the summary keeps 200
    event = events.create_event(coordinator, draft(relief_org.id, public_message=long.strip()))
    events.activate(event, coordinator)
    assert long.strip() in _fund_of(event).story_md


def test_the_language_of_a_country_is_its_first_official_language_the_site_speaks(app):
    from webapp.i18n import language_of_country

    with app.app_context():
        assert language_of_country("BJ") == "fr" and language_of_country("GH") == "en"
        assert language_of_country("MA") == "ar"  # Arabic first, then French de facto, then Tamazight
        assert language_of_country("SN") == "fr"  # Wolof first, which the site does not speak, then French
        shipped = app.config["LANGUAGES"]
        app.config["LANGUAGES"] = [lang for lang in shipped if lang != "ar"]
        try:
            assert language_of_country("MA") == "fr"  # without Arabic, the next official language the site speaks
        finally:
            app.config["LANGUAGES"] = shipped
        assert language_of_country("JP") == "en" and language_of_country(None) == "en"  # the first of LANGUAGES
