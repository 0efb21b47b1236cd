"""Revisions of an approved campaign's content: proposing, deciding, applying and the history. They flush, never commit.

After approval the public page shows only reviewed content. An edit to what backers read (title,
summary, story, cover, reward tiers) opens a pending revision, or updates the one already pending;
a moderator approves it (applied at once, in the same unit of work) or refuses it with a reason.
A minor correction (diffing.is_minor) is applied directly. Either way a CampaignRevision row records
who changed what, when, with the content before and after.
"""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from webapp.accounts.models import User
from webapp.campaigns import diffing
from webapp.campaigns import progress as progress_source
from webapp.campaigns.models import (Campaign, CampaignRevision, CampaignStatus, CampaignTranslation, RevisionStatus,
                                     RewardTier)
from webapp.campaigns.notices import tell_organization
from webapp.clock import utcnow
from webapp.errors import DomainError, PermissionDenied
from webapp.extensions import db
from webapp.markup import render_markdown
from webapp.organizations import services as organizations

S = CampaignStatus
R = RevisionStatus
#: States in which the public content changes only through a revision. SUCCEEDED and FAILED campaigns
#: are public too, but nothing in them can be edited any more (services.update_campaign refuses).
REVIEWED = frozenset({S.APPROVED, S.LIVE})

#: what propose() did
APPLIED, PENDING, UNCHANGED, REVERTED = "applied", "pending", "unchanged", "reverted"


class RevisionConflict(DomainError):
    """The revision cannot be decided as asked: already decided, changed since, or its base moved (409)."""


# -- snapshots ----------------------------------------------------------------------------------
def tier_snapshot(tier: RewardTier) -> dict:
    return {"id": tier.id, "title": tier.title, "description": tier.description,
            "minimum_amount": tier.minimum_amount, "quantity_limit": tier.quantity_limit,
            "delivery_month": tier.delivery_month.isoformat() if tier.delivery_month else None}


def snapshot(campaign: Campaign) -> dict:
    """The content of a campaign that backers read and moderators review, as plain JSON.

    Budget: campaigns have none yet. When they get one, add its lines here (as "budget"), apply them in
    _apply, compare them in diffing.is_minor (any change: review) and show them in diffing.revision_diff.
    """
    return {"title": campaign.title, "summary": campaign.summary, "story_md": campaign.story_md,
            "cover_key": campaign.cover_key, "category": campaign.category.value, "country": campaign.country,
            "region": campaign.region, "tiers": [tier_snapshot(t) for t in sorted(campaign.tiers, key=lambda t: t.id)],
            **translations_snapshot(campaign)}


def translations_snapshot(campaign: Campaign) -> dict:
    """{"translations": {language: {title, summary, story_md}}}, or nothing for a campaign without any (so that
    revisions recorded before translations existed still compare equal to the content they were drawn from)."""
    if not campaign.translations:
        return {}
    return {"translations": {t.language: {"title": t.title, "summary": t.summary, "story_md": t.story_md,
                                          "tiers": {k: dict(v) for k, v in (t.tiers or {}).items()}}
                             for t in campaign.translations}}


def pending_revision(campaign: Campaign) -> CampaignRevision | None:
    return db.session.scalar(select(CampaignRevision).where(CampaignRevision.campaign_id == campaign.id,
                                                            CampaignRevision.status == R.PENDING))


def working_copy(campaign: Campaign) -> dict:
    """What the organizers edit: the pending proposal if there is one (edits build on it), else the public content."""
    pending = pending_revision(campaign)
    return _copy(pending.after if pending else snapshot(campaign))


def _copy(content: dict) -> dict:
    copied = {**content, "tiers": [dict(t) for t in content["tiers"]]}
    if "translations" in content:
        copied["translations"] = {lang: {**t, "tiers": {k: dict(v) for k, v in t.get("tiers", {}).items()}}
                                  for lang, t in content["translations"].items()}
    return copied


# -- proposing ----------------------------------------------------------------------------------
def propose(campaign: Campaign, actor: User, proposal: dict) -> str:
    """Record the organizers' new content: applied at once if minor, else held for review. Returns what happened.

    While a revision is pending every edit goes into it — even a typo fix — so the moderator decides on
    one coherent version, and the base it was drawn from cannot move under it. (Refusing edits while a
    revision is under review would make the organizer wait days to fix the very thing a moderator might
    object to; a changed revision gets a new version, and a decision on an older version is refused.)
    """
    organizations.require_editor(actor, campaign.organization_id)
    if campaign.status not in REVIEWED:
        raise DomainError(_("This campaign cannot be edited now."))
    _lock(campaign)
    now = utcnow()
    pending = pending_revision(campaign)
    if pending is not None:
        if proposal == pending.after:
            return UNCHANGED
        if proposal == pending.before:
            # Edited back to the approved content: nothing left for a moderator to read.
            pending.status, pending.decided_by_id, pending.decided_at = R.WITHDRAWN, actor.id, now
            db.session.flush()
            return REVERTED
        pending.after, pending.version, pending.updated_at = _copy(proposal), pending.version + 1, now
        if actor.id not in pending.contributor_ids:
            pending.contributor_ids = [*pending.contributor_ids, actor.id]
        db.session.flush()
        return PENDING
    current = snapshot(campaign)
    if proposal == current:
        return UNCHANGED
    if diffing.is_minor(current, proposal):
        _apply(campaign, current, proposal)
        db.session.add(CampaignRevision(campaign_id=campaign.id, status=R.DIRECT, before=current,
                                        after=_copy(proposal), proposed_by_id=actor.id, contributor_ids=[actor.id],
                                        created_at=now, updated_at=now, decided_at=now))
        db.session.flush()
        return APPLIED
    db.session.add(CampaignRevision(campaign_id=campaign.id, status=R.PENDING, before=current, after=_copy(proposal),
                                    proposed_by_id=actor.id, contributor_ids=[actor.id], created_at=now,
                                    updated_at=now))
    db.session.flush()
    return PENDING


def withdraw(campaign: Campaign, actor: User) -> CampaignRevision:
    organizations.require_editor(actor, campaign.organization_id)
    _lock(campaign)
    pending = pending_revision(campaign)
    if pending is None:
        raise RevisionConflict(_("No changes are waiting for review."))
    pending.status, pending.decided_by_id, pending.decided_at = R.WITHDRAWN, actor.id, utcnow()
    db.session.flush()
    return pending


def _lock(campaign: Campaign) -> None:
    """Serialize edits and decisions of one campaign (PostgreSQL; SQLite writes one at a time anyway)."""
    db.session.execute(select(Campaign.id).where(Campaign.id == campaign.id).with_for_update())


# -- deciding -----------------------------------------------------------------------------------
def may_decide(user: User | None, revision: CampaignRevision) -> bool:
    """Moderators and admins, except anyone who edited this revision or edits the campaign's organization."""
    if user is None or not user.is_authenticated or not user.is_moderator:
        return False
    return (user.id not in revision.contributor_ids
            and not organizations.can_edit(user, revision.campaign.organization_id))


def decide(revision: CampaignRevision, moderator: User, *, approve: bool, version: int, reason: str = "") -> None:
    if not moderator.is_moderator:
        raise PermissionDenied(_("Only moderators can do this."))
    if not may_decide(moderator, revision):
        raise PermissionDenied(_("You edit this campaign: another moderator must decide on its changes."))
    campaign = revision.campaign
    _lock(campaign)
    db.session.refresh(revision)
    if revision.status != R.PENDING:
        raise RevisionConflict(_("These changes were already decided on (%(status)s).",
                                 status=status_label(revision.status)))
    if version != revision.version:
        raise RevisionConflict(_("The organizer changed these changes since you opened them: read them again."))
    reason = (reason or "").strip()
    if approve:
        if campaign.status not in REVIEWED:
            raise RevisionConflict(_("This campaign can no longer change."))
        current = snapshot(campaign)
        if current != revision.before:
            raise RevisionConflict(_("The public campaign changed since these changes were proposed: refuse them "
                                     "and ask the organizer to propose them again."))
        _apply(campaign, current, revision.after)
        revision.status = R.APPROVED
    else:
        if not reason:
            raise DomainError(_("Tell the organizer why these changes are refused."))
        revision.status = R.REFUSED
    revision.decided_by_id, revision.decided_at, revision.reason = moderator.id, utcnow(), reason or None
    db.session.flush()
    # The organization's members, each in their language, with the campaign's address.
    tell_organization(campaign, "campaign_revision_approved" if approve else "campaign_revision_refused",
                     reason=reason, revision=revision)


def _apply(campaign: Campaign, before: dict, after: dict) -> None:
    """Make `after` the public content, all of it in this unit of work, or raise and change nothing."""
    chosen = progress_source.reader().chosen_tier_ids(campaign.id)
    tiers = {t.id: t for t in campaign.tiers}
    old = {t["id"]: t for t in before["tiers"]}
    wanted = {t["id"] for t in after["tiers"] if t["id"] is not None}
    for tier_id in old:
        if tier_id not in wanted or old[tier_id] != next(t for t in after["tiers"] if t["id"] == tier_id):
            if tier_id in chosen:
                raise RevisionConflict(_("Backers have chosen the tier “%(title)s” since: it can no longer change.",
                                         title=old[tier_id]["title"]))
    for data in after["tiers"]:
        tier = tiers.get(data["id"]) if data["id"] is not None else None
        if data["id"] is not None and tier is None:
            raise RevisionConflict(_("A tier of these changes no longer exists."))
        if data["quantity_limit"] is not None and tier is not None and data["quantity_limit"] < tier.units_claimed:
            raise RevisionConflict(_("The tier “%(title)s” has already given more units than it would offer.",
                                     title=data["title"]))
    for tier_id, tier in tiers.items():
        if tier_id not in wanted:
            campaign.tiers.remove(tier)
    for data in after["tiers"]:
        tier = tiers.get(data["id"]) if data["id"] is not None else None
        if tier is None:
            tier = RewardTier(campaign_id=campaign.id)
            campaign.tiers.append(tier)
        tier.title, tier.description = data["title"], data["description"]
        tier.minimum_amount, tier.quantity_limit = data["minimum_amount"], data["quantity_limit"]
        tier.delivery_month = date.fromisoformat(data["delivery_month"]) if data["delivery_month"] else None
    campaign.title, campaign.summary = after["title"], after["summary"]
    if campaign.story_md != after["story_md"]:
        campaign.story_md, campaign.story_html = after["story_md"], render_markdown(after["story_md"])
    campaign.cover_key = after["cover_key"]
    campaign.category, campaign.country, campaign.region = after["category"], after["country"], after["region"]
    apply_translations(campaign, after.get("translations", {}))
    db.session.flush()


def apply_translations(campaign: Campaign, wanted: dict) -> None:
    """Make the campaign's translation rows say `wanted` ({language: {title, summary, story_md, tiers}})."""
    existing = {t.language: t for t in campaign.translations}
    for language, row in existing.items():
        if language not in wanted:
            campaign.translations.remove(row)
    for language, data in wanted.items():
        row = existing.get(language)
        if row is None:
            row = CampaignTranslation(campaign_id=campaign.id, language=language)
            campaign.translations.append(row)
        tiers = {k: dict(v) for k, v in data.get("tiers", {}).items()}
        if (row.title, row.summary, row.story_md, row.tiers or {}) == (data["title"], data["summary"],
                                                                       data["story_md"], tiers):
            continue
        row.title, row.summary, row.tiers = data["title"], data["summary"], tiers
        if row.story_md != data["story_md"] or not row.story_html:
            row.story_md, row.story_html = data["story_md"], render_markdown(data["story_md"])
        row.updated_at = utcnow()


def remove_translation(campaign: Campaign, actor: User, language: str) -> None:
    """Take a reviewed campaign's translation into `language` away, public and proposed, at once.

    Nothing in a removal is for a moderator to read: its readers get the approved original. The public
    removal is recorded as a direct revision (history); a pending revision loses that language from both its
    base and its proposal, so its base still matches the public content, and gets a new version (a decision
    on the one the moderator opened is refused); left with nothing to review, it is withdrawn."""
    organizations.require_editor(actor, campaign.organization_id)
    if campaign.status not in REVIEWED:
        raise DomainError(_("This campaign cannot be edited now."))
    _lock(campaign)
    now = utcnow()
    current = snapshot(campaign)
    pending = pending_revision(campaign)
    public = language in current.get("translations", {})
    proposed = pending is not None and language in pending.after.get("translations", {})
    if not (public or proposed):
        raise NoSuchTranslation(_("This campaign has no translation into this language."))
    if public:
        after = without_translation(current, language)
        apply_translations(campaign, after.get("translations", {}))
        db.session.add(CampaignRevision(campaign_id=campaign.id, status=R.DIRECT, before=current, after=after,
                                        proposed_by_id=actor.id, contributor_ids=[actor.id], created_at=now,
                                        updated_at=now, decided_at=now))
    if pending is not None:
        before, proposal = without_translation(pending.before, language), without_translation(pending.after, language)
        if proposal == before:
            pending.status, pending.decided_by_id, pending.decided_at = R.WITHDRAWN, actor.id, now
        elif (before, proposal) != (pending.before, pending.after):
            if proposal != pending.after:
                pending.version += 1
            pending.before, pending.after, pending.updated_at = before, proposal, now
    db.session.flush()


class NoSuchTranslation(DomainError):
    """The campaign has no translation into that language, public or proposed (404)."""


def without_translation(content: dict, language: str) -> dict:
    """`content` (a snapshot) without its translation into `language`; without the key when none is left, as
    translations_snapshot writes a campaign that has none."""
    copied = _copy(content)
    copied.get("translations", {}).pop(language, None)
    if not copied.get("translations"):
        copied.pop("translations", None)
    return copied


# -- reading ------------------------------------------------------------------------------------
def revision_of(revision_id: int) -> CampaignRevision | None:
    return db.session.scalar(
        select(CampaignRevision).where(CampaignRevision.id == revision_id)
        .options(joinedload(CampaignRevision.campaign).joinedload(Campaign.organization),
                 joinedload(CampaignRevision.proposed_by), joinedload(CampaignRevision.decided_by)))


def history(campaign: Campaign, limit: int = 50) -> list[CampaignRevision]:
    """The campaign's revisions, newest first: direct corrections, decisions, the pending one."""
    return list(db.session.scalars(
        select(CampaignRevision).where(CampaignRevision.campaign_id == campaign.id)
        .options(joinedload(CampaignRevision.proposed_by), joinedload(CampaignRevision.decided_by))
        .order_by(CampaignRevision.id.desc()).limit(limit)))


def pending_queue() -> list[CampaignRevision]:
    return list(db.session.scalars(
        select(CampaignRevision).where(CampaignRevision.status == R.PENDING)
        .options(joinedload(CampaignRevision.campaign).joinedload(Campaign.organization),
                 joinedload(CampaignRevision.proposed_by))
        .order_by(CampaignRevision.updated_at, CampaignRevision.id)))


def status_label(status: RevisionStatus) -> str:
    return {R.PENDING: _("waiting for review"), R.APPROVED: _("approved and published"),
            R.REFUSED: _("refused"), R.WITHDRAWN: _("withdrawn by the organizers"),
            R.DIRECT: _("minor correction, published at once")}[status]
