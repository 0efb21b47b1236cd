"""Comparing two versions of a campaign's content: the minor-edit rule and the escaped diffs moderators read."""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from markupsafe import Markup, escape

#: A correction goes through without review only if summary and story together change by at most this
#: many characters (Levenshtein distance) ...
MINOR_MAX_CHARACTERS = 20
#: ... and by at most this share of their former length (2%), ...
MINOR_MAX_SHARE = 0.02
#: ... and none of these appears that was not there before: a way to pay or to reach someone off the platform.
CONTACT_PATTERNS = (
    re.compile(r"[a-z][a-z0-9+.-]*://\S+", re.I),                              # any URL with a scheme
    re.compile(r"\bwww\.\S+", re.I),
    re.compile(r"\b(?:[a-z0-9-]+\.)+[a-z]{2,}\b", re.I),                        # a bare domain (or an address's)
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*", re.I),                           # an email address
    re.compile(r"\+?\d(?:[\s().-]*\d){6,}"),                                     # a phone number (7+ digits)
    re.compile(r"\b[a-z]{2}\d{2}(?:\s?[a-z0-9]){8,30}\b", re.I),                  # an IBAN
    re.compile(r"\]\s*\(|<\s*[a-z][a-z0-9+.-]*:", re.I),                          # a Markdown link or autolink
)
#: Fields that change without review: picked from fixed lists, no free text for backers to misread.
FREE_FIELDS = ("category", "country", "region")


def contact_tokens(text: str) -> set[str]:
    return {re.sub(r"\s+", "", m.group(0)).lower() for p in CONTACT_PATTERNS for m in p.finditer(text or "")}


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance between a and b, or limit + 1 when it is more than limit.

    Lines are compared first (difflib), so a 50,000-character story with two typos costs two short
    comparisons; within a changed block the dynamic programme is banded to `limit`.
    """
    total = 0
    a_lines, b_lines = a.splitlines(keepends=True), b.splitlines(keepends=True)
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a_lines, b_lines, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        total += _banded("".join(a_lines[i1:i2]), "".join(b_lines[j1:j2]), limit - total)
        if total > limit:
            return limit + 1
    return total


def _banded(a: str, b: str, limit: int) -> int:
    if limit < 0:
        return 1
    start = 0
    while start < len(a) and start < len(b) and a[start] == b[start]:
        start += 1
    a, b = a[start:], b[start:]
    while a and b and a[-1] == b[-1]:
        a, b = a[:-1], b[:-1]
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    if not a or not b:
        return max(len(a), len(b))
    # Only the band |i - j| <= limit of the table can hold a value within the limit: row i keeps
    # cells j = i - limit + k for k in 0..2*limit, so a long block costs len(a) * (2*limit + 1).
    n, m, over, width = len(a), len(b), limit + 1, 2 * limit + 1
    previous = [k - limit if 0 <= k - limit <= m else over for k in range(width)]
    for i in range(1, n + 1):
        current = [over] * width
        best = over
        for k in range(width):
            j = i - limit + k
            if j < 0 or j > m:
                continue
            if j == 0:
                value = i if i <= limit else over
            else:
                up = previous[k + 1] if k + 1 < width else over
                left = current[k - 1] if k else over
                value = min(up + 1, left + 1, previous[k] + (a[i - 1] != b[j - 1]), over)
            current[k] = value
            best = min(best, value)
        if best > limit:
            return over
        previous = current
    return previous[m - n + limit]


def is_minor(before: dict, after: dict) -> bool:
    """Whether a change may go public without review: the documented rule (README, moderation).

    Title, cover and reward tiers never change without review (removing a tier nobody chose is
    allowed: it adds nothing to read); the summary and story may take a small correction that adds no
    link, domain, email address, phone number or IBAN.
    """
    if before.get("translations", {}) != after.get("translations", {}):
        # A translation is what readers of that language back on; no size of change goes through unread.
        return False
    if after["title"] != before["title"] or after["cover_key"] != before["cover_key"]:
        return False
    # Budget: when campaigns get one, its lines belong here (any change to review), like the tiers.
    old_tiers = {t["id"]: t for t in before["tiers"]}
    if any(t["id"] is None or old_tiers.get(t["id"]) != t for t in after["tiers"]):
        return False
    old_text = before["summary"] + before["story_md"]
    limit = min(MINOR_MAX_CHARACTERS, int(len(old_text) * MINOR_MAX_SHARE))
    distance = edit_distance(before["summary"], after["summary"], limit)
    if distance <= limit:
        distance += edit_distance(before["story_md"], after["story_md"], limit - distance)
    if distance > limit:
        return False
    added = contact_tokens(after["summary"] + "\n" + after["story_md"]) - contact_tokens(
        before["summary"] + "\n" + before["story_md"])
    return not added


# -- what the moderator reads -----------------------------------------------------------------
#: a word with the spaces after it, so that a rewritten sentence reads as one removal and one addition
_WORDS = re.compile(r"\S+\s*|\s+")


def _words_diff(old: str, new: str) -> Markup:
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(escape("".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(Markup("<del>%s</del>") % "".join(a[i1:i2]))
        if j2 > j1:
            out.append(Markup("<ins>%s</ins>") % "".join(b[j1:j2]))
    return Markup("").join(out)


def text_diff(old: str, new: str) -> Markup:
    """Old and new text as one escaped text with <del> and <ins>: lines first, words within changed lines."""
    a, b = old.splitlines(), new.splitlines()
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.extend(escape(line) for line in a[i1:i2])
        else:
            out.extend(_words_diff("\n".join(a[i1:i2]), "\n".join(b[j1:j2])).split("\n"))
    return Markup("<br>\n").join(Markup(line) if isinstance(line, Markup) else escape(line) for line in out)


@dataclass(frozen=True)
class TierChange:
    #: "added", "changed" or "removed"
    kind: str
    before: dict | None
    after: dict | None
    #: names of the fields that differ (for "changed")
    fields: tuple[str, ...] = ()


TIER_FIELDS = ("title", "description", "minimum_amount", "quantity_limit", "delivery_month")


def tier_changes(before: dict, after: dict) -> list[TierChange]:
    old = {t["id"]: t for t in before["tiers"]}
    new_ids = {t["id"] for t in after["tiers"] if t["id"] is not None}
    changes = []
    for tier in after["tiers"]:
        if tier["id"] is None or tier["id"] not in old:
            changes.append(TierChange("added", None, tier))
        elif tier != old[tier["id"]]:
            fields = tuple(f for f in TIER_FIELDS if tier.get(f) != old[tier["id"]].get(f))
            changes.append(TierChange("changed", old[tier["id"]], tier, fields))
    changes.extend(TierChange("removed", t, None) for tid, t in old.items() if tid not in new_ids)
    return changes


@dataclass(frozen=True)
class RevisionDiff:
    title: Markup | None
    summary: Markup | None
    story: Markup | None
    cover: tuple[str | None, str | None] | None
    other: list[tuple[str, object, object]]
    tiers: list[TierChange]
    #: (language, title diff, summary diff, story diff, tier diffs) for each translation added, changed or removed
    translations: list[tuple] = ()

    @property
    def empty(self) -> bool:
        return not (self.title or self.summary or self.story or self.cover or self.other or self.tiers
                    or self.translations)


def revision_diff(before: dict, after: dict) -> RevisionDiff:
    def text(name):
        return text_diff(before[name], after[name]) if before[name] != after[name] else None

    return RevisionDiff(
        title=text("title"), summary=text("summary"), story=text("story_md"),
        cover=(before["cover_key"], after["cover_key"]) if before["cover_key"] != after["cover_key"] else None,
        other=[(f, before.get(f), after.get(f)) for f in FREE_FIELDS if before.get(f) != after.get(f)],
        tiers=tier_changes(before, after), translations=translation_changes(before, after))


def _tier_text_changes(old: dict, new: dict) -> list[Markup]:
    """A translation's tier texts that changed, each as one diff of "title — description"."""
    def line(t):
        return f"{t.get('title', '')} — {t.get('description', '')}" if t else ""
    return [text_diff(line(old.get(k)), line(new.get(k))) for k in sorted(set(old) | set(new), key=str)
            if old.get(k) != new.get(k)]


def translation_changes(before: dict, after: dict) -> list:
    old, new = before.get("translations", {}), after.get("translations", {})
    empty = {"title": "", "summary": "", "story_md": "", "tiers": {}}
    changes = []
    for language in sorted(set(old) | set(new)):
        a, b = old.get(language, empty), new.get(language, empty)
        if a != b:
            changes.append((language, *(text_diff(a[k], b[k]) if a[k] != b[k] else None
                                        for k in ("title", "summary", "story_md")),
                            _tier_text_changes(a.get("tiers", {}), b.get("tiers", {}))))
    return changes
