"""The Sustainable Development Goals and their 169 targets, read once from data/sdg.json, in the viewer's language.

The titles are the UN's official ones in English, French, Spanish and Arabic. Portuguese is not a UN
language: the goals' short names are given in Portuguese, and everything else falls back to English.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "sdg.json"
FALLBACK = "en"


@dataclass(frozen=True)
class Target:
    code: str
    goal: int
    titles: dict[str, str]

    def title(self, language: str) -> str:
        return self.titles.get(language) or self.titles[FALLBACK]


@dataclass(frozen=True)
class Goal:
    number: int
    shorts: dict[str, str]
    titles: dict[str, str]
    targets: tuple[Target, ...]

    def short(self, language: str) -> str:
        return self.shorts.get(language) or self.shorts[FALLBACK]

    def title(self, language: str) -> str:
        return self.titles.get(language) or self.titles[FALLBACK]


@cache
def goals() -> tuple[Goal, ...]:
    raw = json.loads(DATA.read_text(encoding="utf-8"))["goals"]
    return tuple(Goal(g["number"], g["short"], g["title"],
                      tuple(Target(t["code"], g["number"], t["title"]) for t in g["targets"])) for g in raw)


@cache
def _targets() -> dict[str, Target]:
    return {t.code: t for g in goals() for t in g.targets}


def goal(number: int) -> Goal | None:
    return goals()[number - 1] if 1 <= number <= len(goals()) else None


def target(code: str) -> Target | None:
    return _targets().get(code)


def language_of(locale: str) -> str:
    """The data's language for a locale ("pt_BR" reads "pt")."""
    return (locale or FALLBACK).split("_")[0].split("-")[0]
