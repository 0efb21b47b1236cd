"""Ids and whole numbers from the outside: past the database's range, or written in non-ASCII digits,
they are refused with a 4xx (or a form error), never a 500."""
from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import NotFound

from tests.campaigns.helpers import sign_in
from tests.factories import MembershipFactory, RewardTierFactory, UserFactory
from tests.mutual_aid.conftest import active_event, coordinator, member, relief_org  # noqa: F401  (fixtures)
from webapp.extensions import db
from webapp.ids import MAX_ID, parse_id, parse_int

TOO_BIG = str(2**63)
STRANGE = ["²", "٣", "३", "１", "1²", "+1", "-1", "0", " 1", "1 ", "1_0", "0x1", "1.0", "", "\x00", "1\x00",
           TOO_BIG, str(10**30), "9" * 1000]


@pytest.mark.no_app
@pytest.mark.parametrize("value", STRANGE)
def test_parse_id_refuses_what_no_row_can_have(value):
    assert parse_id(value) is None


@pytest.mark.no_app
def test_parse_id_reads_ascii_ids_up_to_the_largest_key():
    assert parse_id("1") == 1
    assert parse_id("0042") == 42
    assert parse_id(str(MAX_ID)) == MAX_ID
    assert parse_id(None) is None
    assert parse_id(["1"]) is None


@pytest.mark.no_app
def test_parse_int_reads_signed_ascii_numbers_within_bounds():
    assert parse_int("-5", -10, 10) == -5
    assert parse_int(" 7 ", 0, 10) == 7
    assert parse_int("11", 0, 10) is None
    assert parse_int("٣", 0, 10) is None
    assert parse_int("²", 0, 10) is None
    assert parse_int(str(10**30), 0, 2**70) is None  # 20 digits and more are never read


@pytest.mark.parametrize("value", [TOO_BIG, str(10**30), "0", "٣", "²"])
def test_int_url_converter_answers_404_beyond_any_key(app, value):
    adapter = app.url_map.bind("harambee.test")
    with pytest.raises(NotFound):
        adapter.match(f"/aid/offers/{value}")
    assert adapter.match(f"/aid/offers/{MAX_ID}") == ("mutual_aid.show_offer", {"offer_id": MAX_ID})


def test_a_tier_id_past_the_range_is_a_404_not_a_500(app):
    tier = RewardTierFactory()
    owner = UserFactory()
    MembershipFactory(organization=tier.campaign.organization, user=owner)
    db.session.commit()
    client = app.test_client()
    sign_in(client, owner)
    assert client.get(f"/manage/campaigns/{tier.campaign.slug}/tiers/{tier.id}").status_code == 200
    for value in (TOO_BIG, str(10**30)):
        response = client.get(f"/manage/campaigns/{tier.campaign.slug}/tiers/{value}")
        assert response.status_code == 404, response.status_code
        response = client.post(f"/manage/campaigns/{tier.campaign.slug}/tiers/{value}/delete")
        assert response.status_code == 404, response.status_code


@pytest.mark.parametrize("field", ["offer_id", "request_id"])
@pytest.mark.parametrize("value", ["²", "٣", TOO_BIG, str(10**30), "-1"])
def test_a_report_names_its_post_in_ascii_digits_within_range(app, field, value):
    user = member("reporter@example.org", region="BJ-LI")
    db.session.commit()
    client = app.test_client()
    sign_in(client, user)
    response = client.post("/aid/report", data={field: value, "reason": "Spam"})
    assert response.status_code == 400, response.status_code


@pytest.mark.parametrize("page", [TOO_BIG, str(10**30), "²", "٣", "-3"])
def test_a_page_number_past_any_page_shows_a_page(app, active_event, coordinator, page):  # noqa: F811
    client = app.test_client()
    sign_in(client, coordinator)
    response = client.get(f"/aid/manage/events/{active_event.slug}/calls", query_string={"page": page})
    assert response.status_code == 200, response.status_code
    response = client.get("/", query_string={"page": page})
    assert response.status_code == 200, response.status_code


# -- forms: every integer field reads ASCII digits within its column's range ---------------------
def _tier_form(quantity):
    from webapp.campaigns.forms import TierForm

    data = MultiDict({"title": "Flour", "minimum": "5000", "quantity_limit": quantity})
    return TierForm(formdata=data, currency="XOF", meta={"csrf": False})


@pytest.mark.parametrize("quantity", ["٣", "²", TOO_BIG, str(10**30), "1_000", "-1"])
def test_an_integer_field_refuses_non_ascii_and_huge_numbers(app, quantity):
    form = _tier_form(quantity)
    assert not form.validate()
    assert form.quantity_limit.errors


def test_an_integer_field_still_reads_a_plain_number(app):
    form = _tier_form("12")
    assert form.validate(), form.errors
    assert form.quantity_limit.data == 12


def test_every_integer_field_of_the_app_is_bounded(app):
    """No form of the app keeps WTForms' IntegerField, whose int() reads ٣ as 3 and 10**30 as is."""
    import inspect

    from wtforms import IntegerField

    import webapp.campaigns.forms
    import webapp.mutual_aid.forms
    from webapp.forms import BoundedIntegerField

    loose = []
    for module in (webapp.campaigns.forms, webapp.mutual_aid.forms):
        for name, form in inspect.getmembers(module, inspect.isclass):
            for attr, unbound in vars(form).items():
                field_class = getattr(unbound, "field_class", None)
                if field_class and issubclass(field_class, IntegerField) and not issubclass(
                        field_class, BoundedIntegerField):
                    loose.append(f"{module.__name__}.{name}.{attr}")
    assert not loose, loose


@pytest.mark.parametrize("value", ["²", "٣", "0", "-1", TOO_BIG, "", "abc"])
def test_an_id_field_and_a_select_of_ids_refuse_what_no_row_can_have(app, value):
    from wtforms import SelectField

    from webapp.forms import BaseForm, IdField, coerce_id

    class Form(BaseForm):
        row = IdField()
        choice = SelectField(coerce=coerce_id, choices=[(1, "one")], validate_choice=False)

    form = Form(formdata=MultiDict({"row": value, "choice": value}), meta={"csrf": False})
    assert not form.validate()
    assert form.row.errors and form.row.data is None
    assert form.choice.errors


def test_an_id_field_reads_an_ascii_id(app):
    from webapp.forms import BaseForm, IdField

    class Form(BaseForm):
        row = IdField()

    form = Form(formdata=MultiDict({"row": str(MAX_ID)}), meta={"csrf": False})
    assert form.validate(), form.errors
    assert form.row.data == MAX_ID


@pytest.mark.parametrize("address", ["/aid/?q=a%00b", "/campaigns/a%00b", "/?%00=1", "/?q=\xff\xfe"])
def test_an_address_with_a_nul_or_that_is_not_utf8_is_a_400(client, address):
    """NUL reaches PostgreSQL as a text parameter (refused: a 500); an undecodable query string broke
    every page's language switcher (a 500). Both are refused before any view. (The query string is
    handed over as a server does: its raw bytes, latin-1 decoded.)"""
    path, _, query = address.partition("?")
    response = client.get(path, environ_overrides={"QUERY_STRING": query} if query else None)
    assert response.status_code == 400, response.status_code
