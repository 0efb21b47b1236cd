"""The campaign page's head: what the page needs before its fragments (webapp.pagecache), kept with its record.

Who may see the page, in which languages it reads, its title and summary in each: enough to answer a member
whose fragments are in the cache without reading the campaign itself.
"""
from __future__ import annotations

from dataclasses import dataclass

from webapp.accounts.models import User
from webapp.campaigns import translations
from webapp.campaigns.models import PUBLIC_STATUSES, Campaign, CampaignStatus


@dataclass(frozen=True)
class PageHead:
    """What the campaign page needs before its fragments: who may see it, in which languages, its title and
    summary in each (kept in the page cache under the campaign's record version: webapp.pagecache)."""
    id: int
    slug: str
    status: CampaignStatus
    organization_id: int
    language: str
    #: language -> (title, summary), the campaign's own language first
    texts: dict[str, tuple[str, str]]

    @property
    def languages(self) -> list[str]:
        return list(self.texts)

    def reading_language(self, requested: str | None, locale: str) -> str:
        """As translations.reading_language: ?lang=… when it has it, else the visitor's, else its own."""
        for choice in (requested, locale):
            if choice and choice in self.texts:
                return choice
        return self.language


def page_head(campaign: Campaign | None) -> PageHead | None:
    if campaign is None:
        return None
    texts = {}
    for language in translations.available(campaign):
        reading = translations.reading(campaign, language)
        texts[language] = (reading.title, reading.summary)
    return PageHead(campaign.id, campaign.slug, campaign.status, campaign.organization_id, campaign.language, texts)


def visible(head: PageHead, user: User | None, can_edit: bool) -> bool:
    """can_view, from the page's head and what the view already knows of the viewer."""
    if head.status in PUBLIC_STATUSES:
        return True
    return bool(user is not None and user.is_authenticated and (user.is_moderator or can_edit))
