"""The message catalogs: French is complete and well-formed, no string escapes translation, pages follow the language."""
from __future__ import annotations

import html
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import url_for
from flask_babel import force_locale, ngettext

from tests.factories import CampaignFactory, OrganizationFactory
from webapp.i18n import days_left

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "webapp" / "translations"
FRENCH_PO = TRANSLATIONS / "fr" / "LC_MESSAGES" / "messages.po"
#: the keywords scripts/update-translations.sh passes to `pybabel extract` (keep both in step)
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2)}
#: a printf conversion: %(name)s, %d, %.2f, or the literal %%
PRINTF = re.compile(r"%(?:\(\w+\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa%]")

FIX = "translate them in webapp/translations/fr/LC_MESSAGES/messages.po"


def load_catalog(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f)


def forms(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return value if isinstance(value, tuple) else (value,)


def show(message: Message) -> str:
    return repr(forms(message.id)[0]) + (f" (context {message.context!r})" if message.context else "")


@pytest.fixture(scope="module")
def french() -> Catalog:
    return load_catalog(FRENCH_PO)


@pytest.fixture(scope="module")
def french_messages(french) -> list[Message]:
    return [m for m in french if m.id]  # without the header entry


@pytest.fixture(scope="module", autouse=True)
def compiled_catalogs() -> None:
    """Compile any .po whose .mo is missing or older, as `make translations` does, so a bare `pytest` works."""
    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        catalog = load_catalog(po)
        # Written aside then renamed: another test run may be reading the .mo at the same time.
        fd, tmp = tempfile.mkstemp(dir=po.parent, suffix=".mo.tmp")
        with os.fdopen(fd, "wb") as f:
            write_mo(f, catalog, use_fuzzy=False)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a .mo is as readable as its .po
        os.replace(tmp, mo)


# --------------------------------------------------------------------------------------------
# (a) the French catalog itself
# --------------------------------------------------------------------------------------------


def test_french_catalog_has_a_translation_for_every_message_and_every_plural_form(french_messages):
    assert french_messages, f"{FRENCH_PO} holds no message"
    untranslated = [show(m) for m in french_messages if not all(s.strip() for s in forms(m.string))]
    assert not untranslated, f"{len(untranslated)} untranslated French message(s): {FIX}:\n" + "\n".join(untranslated)


def test_french_catalog_has_no_fuzzy_message(french, french_messages):
    assert not french.fuzzy, "the French catalog's header is marked fuzzy: pybabel compile would skip it"
    fuzzy = [show(m) for m in french_messages if m.fuzzy]
    assert not fuzzy, f"fuzzy French messages: check the translation, then remove the `#, fuzzy` line: {fuzzy}"


def test_french_translations_keep_exactly_the_placeholders_of_the_english(french_messages):
    wrong = []
    for m in french_messages:
        # The plural form of the English carries what every translated form must carry.
        expected = set(PRINTF.findall(forms(m.id)[-1]))
        for i, string in enumerate(forms(m.string)):
            if not string:
                continue  # untranslated: the test above reports it
            found = set(PRINTF.findall(string))
            if found != expected:
                wrong.append(f"{show(m)} form {i}: {sorted(found)} instead of {sorted(expected)}")
    assert not wrong, "placeholders differ between English and French:\n" + "\n".join(wrong)


def test_french_catalog_passes_babels_own_format_and_plural_checks(french):
    problems = [f"{show(m)}: {', '.join(map(str, errors))}" for m, errors in french.check()]
    assert not problems, "\n".join(problems)


def test_french_plural_rule_is_singular_for_zero_and_one():
    catalog = load_catalog(FRENCH_PO)
    assert catalog.num_plurals == 2
    assert catalog.plural_expr == "(n > 1)"


# --------------------------------------------------------------------------------------------
# (b) every string in the source has its French translation
# --------------------------------------------------------------------------------------------


def extract_source_messages() -> dict[tuple[str, str | None], tuple[tuple[str, ...], set[str]]]:
    """{(msgid, context): (all the English forms, {where})}, extracted with the mapping of babel.cfg."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    found: dict[tuple[str, str | None], tuple[tuple[str, ...], set[str]]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        english = forms(message)
        _, places = found.setdefault((english[0], context), (english, set()))
        places.add(f"{filename}:{lineno}")
    return found


@pytest.fixture(scope="module")
def source_messages():
    return extract_source_messages()


def test_extraction_finds_strings_in_python_in_page_templates_and_in_email_templates(source_messages):
    places = {place.split(":")[0] for _, where in source_messages.values() for place in where}
    assert any(p.startswith("webapp/") and p.endswith(".py") for p in places)
    assert any(p.startswith("templates/") and p.endswith(".html") for p in places)
    assert any(p.startswith("templates/email/") and p.endswith(".txt") for p in places)
    assert ("%(num)d campaign", None) in source_messages
    assert source_messages[("%(num)d campaign", None)][0] == ("%(num)d campaign", "%(num)d campaigns")


def test_every_string_in_the_source_is_in_the_french_catalog(source_messages, french):
    missing = []
    for (msgid, context), (english, where) in sorted(source_messages.items()):
        entry = french.get(msgid, context=context)
        if entry is None:
            missing.append(f"{msgid!r} ({', '.join(sorted(where))})")
        elif len(english) > 1 and not entry.pluralizable:
            missing.append(f"{msgid!r} is now plural (ngettext) but the catalog has it singular")
        elif len(english) > 1 and forms(entry.id)[1] != english[1]:
            missing.append(f"{msgid!r}: the English plural changed to {english[1]!r}")
    assert not missing, (
        f"{len(missing)} string(s) in the source have no French translation; run "
        f"scripts/update-translations.sh, then {FIX}:\n" + "\n".join(missing)
    )


# --------------------------------------------------------------------------------------------
# (c) pages and plurals in the visitor's language
# --------------------------------------------------------------------------------------------


def page_text(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def live_campaign():
    org = OrganizationFactory(name="Tifaout Argan")
    return CampaignFactory(live=True, organization=org, title="Moulin à grains pour Ndiaganiao")


@pytest.mark.parametrize("accept_language", ["fr", "fr-SN,fr;q=0.9,en;q=0.5"])
def test_home_page_is_in_french_for_a_french_speaking_browser(client, live_campaign, accept_language):
    text = page_text(client.get(url_for("campaigns.home"), headers={"Accept-Language": accept_language}))
    assert '<html lang="fr"' in text
    assert "Soutenez l'économie sociale et solidaire" in text
    assert "Se connecter" in text and "S'inscrire" in text
    assert "1 campagne" in text and "1 campaign" not in text
    assert f"{days_left(live_campaign.ends_at)} jours restants" in text
    assert "Support the social and solidarity economy" not in text
    assert "Moulin à grains pour Ndiaganiao" in text  # content stays as written


def test_home_page_is_in_english_for_an_english_speaking_browser(client, live_campaign):
    text = page_text(client.get(url_for("campaigns.home"), headers={"Accept-Language": "en-GB,en;q=0.8"}))
    assert '<html lang="en"' in text
    assert "Support the social and solidarity economy" in text
    assert "Sign in" in text
    assert "1 campaign" in text and "1 campaigns" not in text
    assert f"{days_left(live_campaign.ends_at)} days left" in text
    assert "Soutenez" not in text and "campagne" not in text


def test_home_page_counts_campaigns_with_the_plural_in_both_languages(client):
    org = OrganizationFactory()
    CampaignFactory.create_batch(2, live=True, organization=org)
    french = page_text(client.get(url_for("campaigns.home"), headers={"Accept-Language": "fr"}))
    english = page_text(client.get(url_for("campaigns.home"), headers={"Accept-Language": "en"}))
    assert "2 campagnes" in french
    assert "2 campaigns" in english


@pytest.mark.parametrize(("locale", "count", "expected"), [
    ("fr", 0, "0 campagne"), ("fr", 1, "1 campagne"), ("fr", 2, "2 campagnes"), ("fr", 1000, "1000 campagnes"),
    ("en", 0, "0 campaigns"), ("en", 1, "1 campaign"), ("en", 2, "2 campaigns"),
])
def test_plural_forms_follow_each_languages_rule(locale, count, expected):
    # French puts 0 in the singular, English in the plural: the compiled catalogs' Plural-Forms decide.
    with force_locale(locale):
        assert ngettext("%(num)d campaign", "%(num)d campaigns", count) == expected


def test_french_flash_and_form_labels_come_from_python_code(client):
    text = page_text(client.get(url_for("accounts.signup"), headers={"Accept-Language": "fr"}))
    assert "Votre nom" in text and "E-mail" in text and "Confirmez le mot de passe" in text
