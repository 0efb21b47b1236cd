"""Campaign operations: drafting, the moderation state machine, updates and discovery. They flush, never commit."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.orm import joinedload, selectinload

from webapp import geo
from webapp.accounts.models import Role, User
from webapp.campaigns import progress as progress_source
from webapp.campaigns.notices import tell_organization as _tell_organization
from webapp.campaigns.models import (
    PUBLIC_STATUSES,
    Campaign,
    CampaignStatus,
    CampaignTransition,
    CampaignTranslation,
    CampaignUpdate,
    Category,
    FundingModel,
    RewardTier,
)
from webapp.clock import utcnow
from webapp.i18n import language_of_country
from webapp.errors import DomainError, FrozenField, InvalidTransition, PermissionDenied
from webapp.extensions import db
from webapp.markup import render_markdown
from webapp.money import Money
from webapp.organizations import services as organizations
from webapp.organizations.models import Organization
from webapp.slugs import SLUG_RE, unique_slug

S = CampaignStatus
MIN_DAYS, MAX_DAYS = 1, 60

#: The only moves a campaign can make. Anything else is an InvalidTransition.
TRANSITIONS: dict[CampaignStatus, frozenset[CampaignStatus]] = {
    S.DRAFT: frozenset({S.SUBMITTED}),
    S.SUBMITTED: frozenset({S.APPROVED, S.CHANGES_REQUESTED}),
    S.CHANGES_REQUESTED: frozenset({S.SUBMITTED}),
    S.APPROVED: frozenset({S.LIVE}),
    S.LIVE: frozenset({S.SUCCEEDED, S.FAILED}),
    S.SUCCEEDED: frozenset(),
    S.FAILED: frozenset(),
}
EDITABLE = frozenset({S.DRAFT, S.CHANGES_REQUESTED})
#: Fields that stop changing when a campaign goes live: backers pledged on these terms.
FROZEN_WHEN_LIVE = ("goal_amount", "minimum_amount", "currency", "funding_model", "starts_at", "ends_at")


class SlugTaken(DomainError):
    pass


def transition(campaign: Campaign, target: CampaignStatus, actor: User | None, reason: str | None = None) -> None:
    if target not in TRANSITIONS[campaign.status]:
        raise InvalidTransition("campaign", campaign.status.value, target.value)
    db.session.add(CampaignTransition(campaign_id=campaign.id, from_status=campaign.status, to_status=target,
                                      actor_id=actor.id if actor else None, reason=reason))
    campaign.status = target


# -- drafting -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class CampaignDraft:
    title: str
    slug: str | None
    summary: str
    story_md: str
    category: Category
    country: str
    region: str | None
    goal: Money
    minimum: Money | None
    funding_model: FundingModel
    start_date: date
    end_date: date
    #: the language it is written in; None: the organization's country's (webapp.i18n.language_of_country)
    language: str | None = None


def deadline_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """A campaign runs from the start day's first moment to the end day's last (UTC)."""
    return datetime.combine(start, time.min), datetime.combine(end + timedelta(days=1), time.min)


def check_draft(draft: CampaignDraft, *, today: date | None = None) -> dict[str, str]:
    """Field name → message for every rule the draft breaks (empty when it is sound)."""
    today = today or utcnow().date()
    problems: dict[str, str] = {}
    days = (draft.end_date - draft.start_date).days + 1
    if draft.end_date < draft.start_date:
        problems["end_date"] = _("The end must come after the start.")
    elif not MIN_DAYS <= days <= MAX_DAYS:
        problems["end_date"] = _("A campaign runs from %(a)d to %(b)d days; this one runs %(n)d.",
                                 a=MIN_DAYS, b=MAX_DAYS, n=days)
    if draft.end_date < today:
        problems["end_date"] = _("The end date has already passed.")
    if not geo.is_country(draft.country):
        problems["country"] = _("Choose a country from the list.")
    elif draft.region and not geo.is_region(draft.region, draft.country):
        problems["region"] = _("Choose a region of the chosen country.")
    if draft.funding_model == FundingModel.MINIMUM_OPTIMUM:
        if draft.minimum is None:
            problems["minimum"] = _("Minimum-and-optimum campaigns need a minimum.")
        elif draft.minimum.currency != draft.goal.currency or draft.minimum > draft.goal:
            problems["minimum"] = _("The minimum cannot be more than the optimum.")
    if draft.slug and not SLUG_RE.match(draft.slug):
        problems["slug"] = _("Use lower-case letters, digits and dashes only.")
    return problems


def _slug_free(slug: str, campaign_id: int | None) -> bool:
    q = select(Campaign.id).where(Campaign.slug == slug)
    if campaign_id is not None:
        q = q.where(Campaign.id != campaign_id)
    return db.session.scalar(q) is None


def create_campaign(org: Organization, actor: User, draft: CampaignDraft) -> Campaign:
    organizations.require_editor(actor, org)
    if draft.slug and not _slug_free(draft.slug, None):
        raise SlugTaken(_("Another campaign already uses this address. Choose another."))
    slug = draft.slug or unique_slug(Campaign, draft.title)
    starts_at, ends_at = deadline_bounds(draft.start_date, draft.end_date)
    campaign = Campaign(organization_id=org.id, created_by_id=actor.id, slug=slug, status=S.DRAFT,
                        title="", summary="", category=draft.category, country=draft.country,
                        goal_amount=draft.goal.amount, currency=draft.goal.currency,
                        funding_model=draft.funding_model, starts_at=starts_at, ends_at=ends_at,
                        language=language_of_country(org.country))
    _apply(campaign, draft)
    db.session.add(campaign)
    db.session.flush()
    return campaign


def update_campaign(campaign: Campaign, actor: User, draft: CampaignDraft, *,
                    cover_key: str | None = None) -> str | None:
    """Save the organizers' edit. A draft changes at once (None); once approved, the edit goes through
    revisions.propose and this returns what it did (applied, pending or unchanged)."""
    from webapp.campaigns import revisions

    require_editor(actor, campaign)
    if campaign.status not in EDITABLE | revisions.REVIEWED:
        raise DomainError(_("This campaign cannot be edited now (%(status)s).", status=status_label(campaign.status)))
    if campaign.status in revisions.REVIEWED:
        starts_at, ends_at = deadline_bounds(draft.start_date, draft.end_date)
        if (draft.start_date, draft.end_date) == (campaign.starts_at.date(), campaign.ends_at.date() - timedelta(days=1)):
            # The days the form shows: unchanged, even for a campaign that did not start at midnight.
            starts_at, ends_at = campaign.starts_at, campaign.ends_at
        new = {"goal_amount": draft.goal.amount, "minimum_amount": draft.minimum.amount if draft.minimum else None,
               "currency": draft.goal.currency, "funding_model": draft.funding_model,
               "starts_at": starts_at, "ends_at": ends_at}
        changed = [name for name in FROZEN_WHEN_LIVE if getattr(campaign, name) != new[name]]
        if changed:
            raise FrozenField(_("A live campaign keeps its goal, currency, funding model and dates.")
                              if campaign.status == S.LIVE else
                              _("An approved campaign keeps its goal, currency, funding model and dates."))
    slug = draft.slug or campaign.slug
    if slug != campaign.slug:
        if campaign.status not in EDITABLE:
            raise FrozenField(_("A campaign's address cannot change once it has been submitted."))
        if not _slug_free(slug, campaign.id):
            raise SlugTaken(_("Another campaign already uses this address. Choose another."))
        campaign.slug = slug
    if campaign.status in revisions.REVIEWED:
        proposal = revisions.working_copy(campaign)
        proposal.update(title=draft.title.strip(), summary=draft.summary.strip(), story_md=draft.story_md,
                        category=draft.category.value, country=draft.country.upper(), region=draft.region or None)
        if cover_key:
            proposal["cover_key"] = cover_key
        return revisions.propose(campaign, actor, proposal)
    _apply(campaign, draft)
    return None


def _apply(campaign: Campaign, draft: CampaignDraft) -> None:
    campaign.title = draft.title.strip()
    campaign.summary = draft.summary.strip()
    campaign.story_md = draft.story_md
    campaign.story_html = render_markdown(draft.story_md)
    campaign.category = draft.category
    campaign.country = draft.country.upper()
    campaign.region = draft.region or None
    if draft.language and draft.language in current_app.config["LANGUAGES"]:
        campaign.language = draft.language
        # A translation into the campaign's own language would never be read.
        for row in [t for t in campaign.translations if t.language == draft.language]:
            campaign.translations.remove(row)
    if campaign.status != S.LIVE:
        campaign.goal_amount = draft.goal.amount
        campaign.currency = draft.goal.currency
        campaign.funding_model = draft.funding_model
        campaign.minimum_amount = (draft.minimum.amount if draft.minimum and
                                   draft.funding_model == FundingModel.MINIMUM_OPTIMUM else None)
        campaign.starts_at, campaign.ends_at = deadline_bounds(draft.start_date, draft.end_date)


def set_cover(campaign: Campaign, actor: User, key: str) -> str | None:
    """A draft's new cover, at once; returns the former key (its file may go). Once approved, a new
    cover is a revision (update_campaign's cover_key), so this refuses."""
    require_editor(actor, campaign)
    if campaign.status not in EDITABLE:
        raise DomainError(_("The cover cannot change now."))
    old, campaign.cover_key = campaign.cover_key, key
    return old


def require_editor(actor: User | None, campaign: Campaign) -> None:
    organizations.require_editor(actor, campaign.organization_id)


def can_view(user: User | None, campaign: Campaign) -> bool:
    if campaign.status in PUBLIC_STATUSES:
        return True
    if user is None or not user.is_authenticated:
        return False
    return user.is_moderator or organizations.can_edit(user, campaign.organization_id)


# -- reward tiers -------------------------------------------------------------------------------
@dataclass(frozen=True)
class TierDetails:
    title: str
    description: str
    minimum: Money
    quantity_limit: int | None
    delivery_month: date | None


MAX_TIERS = 20


def _check_tier(campaign: Campaign, details: TierDetails) -> None:
    from webapp.campaigns.revisions import REVIEWED

    if details.minimum.currency != campaign.currency:
        raise DomainError(_("Tier amounts are in the campaign's currency (%(c)s).", c=campaign.currency))
    if campaign.status not in EDITABLE | REVIEWED:
        raise DomainError(_("Tiers cannot change now (%(status)s).", status=status_label(campaign.status)))


def _tier_data(details: TierDetails, tier_id: int | None) -> dict:
    return {"id": tier_id, "title": details.title.strip(), "description": details.description.strip(),
            "minimum_amount": details.minimum.amount, "quantity_limit": details.quantity_limit,
            "delivery_month": details.delivery_month.replace(day=1).isoformat() if details.delivery_month else None}


def add_tier(campaign: Campaign, actor: User, details: TierDetails) -> RewardTier | str:
    """A draft's new tier (returned); once approved, a revision (returns what revisions.propose did)."""
    from webapp.campaigns import revisions

    require_editor(actor, campaign)
    _check_tier(campaign, details)
    if campaign.status in revisions.REVIEWED:
        proposal = revisions.working_copy(campaign)
        if len(proposal["tiers"]) >= MAX_TIERS:
            raise DomainError(_("A campaign has at most %(n)d reward tiers.", n=MAX_TIERS))
        proposal["tiers"].append(_tier_data(details, None))
        return revisions.propose(campaign, actor, proposal)
    count = db.session.scalar(select(func.count()).select_from(RewardTier).where(RewardTier.campaign_id == campaign.id))
    if count >= MAX_TIERS:
        raise DomainError(_("A campaign has at most %(n)d reward tiers.", n=MAX_TIERS))
    tier = RewardTier(campaign_id=campaign.id, title=details.title.strip(), description=details.description.strip(),
                      minimum_amount=details.minimum.amount, quantity_limit=details.quantity_limit,
                      delivery_month=details.delivery_month)
    db.session.add(tier)
    db.session.flush()
    return tier


def _require_unchosen(tier: RewardTier) -> None:
    if tier.id in progress_source.reader().chosen_tier_ids(tier.campaign_id):
        raise DomainError(_("Backers have chosen this tier: it can no longer change."))


def _working_tier(proposal: dict, tier: RewardTier) -> int:
    for n, data in enumerate(proposal["tiers"]):
        if data["id"] == tier.id:
            return n
    raise DomainError(_("The changes waiting for review remove this tier."))


def update_tier(tier: RewardTier, actor: User, details: TierDetails) -> str | None:
    from webapp.campaigns import revisions

    require_editor(actor, tier.campaign)
    _check_tier(tier.campaign, details)
    _require_unchosen(tier)
    if tier.campaign.status in revisions.REVIEWED:
        if details.quantity_limit is not None and details.quantity_limit < tier.units_claimed:
            raise DomainError(_("%(n)d units of this tier are already taken.", n=tier.units_claimed))
        proposal = revisions.working_copy(tier.campaign)
        proposal["tiers"][_working_tier(proposal, tier)] = _tier_data(details, tier.id)
        return revisions.propose(tier.campaign, actor, proposal)
    tier.title, tier.description = details.title.strip(), details.description.strip()
    tier.minimum_amount, tier.quantity_limit = details.minimum.amount, details.quantity_limit
    tier.delivery_month = details.delivery_month
    return None


def delete_tier(tier: RewardTier, actor: User) -> str | None:
    """Removing a tier nobody chose: at once for a draft; once approved, through revisions.propose (where
    a removal alone is a minor change, applied at once and recorded)."""
    from webapp.campaigns import revisions

    require_editor(actor, tier.campaign)
    _check_tier(tier.campaign, TierDetails("", "", tier.minimum, None, None))
    _require_unchosen(tier)
    if tier.campaign.status in revisions.REVIEWED:
        proposal = revisions.working_copy(tier.campaign)
        del proposal["tiers"][_working_tier(proposal, tier)]
        return revisions.propose(tier.campaign, actor, proposal)
    db.session.delete(tier)
    return None


def claim_tier_unit(tier_id: int) -> bool:
    """Take one unit of a tier if one is left. The database decides, so no tier ever oversells."""
    result = db.session.execute(
        update(RewardTier)
        .where(RewardTier.id == tier_id,
               or_(RewardTier.quantity_limit.is_(None), RewardTier.units_claimed < RewardTier.quantity_limit))
        .values(units_claimed=RewardTier.units_claimed + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def release_tier_unit(tier_id: int) -> None:
    db.session.execute(
        update(RewardTier).where(RewardTier.id == tier_id, RewardTier.units_claimed > 0)
        .values(units_claimed=RewardTier.units_claimed - 1).execution_options(synchronize_session=False)
    )


# -- moderation ---------------------------------------------------------------------------------
def submit(campaign: Campaign, actor: User) -> None:
    require_editor(actor, campaign)
    missing = []
    if not campaign.story_md.strip():
        missing.append(_("a story"))
    if not campaign.summary.strip():
        missing.append(_("a summary"))
    if missing:
        raise DomainError(_("Before submitting, add %(what)s.", what=", ".join(missing)))
    if campaign.ends_at <= utcnow():
        raise DomainError(_("The end date has already passed: choose new dates before submitting."))
    from webapp.campaigns import budget

    budget.check_before_submitting(campaign)
    transition(campaign, S.SUBMITTED, actor)
    campaign.moderation_note = None


def approve(campaign: Campaign, moderator: User) -> None:
    _require_moderator(moderator)
    if campaign.status == S.SUBMITTED and campaign.ends_at <= utcnow():
        raise DomainError(_("The deadline of this campaign has passed: ask for new dates instead."))
    transition(campaign, S.APPROVED, moderator)
    if campaign.starts_at <= utcnow():
        launch(campaign, moderator)
    _tell_organization(campaign, "campaign_approved")


def request_changes(campaign: Campaign, moderator: User, reason: str) -> None:
    _require_moderator(moderator)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Tell the organizer what to change."))
    transition(campaign, S.CHANGES_REQUESTED, moderator, reason=reason)
    campaign.moderation_note = reason
    _tell_organization(campaign, "campaign_changes_requested", reason=reason)


def launch(campaign: Campaign, actor: User | None = None) -> None:
    transition(campaign, S.LIVE, actor)
    campaign.launched_at = utcnow()


def launch_due_campaigns(now: datetime | None = None) -> int:
    """Put live every approved campaign whose start has come; returns how many."""
    now = now or utcnow()
    due = db.session.scalars(
        select(Campaign).where(Campaign.status == S.APPROVED, Campaign.starts_at <= now)
        .with_for_update(skip_locked=True)
    ).all()
    for campaign in due:
        launch(campaign)
    db.session.flush()
    return len(due)


def _require_moderator(user: User) -> None:
    if not user.is_moderator:
        raise PermissionDenied(_("Only moderators can do this."))


def moderation_queue() -> list[Campaign]:
    return list(db.session.scalars(
        select(Campaign).where(Campaign.status == S.SUBMITTED)
        .options(joinedload(Campaign.organization)).order_by(Campaign.id)
    ))


def history(campaign: Campaign) -> list[CampaignTransition]:
    return list(db.session.scalars(
        select(CampaignTransition).where(CampaignTransition.campaign_id == campaign.id)
        .options(joinedload(CampaignTransition.actor)).order_by(CampaignTransition.id)
    ))


# -- updates ------------------------------------------------------------------------------------
def post_update(campaign: Campaign, actor: User, title: str, body_md: str) -> CampaignUpdate:
    require_editor(actor, campaign)
    if campaign.status not in PUBLIC_STATUSES:
        raise DomainError(_("Updates can be posted once the campaign is live."))
    update = CampaignUpdate(campaign_id=campaign.id, author_id=actor.id, title=title.strip(),
                            body_md=body_md, body_html=render_markdown(body_md))
    db.session.add(update)
    db.session.flush()
    return update


def updates_of(campaign: Campaign, limit: int = 20) -> list[CampaignUpdate]:
    return list(db.session.scalars(
        select(CampaignUpdate).where(CampaignUpdate.campaign_id == campaign.id)
        .options(joinedload(CampaignUpdate.author)).order_by(CampaignUpdate.created_at.desc(), CampaignUpdate.id.desc())
        .limit(limit)
    ))


# -- discovery ----------------------------------------------------------------------------------
SORTS = ("newest", "ending", "funded")


#: filters that higher domains add to discovery: name -> a function from the query's value to a condition on
#: Campaign (None to ignore the value); impact registers "sdg" (campaigns cannot import those domains)
_DISCOVERY_FILTERS: dict[str, Callable[[str], object]] = {}


def register_discovery_filter(name: str, condition: Callable[[str], object]) -> None:
    _DISCOVERY_FILTERS[name] = condition


def discovery_filter_names() -> tuple[str, ...]:
    return tuple(_DISCOVERY_FILTERS)


@dataclass(frozen=True)
class Filters:
    q: str = ""
    category: str = ""
    country: str = ""
    region: str = ""
    sort: str = "newest"
    page: int = 1
    #: (name, value) of the registered filters the query gave
    more: tuple[tuple[str, str], ...] = ()

    def value(self, name: str) -> str:
        return dict(self.more).get(name, "")


@dataclass(frozen=True)
class CampaignCard:
    campaign: Campaign
    progress: progress_source.Progress


@dataclass(frozen=True)
class Page:
    items: list[CampaignCard]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _progress(campaign: Campaign, raised: int | None, backers: int | None) -> progress_source.Progress:
    return progress_source.Progress(raised=Money(int(raised or 0), campaign.currency), goal=campaign.goal,
                                    threshold=campaign.success_threshold, backers=int(backers or 0))


def discover(filters: Filters, per_page: int) -> Page:
    """Live campaigns matching the filters, with their progress: two queries, whatever the data."""
    where = [Campaign.status == S.LIVE]
    if filters.category:
        where.append(Campaign.category == filters.category)
    if filters.country:
        where.append(Campaign.country == filters.country.upper())
    if filters.region:
        where.append(Campaign.region == filters.region.upper())
    for name, value in filters.more:
        condition = _DISCOVERY_FILTERS[name](value) if name in _DISCOVERY_FILTERS else None
        if condition is not None:
            where.append(condition)
    if filters.q:
        pattern = f"%{filters.q.strip().lower()}%"
        translated = exists().where(CampaignTranslation.campaign_id == Campaign.id,
                                    or_(func.lower(CampaignTranslation.title).like(pattern),
                                        func.lower(CampaignTranslation.summary).like(pattern)))
        where.append(or_(func.lower(Campaign.title).like(pattern), func.lower(Campaign.summary).like(pattern),
                         translated))
    totals = progress_source.reader().totals_subquery(select(Campaign.id).where(*where))
    raised = func.coalesce(totals.c.raised, 0)
    order = {
        "newest": (Campaign.launched_at.desc(), Campaign.id.desc()),
        "ending": (Campaign.ends_at.asc(), Campaign.id.asc()),
        "funded": ((raised * 1.0 / Campaign.goal_amount).desc(), Campaign.id.desc()),
    }[filters.sort if filters.sort in SORTS else "newest"]
    total = db.session.scalar(select(func.count()).select_from(Campaign).where(*where))
    rows = db.session.execute(
        select(Campaign, totals.c.raised, totals.c.backers)
        .outerjoin(totals, totals.c.campaign_id == Campaign.id)
        .where(*where).options(joinedload(Campaign.organization))
        .order_by(*order).limit(per_page).offset((max(filters.page, 1) - 1) * per_page)
    ).all()
    return Page([CampaignCard(c, _progress(c, r, b)) for c, r, b in rows], total or 0, filters.page, per_page)


def live_countries() -> list[str]:
    return list(db.session.scalars(select(Campaign.country).where(Campaign.status == S.LIVE).distinct()))


def campaign_by_slug(slug: str) -> Campaign | None:
    return db.session.scalar(
        select(Campaign).where(Campaign.slug == slug)
        .options(joinedload(Campaign.organization), selectinload(Campaign.tiers))
    )


def campaign_page(slug: str, user: User | None) -> tuple[Campaign | None, bool]:
    """The campaign a page shows (its organization and tiers) and whether `user` edits it, in one query."""
    from sqlalchemy import exists

    from webapp.organizations.models import Membership

    q = (select(Campaign).where(Campaign.slug == slug)
         .options(joinedload(Campaign.organization), joinedload(Campaign.tiers)))
    member = user is not None and getattr(user, "is_authenticated", False)
    if member:
        q = q.add_columns(exists().where(Membership.organization_id == Campaign.organization_id,
                                         Membership.user_id == user.id))
    row = db.session.execute(q).unique().first()
    if row is None:
        return None, False
    return row[0], bool(row[1]) if member else False


def money_of(campaign: Campaign, supporters: int = 5) -> tuple[progress_source.Progress, list]:
    """The campaign's progress and its latest supporters, in one statement (the page's money fragment)."""
    raised, backers, latest = progress_source.reader().totals_and_latest(campaign.id, supporters)
    return _progress(campaign, raised, backers), latest


def progress_of(campaign: Campaign) -> progress_source.Progress:
    totals = progress_source.reader().totals_subquery([campaign.id])
    row = db.session.execute(select(totals.c.raised, totals.c.backers).where(totals.c.campaign_id == campaign.id)).first()
    return _progress(campaign, *(row or (0, 0)))


def campaigns_of_organization(org: Organization, include_private: bool) -> list[CampaignCard]:
    totals = progress_source.reader().totals_subquery(select(Campaign.id).where(Campaign.organization_id == org.id))
    q = (select(Campaign, totals.c.raised, totals.c.backers)
         .outerjoin(totals, totals.c.campaign_id == Campaign.id)
         .where(Campaign.organization_id == org.id).order_by(Campaign.id.desc()))
    if not include_private:
        q = q.where(Campaign.status.in_(PUBLIC_STATUSES))
    return [CampaignCard(c, _progress(c, r, b)) for c, r, b in db.session.execute(q)]


def campaigns_for_editor(user: User) -> list[tuple[Organization, list[CampaignCard]]]:
    """The member's organizations, each with all its campaigns (drafts included)."""
    orgs = [org for org, _role in organizations.organizations_of(user)]
    if not orgs:
        return []
    org_ids = [o.id for o in orgs]
    totals = progress_source.reader().totals_subquery(
        select(Campaign.id).where(Campaign.organization_id.in_(org_ids)))
    rows = db.session.execute(
        select(Campaign, totals.c.raised, totals.c.backers)
        .outerjoin(totals, totals.c.campaign_id == Campaign.id)
        .where(Campaign.organization_id.in_(org_ids)).order_by(Campaign.id.desc())
    ).all()
    by_org: dict[int, list[CampaignCard]] = {o.id: [] for o in orgs}
    for c, r, b in rows:
        by_org[c.organization_id].append(CampaignCard(c, _progress(c, r, b)))
    return [(o, by_org[o.id]) for o in orgs]


def status_label(status: CampaignStatus) -> str:
    return {
        S.DRAFT: _("draft"), S.SUBMITTED: _("waiting for review"), S.CHANGES_REQUESTED: _("changes requested"),
        S.APPROVED: _("approved, starting soon"), S.LIVE: _("live"), S.SUCCEEDED: _("succeeded"),
        S.FAILED: _("did not reach its goal"),
    }[status]


# -- emergency funds (opened by mutual aid) -----------------------------------------------------
def open_emergency_fund(org: Organization, actor: User, *, title: str, summary: str, story_md: str, goal: Money,
                        region: str | None, days: int) -> Campaign:
    """A keep-it-all campaign of the relief organization, live at once.

    A disaster cannot wait for the review queue: the mutual-aid coordinator who activates the event
    vouches for it, and is recorded as the actor of every step a campaign normally takes.
    """
    if not actor.has_role(Role.COORDINATOR):
        raise PermissionDenied(_("Only mutual-aid coordinators can open an emergency fund."))
    slug = unique_slug(Campaign, title)
    now = utcnow()
    campaign = Campaign(organization_id=org.id, created_by_id=actor.id, slug=slug, status=S.DRAFT,
                        title=title.strip()[:120], summary=summary.strip()[:200], story_md=story_md,
                        story_html=render_markdown(story_md), category=Category.EMERGENCY, country=org.country,
                        region=region if region and geo.is_region(region, org.country) else None,
                        goal_amount=goal.amount, currency=goal.currency, funding_model=FundingModel.KEEP_IT_ALL,
                        starts_at=now, ends_at=now + timedelta(days=min(max(days, MIN_DAYS), MAX_DAYS)))
    db.session.add(campaign)
    db.session.flush()
    reason = _("Emergency fund of a disaster event")
    for step in (S.SUBMITTED, S.APPROVED):
        transition(campaign, step, actor, reason)
    launch(campaign, actor)
    db.session.flush()
    return campaign
