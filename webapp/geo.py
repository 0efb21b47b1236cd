"""Countries (ISO 3166-1) and regions (ISO 3166-2) from pycountry, with names in the viewer's language."""
from __future__ import annotations

import gettext
import math
from functools import lru_cache

import pycountry
from babel import Locale


@lru_cache(maxsize=1)
def country_codes() -> tuple[str, ...]:
    return tuple(sorted(c.alpha_2 for c in pycountry.countries))


def is_country(code: str | None) -> bool:
    return bool(code) and pycountry.countries.get(alpha_2=code.upper()) is not None


def is_region(code: str | None, country: str | None = None) -> bool:
    """True for an ISO 3166-2 code, and, when a country is given, one of that country's."""
    if not code:
        return False
    sub = pycountry.subdivisions.get(code=code.upper())
    if sub is None:
        return False
    return country is None or sub.country_code == country.upper()


#: Region names that pycountry's translations get wrong, by language then ISO 3166-2 code, checked against the
#: country's own official name. Keep it short and say where each name comes from.
REGION_NAME_FIXES: dict[str, dict[str, str]] = {
    "fr": {
        "BJ-LI": "Littoral",  # Benin's département du Littoral (Cotonou); pycountry's French says "Litoral"
        "CM-LT": "Littoral",  # Cameroon's région du Littoral (Douala); same misspelling
    },
}


def _localized_region(code: str, name: str, locale: str) -> str:
    fixed = REGION_NAME_FIXES.get(locale.split("_")[0], {}).get(code)
    return fixed or _region_translations(locale).gettext(name)


@lru_cache(maxsize=64)
def _region_translations(locale: str) -> gettext.NullTranslations:
    return gettext.translation("iso3166-2", pycountry.LOCALES_DIR, languages=[locale], fallback=True)


def country_name(code: str | None, locale: str = "en") -> str:
    if not code:
        return ""
    name = Locale.parse(locale).territories.get(code.upper())
    if name:
        return name
    country = pycountry.countries.get(alpha_2=code.upper())
    return country.name if country else code


def region_name(code: str | None, locale: str = "en") -> str:
    if not code:
        return ""
    sub = pycountry.subdivisions.get(code=code.upper())
    if sub is None:
        return code
    return _localized_region(sub.code, sub.name, locale)


@lru_cache(maxsize=512)
def _regions_of(country: str) -> tuple[tuple[str, str], ...]:
    subs = pycountry.subdivisions.get(country_code=country.upper()) or []
    # Top-level subdivisions only: regions, not every département or commune under them.
    top = [s for s in subs if s.parent_code is None] or list(subs)
    return tuple(sorted((s.code, s.name) for s in top))


def regions_of(country: str | None, locale: str = "en") -> list[tuple[str, str]]:
    """(code, localized name) of a country's top-level subdivisions, sorted by name."""
    if not country:
        return []
    return sorted(((code, _localized_region(code, name, locale)) for code, name in _regions_of(country)),
                  key=lambda p: p[1])


def country_choices(locale: str = "en") -> list[tuple[str, str]]:
    names = Locale.parse(locale).territories
    return sorted(((c, names.get(c, c)) for c in country_codes()), key=lambda p: p[1])


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine) in kilometres."""
    r = 6371.0088
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))
