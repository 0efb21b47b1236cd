"""A small catalog of outcomes the social and solidarity economy commonly reports, with their usual unit."""
from __future__ import annotations

from dataclasses import dataclass

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
