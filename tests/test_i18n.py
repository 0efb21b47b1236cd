"""The message catalogs: every shipped language's catalog is complete and well-formed (French and its own rules
first), no string escapes translation, pages follow the language and its direction."""
from __future__ import annotations

import html
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po
from flask import url_for
from flask_babel import force_locale, ngettext

from config import Config
from tests.factories import CampaignFactory, OrganizationFactory
from webapp.i18n import days_left

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "webapp" / "translations"
FRENCH_PO = TRANSLATIONS / "fr" / "LC_MESSAGES" / "messages.po"
#: the keywords scripts/update-translations.sh passes to `pybabel extract` (keep both in step)
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2), "lazy_pgettext": ((1, "c"), 2)}
def _by_msgid(item) -> tuple[str, str]:
    """Sort key of a (msgid, context) entry: a msgid without context beside the same one with ("closed", "round state")."""
    (msgid, context), _found = item
    return msgid, context or ""


#: a printf conversion: %(name)s, %d, %.2f, or the literal %%
PRINTF = re.compile(r"%(?:\(\w+\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa%]")

FIX = "translate them in webapp/translations/fr/LC_MESSAGES/messages.po"
#: English is the source language: its catalog stays untranslated (the msgid is the English). Every other
#: language of LANGUAGES ships a complete catalog; a language added to config.py is checked here with no edit.
SOURCE_LANGUAGE = "en"
TRANSLATED = [lang for lang in Config.LANGUAGES if lang != SOURCE_LANGUAGE]


def catalog_path(lang: str) -> Path:
    return TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"


def fix(lang: str) -> str:
    return (f"run scripts/update-translations.sh, then translate them in {catalog_path(lang).relative_to(ROOT)} "
            "(scripts/translation-chunks.py dumps them to JSON and merges the translations back)")


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
    for (msgid, context), (english, where) in sorted(source_messages.items(), key=_by_msgid):
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


# --------------------------------------------------------------------------------------------
# (d) every language of LANGUAGES: the same rules, data-driven, for whatever config.py ships
# --------------------------------------------------------------------------------------------

_catalogs: dict[str, Catalog] = {}


def shipped(lang: str) -> Catalog:
    if lang not in _catalogs:
        assert catalog_path(lang).exists(), f"{lang} is in LANGUAGES but has no catalog: {fix(lang)}"
        _catalogs[lang] = load_catalog(catalog_path(lang))
    return _catalogs[lang]


def messages_of(lang: str) -> list[Message]:
    return [m for m in shipped(lang) if m.id]


def test_languages_start_with_the_source_language_and_ship_arabic():
    assert Config.LANGUAGES[0] == SOURCE_LANGUAGE == Config.BABEL_DEFAULT_LOCALE
    assert {"fr", "ar"} <= set(TRANSLATED)
    assert len(set(Config.LANGUAGES)) == len(Config.LANGUAGES)


@pytest.mark.parametrize("lang", Config.LANGUAGES)
def test_every_language_has_a_catalog_whose_header_names_it(lang):
    catalog = shipped(lang)
    assert str(catalog.locale) == lang
    assert not catalog.fuzzy, f"the {lang} catalog's header is marked fuzzy: pybabel compile would skip it"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_language_translates_every_message_and_every_plural_form(lang):
    messages = messages_of(lang)
    assert messages, f"{catalog_path(lang)} holds no message"
    untranslated = [show(m) for m in messages if not all(s.strip() for s in forms(m.string))]
    assert not untranslated, f"{len(untranslated)} untranslated {lang} message(s): {fix(lang)}:\n" + "\n".join(untranslated[:50])
    fuzzy = [show(m) for m in messages if m.fuzzy]
    assert not fuzzy, f"fuzzy {lang} messages: check the translation, then remove the `#, fuzzy` line: {fuzzy}"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_language_keeps_exactly_the_placeholders_of_the_english_in_every_form(lang):
    wrong = []
    for m in messages_of(lang):
        expected = set(PRINTF.findall(forms(m.id)[-1]))
        for i, string in enumerate(forms(m.string)):
            found = set(PRINTF.findall(string))
            if string and found != expected:
                wrong.append(f"{show(m)} form {i}: {sorted(found)} instead of {sorted(expected)}")
    assert not wrong, f"placeholders differ between English and {lang}:\n" + "\n".join(wrong)


#: Since CLDR 42, Babel gives French, Spanish and Portuguese a third plural form, for round millions ("1 000 000
#: de campagnes"). The gettext two-form rule each has always had is accepted too (French keeps it, see
#: test_french_plural_rule_is_singular_for_zero_and_one); any other language has Babel's rule.
TWO_FORM_RULES = {"fr": {"(n > 1)"}, "es": {"(n != 1)"}, "pt": {"(n > 1)", "(n != 1)"}}


@pytest.mark.parametrize("lang", Config.LANGUAGES)
def test_every_language_has_its_plural_rule_and_that_many_forms_in_each_plural_message(lang):
    # Arabic: 6 forms (zero, one, two, few 3-10, many 11-99, other); French 2 with 0 singular; English 2.
    rule = get_plural(lang)
    catalog = shipped(lang)
    babels = (catalog.num_plurals, catalog.plural_expr) == (rule.num_plurals, rule.plural_expr)
    two_forms = catalog.num_plurals == 2 and catalog.plural_expr in TWO_FORM_RULES.get(lang, ())
    assert babels or two_forms, (f"the {lang} header's Plural-Forms is nplurals={catalog.num_plurals}; "
                                 f"plural={catalog.plural_expr}, Babel's is {rule}")
    plurals = [m for m in messages_of(lang) if m.pluralizable]
    assert plurals, "the catalog has no plural message: ngettext extraction lost them"
    wrong = [show(m) for m in plurals if len(forms(m.string)) != catalog.num_plurals]
    assert not wrong, f"{lang} plural messages need {catalog.num_plurals} forms: {wrong}"


def test_arabic_has_babels_six_plural_forms():
    catalog = shipped("ar")
    assert catalog.num_plurals == 6 == get_plural("ar").num_plurals
    assert catalog.plural_expr == get_plural("ar").plural_expr


@pytest.mark.parametrize("lang", Config.LANGUAGES)
def test_every_language_passes_babels_own_format_and_plural_checks(lang):
    problems = [f"{show(m)}: {', '.join(map(str, errors))}" for m, errors in shipped(lang).check()]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_string_in_the_source_is_in_every_catalog(source_messages, lang):
    catalog = shipped(lang)
    missing = []
    for (msgid, context), (english, where) in sorted(source_messages.items(), key=_by_msgid):
        entry = catalog.get(msgid, context=context)
        if entry is None:
            missing.append(f"{msgid!r} ({', '.join(sorted(where))})")
        elif len(english) > 1 and not entry.pluralizable:
            missing.append(f"{msgid!r} is now plural (ngettext) but the catalog has it singular")
    assert not missing, f"{len(missing)} string(s) of the source are not in the {lang} catalog; {fix(lang)}:\n" + "\n".join(missing)


@pytest.mark.parametrize("lang", Config.LANGUAGES)
def test_the_home_page_speaks_each_language_with_its_lang_and_direction(client, live_campaign, lang):
    text = page_text(client.get(url_for("campaigns.home"), headers={"Accept-Language": lang}))
    direction = "rtl" if Locale.parse(lang).character_order == "right-to-left" else "ltr"
    assert f'<html lang="{lang}" dir="{direction}">' in text
    with force_locale(lang):
        assert ngettext("%(num)d campaign", "%(num)d campaigns", 1) in text
        assert f"{days_left(live_campaign.ends_at)}" in text


def test_the_language_picker_names_each_language_in_itself_with_its_direction(client):
    text = page_text(client.get(url_for("campaigns.home"), headers={"Accept-Language": "en"}))
    for lang in Config.LANGUAGES:
        own = Locale.parse(lang).display_name
        direction = "rtl" if lang == "ar" else "ltr"
        assert re.search(rf'value="{lang}" lang="{lang}" dir="{direction}"[^>]*>{re.escape(own[:1].upper() + own[1:])}<', text), lang
    assert "العربية" in text and "Français" in text


@pytest.mark.parametrize(("count", "expected"), [
    (0, "0 حملة"), (1, "1 حملة"), (2, "2 حملتان"), (3, "3 حملات"), (10, "10 حملات"), (11, "11 حملة"),
    (99, "99 حملة"), (100, "100 حملة"), (103, "103 حملات"), (111, "111 حملة"),
])
def test_arabic_plural_forms_follow_its_six_categories(count, expected):
    with force_locale("ar"):
        assert ngettext("%(num)d campaign", "%(num)d campaigns", count) == expected


def test_arabic_pages_isolate_amounts_and_email_addresses_and_point_arrows_the_right_way(app):
    from flask import render_template_string

    from webapp.money import Money

    template = "{{ m|money }} · {{ e|ltr }} · a {{ arrow }} b"
    with app.test_request_context("/"):
        with force_locale("ar"):
            arabic = render_template_string(template, m=Money(2500, "EUR"), e="amina@example.org")
        with force_locale("en"):
            english = render_template_string(template, m=Money(2500, "EUR"), e="amina@example.org")
    assert arabic.startswith("<bdi>") and "</bdi> · <bdi dir=\"ltr\">amina@example.org</bdi> · a ← b" in arabic
    assert english == "€25.00 · amina@example.org · a → b"


def test_arabic_emails_carry_their_language_and_direction(app):
    from types import SimpleNamespace

    from webapp.mail import render_email

    user, link = SimpleNamespace(name="Amina"), "https://harambee.test/v/abc"
    with app.test_request_context("/"):
        email = render_email("verify_email", "amina@example.org", "ar", user=user, link=link)
        english = render_email("verify_email", "amina@example.org", "en", user=user, link=link)
    assert ("Content-Language", "ar") in email.headers
    assert email.html and '<html lang="ar" dir="rtl">' in email.html
    assert '<a href="https://harambee.test/v/abc" dir="ltr">https://harambee.test/v/abc</a>' in email.html
    assert "<p>" in email.html and "&lt;p&gt;" not in email.html  # paragraphs are markup, not text
    assert "يُرجى تأكيد عنوان بريدك الإلكتروني" in email.text
    assert english.html is None and ("Content-Language", "en") in english.headers
