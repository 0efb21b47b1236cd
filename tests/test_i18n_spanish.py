"""The Spanish catalog: complete, no fuzzy entry, the placeholders of the English, and pages that follow Accept-Language: es.

Kept apart from tests/test_i18n.py (French) until the catalog checks are generalized to every language.
"""
from __future__ import annotations

from flask import url_for

from tests.factories import CampaignFactory, OrganizationFactory
from tests.test_i18n import (  # noqa: F401  (compiled_catalogs: the module fixture that builds the .mo files)
    PRINTF,
    _by_msgid,
    TRANSLATIONS,
    compiled_catalogs,
    extract_source_messages,
    forms,
    load_catalog,
    page_text,
    show,
)
from webapp.i18n import days_left

SPANISH_PO = TRANSLATIONS / "es" / "LC_MESSAGES" / "messages.po"


def spanish_messages():
    return [m for m in load_catalog(SPANISH_PO) if m.id]


def test_spanish_catalog_translates_every_message_and_every_plural_form():
    messages = spanish_messages()
    assert len(messages) > 1000
    untranslated = [show(m) for m in messages if not all(s.strip() for s in forms(m.string))]
    assert not untranslated, f"{len(untranslated)} untranslated Spanish message(s) in {SPANISH_PO}:\n" + "\n".join(untranslated)


def test_every_string_in_the_source_is_in_the_spanish_catalog():
    spanish = load_catalog(SPANISH_PO)
    missing = []
    for (msgid, context), (english, where) in sorted(extract_source_messages().items(), key=_by_msgid):
        entry = spanish.get(msgid, context=context)
        if entry is None:
            missing.append(f"{msgid!r} ({', '.join(sorted(where))})")
        elif len(english) > 1 and (not entry.pluralizable or forms(entry.id)[1] != english[1]):
            missing.append(f"{msgid!r}: the English plural is {english[1]!r}")
    assert not missing, "run scripts/update-translations.sh, then translate in Spanish:\n" + "\n".join(missing)


def test_spanish_catalog_has_no_fuzzy_message_and_passes_babels_checks():
    catalog = load_catalog(SPANISH_PO)
    assert not catalog.fuzzy, "the Spanish header is marked fuzzy: pybabel compile would skip the catalog"
    assert not [show(m) for m in catalog if m.id and m.fuzzy]
    problems = [f"{show(m)}: {', '.join(map(str, errors))}" for m, errors in catalog.check()]
    assert not problems, "\n".join(problems)


def test_spanish_translations_keep_exactly_the_placeholders_of_the_english():
    wrong = []
    for m in spanish_messages():
        expected = set(PRINTF.findall(forms(m.id)[-1]))
        for i, string in enumerate(forms(m.string)):
            found = set(PRINTF.findall(string))
            if found != expected:
                wrong.append(f"{show(m)} form {i}: {sorted(found)} instead of {sorted(expected)}")
    assert not wrong, "placeholders differ between English and Spanish:\n" + "\n".join(wrong)


def test_spanish_plural_forms_are_singular_for_one_only():
    catalog = load_catalog(SPANISH_PO)
    assert catalog.plural_expr.startswith("(n == 1 ? 0")
    campaigns = catalog.get("%(num)d campaign")
    assert forms(campaigns.string)[0] == "%(num)d campaña"
    assert set(forms(campaigns.string)[1:]) == {"%(num)d campañas"}


def test_home_page_is_in_spanish_for_a_spanish_speaking_browser(client):
    org = OrganizationFactory(name="Cooperativa La Esperanza")
    campaign = CampaignFactory(live=True, organization=org, title="Molino de granos para Ndiaganiao")
    headers = {"Accept-Language": "es-AR,es;q=0.9,en;q=0.5"}
    text = page_text(client.get(url_for("campaigns.home"), headers=headers))
    assert '<html lang="es"' in text
    assert "Apoye la economía social y solidaria" in text
    assert "Iniciar sesión" in text and "Registrarse" in text
    assert "1 campaña" in text and "1 campaign" not in text
    assert f"Quedan {days_left(campaign.ends_at)} días" in text
    assert "Support the social and solidarity economy" not in text and "Soutenez" not in text
    assert "Molino de granos para Ndiaganiao" in text  # content stays as written


def test_sign_in_page_is_in_spanish(client):
    text = page_text(client.get(url_for("accounts.login"), headers={"Accept-Language": "es"}))
    assert '<html lang="es"' in text
    assert "Correo electrónico" in text and "Contraseña" in text
    assert "Mantener la sesión iniciada en este dispositivo" in text
    assert "¿Olvidó su contraseña?" in text and "Crear una cuenta" in text
    assert "Forgot your password?" not in text and "Password" not in text
