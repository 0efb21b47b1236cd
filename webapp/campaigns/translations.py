"""A campaign's content in other languages than its own: writing translations, and choosing which one a visitor reads.

They flush, never commit.

Review: translations follow the story's rule. Before approval they are written at once (the moderator reads
them with the submitted campaign). Once approved, a translation is what the readers of that language back on,
just as the story is for the original's readers, so adding or changing one goes through revisions.propose
like any other edit of what backers read, and is never a "minor correction" (diffing.is_minor): the moderator
reads it before it is public. Update translations are published at once, as updates are.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _

from webapp.accounts.models import User
from webapp.campaigns import revisions
from webapp.campaigns.models import Campaign, CampaignUpdate, CampaignUpdateTranslation, PUBLIC_STATUSES
from webapp.campaigns.services import EDITABLE, require_editor
from webapp.errors import DomainError
from webapp.markup import render_markdown


def other_languages(campaign: Campaign) -> list[str]:
    """The site's languages a campaign may be translated into: all but its own."""
    return [lang for lang in current_app.config["LANGUAGES"] if lang != campaign.language]


def _check_language(campaign: Campaign, language: str) -> None:
    if language not in other_languages(campaign):
        raise DomainError(_("This campaign cannot be translated into this language."))


def working_translation(campaign: Campaign, language: str) -> dict | None:
    """What the organizers edit for `language`: the pending proposal's translation if any, else the public one."""
    if campaign.status in revisions.REVIEWED:
        return revisions.working_copy(campaign).get("translations", {}).get(language)
    row = next((t for t in campaign.translations if t.language == language), None)
    return None if row is None else {"title": row.title, "summary": row.summary, "story_md": row.story_md,
                                     "tiers": dict(row.tiers or {})}


TIER_TITLE_MAX, TIER_DESCRIPTION_MAX = 120, 2000


def save_translation(campaign: Campaign, actor: User, language: str, *, title: str, summary: str,
                     story_md: str, tiers: dict[int, tuple[str, str]] | None = None) -> str | None:
    """Add or change the campaign's translation into `language` (`tiers`: tier id -> (title, description)).
    Before approval it is written at once (None); once approved it is proposed for review and this returns what
    revisions.propose did."""
    require_editor(actor, campaign)
    _check_language(campaign, language)
    known = {t.id for t in campaign.tiers}
    tier_texts = {}
    for tier_id, (tier_title, description) in (tiers or {}).items():
        tier_title, description = (tier_title or "").strip(), (description or "").strip()
        if tier_id not in known:
            raise DomainError(_("A tier of these changes no longer exists."))
        if len(tier_title) > TIER_TITLE_MAX or len(description) > TIER_DESCRIPTION_MAX:
            raise DomainError(_("A tier's translated title or description is too long."))
        if tier_title or description:
            tier_texts[str(tier_id)] = {"title": tier_title, "description": description}
    data = {"title": title.strip(), "summary": summary.strip(), "story_md": story_md or "", "tiers": tier_texts}
    if campaign.status in revisions.REVIEWED:
        proposal = revisions.working_copy(campaign)
        proposal.setdefault("translations", {})[language] = data
        return revisions.propose(campaign, actor, proposal)
    if campaign.status not in EDITABLE:
        raise DomainError(_("This campaign cannot be edited now."))
    wanted = revisions.translations_snapshot(campaign).get("translations", {})
    wanted[language] = data
    revisions.apply_translations(campaign, wanted)
    return None


def remove_translation(campaign: Campaign, actor: User, language: str) -> None:
    """Take the campaign's translation into `language` away: its readers get the original. At once, whatever the
    campaign's state allows editing (a removal adds nothing for a moderator to read: revisions.remove_translation).
    Raises revisions.NoSuchTranslation when there is none."""
    require_editor(actor, campaign)
    _check_language(campaign, language)
    if campaign.status in revisions.REVIEWED:
        revisions.remove_translation(campaign, actor, language)
        return
    if campaign.status not in EDITABLE:
        raise DomainError(_("This campaign cannot be edited now."))
    wanted = revisions.translations_snapshot(campaign).get("translations", {})
    if wanted.pop(language, None) is None:
        raise revisions.NoSuchTranslation(_("This campaign has no translation into this language."))
    revisions.apply_translations(campaign, wanted)


def save_update_translation(update: CampaignUpdate, campaign: Campaign, actor: User, language: str, *,
                            title: str, body_md: str) -> CampaignUpdateTranslation:
    require_editor(actor, campaign)
    _check_language(campaign, language)
    if campaign.status not in PUBLIC_STATUSES:
        raise DomainError(_("Updates can be posted once the campaign is live."))
    row = next((t for t in update.translations if t.language == language), None)
    if row is None:
        row = CampaignUpdateTranslation(update_id=update.id, campaign_id=campaign.id, language=language)
        update.translations.append(row)
    row.title, row.body_md, row.body_html = title.strip(), body_md, render_markdown(body_md)
    return row


# -- reading --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reading:
    """The campaign's text in the language chosen for this visitor."""
    language: str
    title: str
    summary: str
    story_html: str
    #: True when it is a translation (the block carries lang=…)
    translated: bool


def available(campaign: Campaign) -> list[str]:
    """The languages the campaign can be read in: its own first, then its translations'."""
    site = current_app.config["LANGUAGES"]
    return [campaign.language, *[t.language for t in campaign.translations
                                 if t.language in site and t.language != campaign.language]]


def reading_language(campaign: Campaign, requested: str | None, locale: str) -> str:
    """?lang=… when the campaign has it, else the visitor's language when it has it, else its own."""
    languages = available(campaign)
    for choice in (requested, locale):
        if choice and choice in languages:
            return choice
    return campaign.language


def reading(campaign: Campaign, language: str) -> Reading:
    row = next((t for t in campaign.translations if t.language == language), None)
    if row is None or language == campaign.language:
        return Reading(campaign.language, campaign.title, campaign.summary, campaign.story_html, False)
    return Reading(language, row.title, row.summary, row.story_html, True)


def title_in(campaign: Campaign, language: str) -> str:
    """The campaign's title as a person reading `language` sees it: its translation into that language when it has
    one, else as written. Every page, email and share tag that names a campaign to somebody goes through this
    (the Jinja global `campaign_title`, which reads the current locale: in an email, the recipient's)."""
    return reading(campaign, reading_language(campaign, None, language)).title


def tier_in(tier, language: str) -> tuple[str | None, str, str]:
    """tier_reading for a person reading `language`: the campaign's translation into it when there is one (the
    Jinja global `tier_text`, as `campaign_title` for the campaign's title)."""
    campaign = tier.campaign
    return tier_reading(campaign, tier, reading_language(campaign, None, language))


def tier_reading(campaign: Campaign, tier, language: str) -> tuple[str | None, str, str]:
    """(lang attribute or None, title, description) of a reward tier in `language`, else as written."""
    row = next((t for t in campaign.translations if t.language == language), None)
    text = (row.tiers or {}).get(str(tier.id)) if row is not None and language != campaign.language else None
    if not text or not text.get("title"):
        return None, tier.title, tier.description
    return language, text["title"], text.get("description") or tier.description


def update_reading(update: CampaignUpdate, language: str) -> tuple[str | None, str, str]:
    """(lang attribute or None, title, body_html) of an update in `language`, else as written."""
    row = next((t for t in update.translations if t.language == language), None)
    if row is None:
        return None, update.title, update.body_html
    return language, row.title, row.body_html
