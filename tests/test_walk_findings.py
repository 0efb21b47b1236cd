"""Findings of the walk through the paths (issue 11) that touch every page or several domains."""
from __future__ import annotations

import re
from pathlib import Path

from flask import url_for


def test_every_page_names_a_favicon_that_exists(client):
    for page in (url_for("campaigns.home"), url_for("accounts.login"), "/no-such-page"):
        html = client.get(page).get_data(as_text=True)
        icons = re.findall(r'<link rel="icon" href="([^"]+)"', html)
        assert icons, page
        for href in icons:
            icon = client.get(href)
            assert icon.status_code == 200 and icon.mimetype in ("image/svg+xml", "image/png"), href


def test_the_favicon_browsers_ask_for_by_themselves_is_there(client):
    """A page that names no icon (a CSV or an image opened in a tab) makes the browser ask for /favicon.ico."""
    response = client.get("/favicon.ico", follow_redirects=True)
    assert response.status_code == 200 and response.mimetype == "image/png"


def test_french_region_names_that_pycountry_misspells_are_corrected():
    from webapp import geo

    assert geo.region_name("BJ-LI", "fr") == "Littoral" and geo.region_name("CM-LT", "fr") == "Littoral"
    assert dict(geo.regions_of("BJ", "fr"))["BJ-LI"] == "Littoral"
    assert geo.region_name("BJ-OU", "fr") == "Ouémé" and geo.region_name("CM-EN", "fr") == "Extrême-Nord"
    assert geo.region_name("BJ-LI", "en") == "Littoral"
    for language, names in geo.REGION_NAME_FIXES.items():  # every fix names a real region
        assert all(geo.is_region(code) for code in names), language


def test_exchange_rates_are_written_the_way_the_readers_language_writes_numbers(app):
    from decimal import Decimal

    from flask_babel import force_locale

    show = app.jinja_env.filters["rate"]
    with app.test_request_context("/"):
        with force_locale("fr"):
            assert show(Decimal("0.00152449")) == "0,001524"
            assert show(Decimal("655.957")) == "655,957"
        with force_locale("en"):
            assert show(Decimal("0.00152449")) == "0.001524"
            assert show(Decimal("1655.957")) == "1,655.957"
        assert show(None) == ""


def test_the_french_receipt_email_writes_the_rate_with_a_decimal_comma(app):
    from datetime import date
    from decimal import Decimal
    from types import SimpleNamespace

    from flask import render_template
    from flask_babel import force_locale

    from tests.factories import CampaignFactory
    from webapp.extensions import db
    from webapp.money import Money

    campaign = CampaignFactory(live=True)
    pledge = SimpleNamespace(money=Money(10_000, "XOF"), tip_amount=0, currency="XOF", charge_currency="EUR",
                             charge=Money(1524, "EUR"), fx_rate=Decimal("0.00152449"), fx_date=date(2026, 12, 1),
                             tier=None, reference="H-1", status="paid")
    with app.test_request_context("/"), force_locale("fr"):
        text = render_template("email/pledge_receipt.txt", campaign=campaign, pledge=pledge, link="http://x")
    assert "1 XOF = 0,001524 EUR" in text and "0.001524" not in text


def test_french_puts_a_narrow_no_break_space_before_every_colon():
    from pathlib import Path

    from babel.messages.pofile import read_po

    po = Path(__file__).resolve().parent.parent / "webapp" / "translations" / "fr" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as f:
        catalog = read_po(f)
    wrong = []
    for message in catalog:
        if not message.id:
            continue  # the header
        for text in (message.string if isinstance(message.string, tuple) else (message.string,)):
            # a colon as punctuation: followed by a space or ending the text (not https:// nor 10:30)
            if text and re.search(r"(?<!\u202f):(?=\s|$)", text):
                wrong.append(text)
    assert not wrong, "use U+202F (narrow no-break space) before ':' in: " + " | ".join(wrong[:5])


def test_labels_glued_to_a_colon_in_templates_take_the_french_space(app):
    from flask import render_template_string
    from flask_babel import force_locale

    with app.test_request_context("/"):
        with force_locale("fr"):
            assert render_template_string("{{ with_colon(_('Area')) }}") == "Zone\u202f:"
        with force_locale("en"):
            assert render_template_string("{{ with_colon(_('Area')) }}") == "Area:"
    templates = Path(__file__).resolve().parent.parent / "templates"
    glued = [str(p.relative_to(templates)) for p in templates.rglob("*") if p.is_file()
             and not p.is_relative_to(templates / "payments")  # the pledge pages are another branch's
             and re.search(r"_\('[^']*'\) \}\}:", p.read_text(encoding="utf-8"))]
    assert not glued, glued


def test_french_dates_say_1er_for_the_first_day_of_the_month(app):
    from datetime import date, datetime

    from flask_babel import force_locale

    from webapp.i18n import format_day

    day = app.jinja_env.filters["date"]
    moment = app.jinja_env.filters["datetime"]
    with app.test_request_context("/"):
        with force_locale("fr"):
            assert day(date(2026, 12, 1), "long") == "1er décembre 2026"
            assert day(date(2026, 12, 1)) == "1er déc. 2026"
            assert day(datetime(2026, 12, 1, 9, 30), "full") == "mardi 1er décembre 2026"
            assert day(date(2026, 12, 2), "long") == "2 décembre 2026"
            assert day(date(2026, 12, 1), "short") == "01/12/2026"  # numeric: no ordinal
            assert day(date(2026, 12, 1), "MMMM y") == "décembre 2026"
            assert moment(datetime(2026, 12, 1, 9, 30), "medium").startswith("1er déc. 2026")
            assert format_day(date(2026, 11, 1), "long") == "1er novembre 2026"
        with force_locale("en"):
            assert day(date(2026, 12, 1), "long") == "December 1, 2026"


def test_french_never_puts_de_or_le_before_a_name_that_may_need_an_elision():
    """ "de Association", "de Inondations": a name may start with a vowel, so French words that elide never precede it."""
    from babel.messages.pofile import read_po

    po = Path(__file__).resolve().parent.parent / "webapp" / "translations" / "fr" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as f:
        catalog = read_po(f)
    names = r"%\((?:name|names|org|who|institution|event|title|kind)\)s"
    elidable = re.compile(r"(?<![\w’'])(?:de|le|la|que|ne|je|me|te|se|du) \[?" + names, re.IGNORECASE)
    wrong = [text for message in catalog if message.id
             for text in (message.string if isinstance(message.string, tuple) else (message.string,))
             if elidable.search(text or "")]
    assert not wrong, wrong


def test_a_stacked_rows_cell_never_takes_its_direction_from_its_content():
    """On a phone a cell with a data-label is a grid, its column's name first: dir="auto" on the cell itself turns an
    Arabic page's row around when the value is in English (the name at the wrong end). The value is isolated
    inside the cell instead (<bdi>, or an element with dir="auto")."""
    templates = Path(__file__).resolve().parent.parent / "templates"
    turned = [f"{p.relative_to(templates)}: {m.group(0)[:80]}" for p in templates.rglob("*.html")
              for m in re.finditer(r"<td\b[^>]*\bdata-label=[^>]*>", p.read_text(encoding="utf-8"))
              if re.search(r"\bdir=", m.group(0))]
    assert not turned, turned


def test_the_campaign_page_writes_its_percentage_as_each_language_does(client):
    """French and Spanish put a no-break space before %: "0 % de l'objectif", not "0% de l'objectif"."""
    from tests.factories import CampaignFactory
    from webapp.extensions import db

    campaign = CampaignFactory(live=True)
    db.session.commit()
    page = url_for("campaigns.show", slug=campaign.slug)
    french = client.get(page, headers={"Accept-Language": "fr"}).get_data(as_text=True)
    english = client.get(page, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "<strong>0\u00a0%</strong>" in french
    assert "<strong>0%</strong>" in english
