"""A small catalog of outcomes the social and solidarity economy commonly reports, with their usual unit."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Outcome:
    key: str
    title: object  # a lazy string, in the viewer's language
    unit: object
    #: the SDG the outcome most often serves, for discovery's filter
    goal: int | None


OUTCOMES: tuple[Outcome, ...] = (
    Outcome("jobs_created", _l("Jobs created"), _l("jobs"), 8),
    Outcome("people_trained", _l("People trained"), _l("people"), 4),
    Outcome("households_reached", _l("Households reached"), _l("households"), 1),
    Outcome("people_served", _l("People served"), _l("people"), None),
    Outcome("members_joined", _l("New members of the organization"), _l("members"), None),
    Outcome("women_in_leadership", _l("Women in leadership roles"), _l("%"), 5),
    Outcome("meals_served", _l("Meals served"), _l("meals"), 2),
    Outcome("water_access", _l("People with safe drinking water"), _l("people"), 6),
    Outcome("land_restored", _l("Land farmed or restored sustainably"), _l("hectares"), 15),
    Outcome("income_increase", _l("Increase in producers' income"), _l("%"), 1),
)
BY_KEY = {o.key: o for o in OUTCOMES}


def outcome(key: str | None) -> Outcome | None:
    return BY_KEY.get(key or "")


#: each usual unit counted, in the reader's language, by its English plural (the `unit` above): "1 job", "240 jobs"
COUNTED = {
    "jobs": lambda n: ngettext("job", "jobs", n),
    "people": lambda n: ngettext("person", "people", n),
    "households": lambda n: ngettext("household", "households", n),
    "members": lambda n: ngettext("member", "members", n),
    "meals": lambda n: ngettext("meal", "meals", n),
    "hectares": lambda n: ngettext("hectare", "hectares", n),
}
#: outcome key -> (its unit in English, its unit as each language writes it), built once
_SPELLINGS: dict[str, tuple[str, frozenset[str]]] = {}


def _spellings(o: Outcome) -> tuple[str, frozenset[str]]:
    if o.key not in _SPELLINGS:
        written = set()
        for language in current_app.config["LANGUAGES"]:
            with force_locale(language):
                written.add(str(o.unit).strip().casefold())
        with force_locale("en"):
            english = str(o.unit)
        _SPELLINGS[o.key] = (english, frozenset(written))
    return _SPELLINGS[o.key]


def usual_unit(o: Outcome, stored: str | None, count: Decimal | int | None = None) -> str | None:
    """The outcome's usual unit in the reader's language, counted (one job, two jobs), when `stored` is that unit as
    the organizer's language wrote it on declaring the indicator; None when the organizer wrote a unit of their own."""
    english, written = _spellings(o)
    if (stored or "").strip().casefold() not in written:
        return None
    if english not in COUNTED:
        return str(o.unit)
    n = 2 if count is None else count
    return COUNTED[english](int(n) if Decimal(n) == Decimal(n).to_integral_value() else 2)
