"""The Brazilian Portuguese catalog ("pt"): complete, placeholders kept, plurals by CLDR's rule, pages in Portuguese."""
from __future__ import annotations

import html
from datetime import date

import pytest
from babel.messages.catalog import Catalog, Message
from flask import url_for
from flask_babel import force_locale, ngettext

from tests.factories import CampaignFactory, OrganizationFactory
from tests.test_i18n import PRINTF, TRANSLATIONS, _by_msgid, extract_source_messages, forms, load_catalog, show
from tests.test_i18n import compiled_catalogs  # noqa: F401 - its autouse fixture compiles the .mo for a bare pytest
from webapp.i18n import days_left, format_day, language_of_country

PORTUGUESE_PO = TRANSLATIONS / "pt" / "LC_MESSAGES" / "messages.po"
FIX = "translate them in webapp/translations/pt/LC_MESSAGES/messages.po"


@pytest.fixture(scope="module")
def portuguese() -> Catalog:
    return load_catalog(PORTUGUESE_PO)


@pytest.fixture(scope="module")
def portuguese_messages(portuguese) -> list[Message]:
    return [m for m in portuguese if m.id]  # without the header entry


def test_portuguese_catalog_translates_every_message_and_every_plural_form(portuguese_messages):
    assert len(portuguese_messages) > 1000, f"{PORTUGUESE_PO} holds only {len(portuguese_messages)} messages"
    untranslated = [show(m) for m in portuguese_messages if not all(s.strip() for s in forms(m.string))]
    assert not untranslated, f"{len(untranslated)} untranslated Portuguese message(s): {FIX}:\n" + "\n".join(untranslated)


def test_portuguese_catalog_has_no_fuzzy_message(portuguese, portuguese_messages):
    assert not portuguese.fuzzy, "the Portuguese catalog's header is marked fuzzy: pybabel compile would skip it"
    fuzzy = [show(m) for m in portuguese_messages if m.fuzzy]
    assert not fuzzy, f"fuzzy Portuguese messages: check the translation, then remove the `#, fuzzy` line: {fuzzy}"


def test_every_string_in_the_source_is_in_the_portuguese_catalog(portuguese):
    missing = []
    for (msgid, context), (english, where) in sorted(extract_source_messages().items(), key=_by_msgid):
        entry = portuguese.get(msgid, context=context)
        if entry is None:
            missing.append(f"{msgid!r} ({', '.join(sorted(where))})")
        elif len(english) > 1 and (not entry.pluralizable or forms(entry.id)[1] != english[1]):
            missing.append(f"{msgid!r}: the English plural is {english[1]!r}, the catalog's differs")
    assert not missing, (f"{len(missing)} string(s) in the source are not in the Portuguese catalog; run "
                         f"scripts/update-translations.sh, then {FIX}:\n" + "\n".join(missing))


def test_portuguese_translations_keep_exactly_the_placeholders_of_the_english(portuguese_messages):
    wrong = []
    for m in portuguese_messages:
        expected = set(PRINTF.findall(forms(m.id)[-1]))  # the English plural carries what every form must carry
        for i, string in enumerate(forms(m.string)):
            found = set(PRINTF.findall(string))
            if string and found != expected:
                wrong.append(f"{show(m)} form {i}: {sorted(found)} instead of {sorted(expected)}")
    assert not wrong, "placeholders differ between English and Portuguese:\n" + "\n".join(wrong)


def test_portuguese_catalog_passes_babels_own_format_and_plural_checks(portuguese):
    problems = [f"{show(m)}: {', '.join(map(str, errors))}" for m, errors in portuguese.check()]
    assert not problems, "\n".join(problems)


def test_portuguese_is_brazilian_with_cldrs_three_plural_forms(portuguese):
    assert portuguese.locale_identifier == "pt"  # Babel's "pt" is Brazil's; Portugal's would be pt_PT
    assert portuguese.num_plurals == 3  # 0 and 1; exact millions ("1000000 de campanhas"); the rest


@pytest.mark.parametrize(("count", "expected"), [
    (0, "0 campanha"), (1, "1 campanha"), (2, "2 campanhas"), (1000, "1000 campanhas"),
    (1000000, "1000000 de campanhas"),
])
def test_portuguese_plurals_follow_the_compiled_rule(count, expected):
    with force_locale("pt"):
        assert ngettext("%(num)d campaign", "%(num)d campaigns", count) == expected


@pytest.mark.parametrize("country", ["BR", "PT", "MZ", "AO", "CV"])
def test_portuguese_speaking_countries_get_portuguese(country):
    assert language_of_country(country) == "pt"


def test_the_first_of_the_month_is_an_ordinal_in_portuguese():
    with force_locale("pt"):
        assert format_day(date(2026, 12, 1), "long") == "1º de dezembro de 2026"
        assert format_day(date(2026, 12, 2), "long") == "2 de dezembro de 2026"


def page_text(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize("accept_language", ["pt-BR", "pt-BR,pt;q=0.9,en;q=0.5", "pt-PT"])
def test_home_page_is_in_portuguese_for_a_portuguese_speaking_browser(client, accept_language):
    campaign = CampaignFactory(live=True, organization=OrganizationFactory(name="Cooperativa Coopercuc"),
                               title="Unidade de beneficiamento de umbu")
    text = page_text(client.get(url_for("campaigns.home"), headers={"Accept-Language": accept_language}))
    assert '<html lang="pt"' in text
    assert "Apoie a economia social e solidária" in text
    assert "Entrar" in text and "Cadastre-se" in text
    assert "1 campanha" in text and "1 campaign" not in text
    assert f"{days_left(campaign.ends_at)} dias restantes" in text
    assert ">Português<" in text  # the language chooser names it in its own language
    assert "Support the social and solidarity economy" not in text
    assert "Unidade de beneficiamento de umbu" in text  # content stays as written


def test_sign_in_page_is_in_portuguese(client):
    text = page_text(client.get(url_for("accounts.login"), headers={"Accept-Language": "pt-BR"}))
    assert '<html lang="pt"' in text
    assert "Senha" in text and "Manter conectado neste dispositivo" in text
    assert "Esqueceu sua senha?" in text and "Criar uma conta" in text
    assert "Password" not in text and "Forgot your password?" not in text
