"""The member's profile: name, language, residence, coordinates, origin regions and language switching."""
from __future__ import annotations

import re

import pytest
from flask import url_for

from tests.accounts.helpers import count, fresh, sign_in, text_of
from tests.factories import PASSWORD, OriginRegionFactory, UserFactory
from webapp.accounts.models import OriginRegion
from webapp.extensions import db


@pytest.fixture
def member(client):
    user = UserFactory(email="nurse@example.org", name="Old Name")
    db.session.commit()  # so that `fresh()` (a rollback) keeps the account
    sign_in(client, user)
    return user


def profile_data(**overrides) -> dict:
    data = {"name": "Fifamè Dossou", "locale": "", "display_currency": "", "residence_country": "FR",
            "residence_region": "FR-ARA", "latitude": "", "longitude": ""}
    data.update(overrides)
    return data


def test_profile_saves_name_language_currency_residence_and_coordinates(client, member):
    response = client.post(url_for("accounts.profile"), data=profile_data(
        locale="fr", display_currency="XOF", latitude="45.76", longitude="4.84"))

    assert response.status_code == 302
    user = fresh(member)
    assert (user.name, user.locale, user.display_currency) == ("Fifamè Dossou", "fr", "XOF")
    assert (user.residence_country, user.residence_region) == ("FR", "FR-ARA")
    assert (user.latitude, user.longitude) == (45.76, 4.84)


def test_profile_page_shows_the_saved_values(client, member):
    client.post(url_for("accounts.profile"), data=profile_data())

    page = text_of(client.get(url_for("accounts.profile")))

    assert 'value="Fifamè Dossou"' in page
    assert '<option selected value="FR-ARA">' in page


def test_emptying_the_residence_clears_it(client, member):
    client.post(url_for("accounts.profile"), data=profile_data())

    client.post(url_for("accounts.profile"), data=profile_data(residence_country="", residence_region=""))

    user = fresh(member)
    assert (user.residence_country, user.residence_region) == (None, None)


def test_region_of_another_country_is_refused_and_nothing_is_saved(client, member):
    response = client.post(url_for("accounts.profile"), data=profile_data(
        name="Changed", residence_country="SN", residence_region="FR-ARA"))

    assert response.status_code == 400
    assert "Choose a region of the chosen country." in text_of(response)
    user = fresh(member)
    assert (user.name, user.residence_country, user.residence_region) == ("Old Name", None, None)


def test_region_without_a_country_is_refused(client, member):
    response = client.post(url_for("accounts.profile"), data=profile_data(residence_country="", residence_region="SN-DK"))

    assert response.status_code == 400
    assert fresh(member).residence_region is None


def test_unknown_country_is_refused(client, member):
    response = client.post(url_for("accounts.profile"), data=profile_data(residence_country="XX", residence_region=""))

    assert response.status_code == 400
    assert "Choose a country from the list." in text_of(response)
    assert fresh(member).residence_country is None


@pytest.mark.parametrize(("latitude", "longitude"), [("45.76", ""), ("", "4.84")], ids=["latitude-only", "longitude-only"])
def test_one_coordinate_without_the_other_is_refused(client, member, latitude, longitude):
    response = client.post(url_for("accounts.profile"), data=profile_data(
        name="Changed", latitude=latitude, longitude=longitude))

    assert response.status_code == 400
    assert "Give both latitude and longitude, or neither." in text_of(response)
    user = fresh(member)
    assert (user.name, user.latitude, user.longitude) == ("Old Name", None, None)


@pytest.mark.parametrize(("latitude", "longitude"), [("91", "0"), ("0", "-181")], ids=["latitude", "longitude"])
def test_coordinates_out_of_range_are_refused(client, member, latitude, longitude):
    response = client.post(url_for("accounts.profile"), data=profile_data(latitude=latitude, longitude=longitude))

    assert response.status_code == 400
    assert fresh(member).latitude is None


def test_unknown_language_in_the_profile_is_refused(client, member):
    response = client.post(url_for("accounts.profile"), data=profile_data(locale="de"))

    assert response.status_code == 400
    assert fresh(member).locale is None


def test_profile_needs_a_signed_in_member(client):
    response = client.get(url_for("accounts.profile"))

    assert response.status_code == 302
    assert response.location.startswith(url_for("accounts.login"))


# -- origin regions -------------------------------------------------------------------------------
def test_adding_an_origin_region_saves_it_once(client, member):
    first = client.post(url_for("accounts.add_origin"), data={"country": "BJ", "region": "BJ-LI"})
    second = client.post(url_for("accounts.add_origin"), data={"country": "BJ", "region": "bj-li"})

    assert first.status_code == 302 and second.status_code == 302
    codes = db.session.scalars(db.select(OriginRegion.region_code).where(OriginRegion.user_id == member.id)).all()
    assert codes == ["BJ-LI"]
    assert "Littoral" in text_of(client.get(url_for("accounts.profile")))


@pytest.mark.parametrize(("country", "region"), [("SN", "SN-XX"), ("SN", "BJ-LI"), ("XX", "XX-01"), ("SN", "")],
                         ids=["unknown-code", "other-country", "unknown-country", "no-region"])
def test_adding_an_unknown_or_mismatched_origin_region_is_refused(client, member, country, region):
    response = client.post(url_for("accounts.add_origin"), data={"country": country, "region": region})

    assert response.status_code == 400
    assert count(OriginRegion) == 0


def test_removing_an_origin_region_removes_only_it(client, member):
    OriginRegionFactory(user=member, region_code="BJ-LI")
    OriginRegionFactory(user=member, region_code="SN-DK")
    other = OriginRegionFactory(region_code="BJ-LI")
    db.session.commit()

    response = client.post(url_for("accounts.remove_origin", code="bj-li"))

    assert response.status_code == 302
    assert [o.region_code for o in fresh(member).origin_regions] == ["SN-DK"]
    assert db.session.get(OriginRegion, other.id) is not None


def test_removing_an_origin_region_needs_post(client, member):
    OriginRegionFactory(user=member, region_code="BJ-LI")

    assert client.get("/account/origins/BJ-LI/remove").status_code == 405
    assert count(OriginRegion) == 1


# -- language ---------------------------------------------------------------------------------------
def test_language_switch_saves_the_members_locale_and_the_next_page_is_in_french(client, member):
    assert '<html lang="en"' in client.get(url_for("accounts.profile")).get_data(as_text=True)

    response = client.post(url_for("accounts.choose_language"), data={"lang": "fr", "next": "/account/profile"})

    assert response.status_code == 302
    assert fresh(member).locale == "fr"
    with client.session_transaction() as session:
        assert session["lang"] == "fr"
    page = text_of(client.get(url_for("accounts.profile")))
    assert '<html lang="fr"' in page
    assert "<h1>Votre profil</h1>" in page


def test_language_switch_for_a_visitor_lasts_the_session(client):
    response = client.post(url_for("accounts.choose_language"), data={"lang": "fr"},
                           headers={"Accept-Language": "en"})

    assert response.status_code == 302
    page = client.get(url_for("campaigns.home"), headers={"Accept-Language": "en"})
    assert '<html lang="fr"' in page.get_data(as_text=True)


def test_members_saved_language_beats_the_browsers(client):
    sign_in(client, UserFactory(locale="fr"))

    page = client.get(url_for("accounts.profile"), headers={"Accept-Language": "en-GB,en"})

    assert '<html lang="fr"' in page.get_data(as_text=True)


def test_unknown_language_is_refused(client):
    response = client.post(url_for("accounts.choose_language"), data={"lang": "xx"})

    assert response.status_code == 400
    assert "We do not have that language yet." in text_of(response)


# -- password change --------------------------------------------------------------------------------
def test_changing_the_password_needs_the_current_one(client, member):
    wrong = client.post(url_for("accounts.change_password"), data={"current": "not it at all", "password": "n" * 12})
    right = client.post(url_for("accounts.change_password"), data={"current": PASSWORD, "password": "n" * 12})

    assert wrong.status_code == 400
    assert "Your current password is not right." in text_of(wrong)
    assert right.status_code == 302
    assert fresh(member).check_password("n" * 12)


def test_language_chosen_before_signing_in_is_kept_after_signing_in(client):
    user = UserFactory(locale=None)
    client.post(url_for("accounts.choose_language"), data={"lang": "fr"})

    client.post(url_for("accounts.login"), data={"email": user.email, "password": PASSWORD},
                headers={"Accept-Language": "en"})

    page = client.get(url_for("accounts.profile"), headers={"Accept-Language": "en"})
    assert '<html lang="fr"' in page.get_data(as_text=True)


def test_at_most_ten_origin_regions(client, member):
    for code in ["SN-DK", "SN-TH", "SN-ZG", "SN-SL", "SN-KL", "SN-LG", "SN-MT", "SN-FK", "SN-KA", "SN-KD"]:
        OriginRegionFactory(user=member, region_code=code)
    db.session.commit()

    response = client.post(url_for("accounts.add_origin"), data={"country": "BJ", "region": "BJ-LI"},
                           follow_redirects=True)

    assert "You can list at most 10 regions of origin." in text_of(response)
    assert count(OriginRegion, OriginRegion.user_id == member.id) == 10


def test_every_label_on_the_profile_page_points_at_its_field(client, member):
    page = client.get(url_for("accounts.profile")).get_data(as_text=True)

    ids = re.findall(r'\sid="([^"]+)"', page)
    targets = re.findall(r'<label for="([^"]+)"', page)
    assert {"residence_country", "country", "region"} <= set(targets)
    assert [target for target in targets if target not in ids] == []
    assert 'data-regions-for="region"' in page


def test_region_options_follow_the_country(client):
    response = client.get(url_for("accounts.region_options", country="BJ", selected="BJ-LI"))

    assert response.status_code == 200
    assert '<option value="BJ-LI" selected>Littoral</option>' in response.get_data(as_text=True)
    assert client.get(url_for("accounts.region_options", country="XX")).status_code == 400
