"""Routes: discovery and campaign pages (public), writing campaigns and revisions (editors), the moderation queue."""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from babel import Locale
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select

from webapp import geo, pagecache
from webapp.errorpages import refused as _conflict
from webapp.accounts.models import Role
from webapp.accounts.permissions import role_required
from webapp.campaigns import budget, covers, diffing, page_head, revisions, services, translations
from webapp.campaigns.forms import (
    BudgetLineForm,
    CampaignForm,
    ReviewForm,
    RevisionDecisionForm,
    TierForm,
    TranslationForm,
    UpdateForm,
    default_currency,
)
from webapp.campaigns.labels import CATEGORY_LABELS, FUNDING_MODEL_HELP, FUNDING_MODEL_LABELS, charge_terms
from webapp.campaigns.models import (BudgetLine, Campaign, CampaignStatus, CampaignUpdate, Category, FundingModel,
                                     RewardTier)
from webapp.errors import DomainError, InvalidTransition, PermissionDenied
from webapp.extensions import db
from webapp.ids import MAX_ID, MAX_PAGE, parse_int
from webapp.i18n import language_of_country, locale_code
from webapp.organizations import services as organizations
from webapp.organizations.labels import LEGAL_FORM_LABELS
from webapp.organizations.models import Organization
from webapp.storage import get_storage
from webapp.money import Money
from webapp.storage.images import reencode_image

blueprint = Blueprint("campaigns", __name__)
manage = Blueprint("manage", __name__, url_prefix="/manage")
moderation = Blueprint("moderation", __name__, url_prefix="/moderation")


@blueprint.app_context_processor
def campaign_labels() -> dict:
    return {"category_labels": CATEGORY_LABELS, "funding_model_labels": FUNDING_MODEL_LABELS,
            "funding_model_help": FUNDING_MODEL_HELP, "charge_terms": charge_terms,
            "legal_form_labels": LEGAL_FORM_LABELS, "status_label": services.status_label,
            "revision_label": revisions.status_label, "money_of": Money,
            "upload_url": lambda key: get_storage().url(key) if key else None,
            "cover_url": cover_url,
            "budget_chart": lambda campaign: budget.chart(campaign, budget.lines_of(campaign)),
            "language_name": language_name, "card_text": card_text,
            "other_languages": translations.other_languages, "update_reading": translations.update_reading,
            "tier_reading": translations.tier_reading,
            "campaign_title": lambda campaign: translations.title_in(campaign, locale_code()),
            "tier_text": lambda tier: translations.tier_in(tier, locale_code()),
            "updates_of": services.updates_of}


def language_name(code: str) -> str:
    """A language in its own name ("Français"), as the language chooser lists it."""
    return Locale.parse(code).get_display_name(code).capitalize()


def card_text(campaign: Campaign) -> translations.Reading:
    """A card's title and summary in the visitor's language when the campaign has it."""
    return translations.reading(campaign, translations.reading_language(campaign, None, locale_code()))


def cover_url(campaign: Campaign) -> str:
    """The campaign's cover, or the one drawn for it from its title and organization (campaigns/covers.py)."""
    return get_storage().url(campaign.cover_key or covers.generated_cover(campaign))


# -- public -------------------------------------------------------------------------------------
def _filters() -> services.Filters:
    # NUL never belongs in a filter, and PostgreSQL refuses it in a text parameter (a 500).
    args = {name: value.replace("\x00", "") for name, value in request.args.items()}
    category = args.get("category", "")
    if category and category not in {c.value for c in Category}:
        category = ""
    page = min(parse_int(args.get("page", "1"), 1, MAX_ID) or 1, MAX_PAGE)
    sort = args.get("sort", "newest")
    return services.Filters(q=args.get("q", "")[:100], category=category, country=args.get("country", "")[:2],
                            region=args.get("region", "")[:10], sort=sort if sort in services.SORTS else "newest",
                            page=page, more=tuple((name, args[name][:20]) for name in services.discovery_filter_names()
                                                  if args.get(name)))


@blueprint.route("/")
def home():
    filters = _filters()
    page = services.discover(filters, current_app.config["PAGE_SIZE"])
    locale = locale_code()
    countries = sorted(((c, geo.country_name(c, locale)) for c in services.live_countries()), key=lambda p: p[1])
    return render_template("campaigns/home.html", page=page, filters=filters, country_options=countries,
                           region_options=geo.regions_of(filters.country, locale) if filters.country else [])


@blueprint.route("/campaigns/<slug>")
def show(slug: str):
    loaded: dict = {}

    def campaign() -> Campaign | None:  # one query (with the viewer's role) and its translations, when needed
        if "campaign" not in loaded:
            loaded["campaign"], loaded["can_edit"] = services.campaign_page(slug, current_user)
        return loaded["campaign"]

    # The page's head (who may see it, its languages, title and summary) and its two fragments come from the
    # page cache (webapp.pagecache): the record, which only the organization's writes change, and the money,
    # which every pledge changes. The campaign itself is read only when one of them has to be made again.
    head = pagecache.kept(slug, ("head",), lambda: page_head.page_head(campaign()), record=True)
    if head is None:
        abort(404)
    can_edit = loaded["can_edit"] if "campaign" in loaded else \
        organizations.can_edit(current_user, head.organization_id)
    if not page_head.visible(head, current_user, can_edit):
        abort(404)
    moderator = current_user.is_authenticated and current_user.is_moderator
    # ?lang=… reads this campaign in another of its languages, for this page only (the site's language stays).
    language = head.reading_language(request.args.get("lang"), locale_code())
    viewer = (can_edit, moderator, language)

    def record() -> str:
        return render_template("campaigns/_show_record.html", campaign=campaign(), can_edit=can_edit,
                               updates=services.updates_of(campaign()), read_in=head.languages,
                               text=translations.reading(campaign(), language), part_mark=Markup(pagecache.PART_MARK))

    def money() -> str:
        progress, supporters = services.money_of(campaign())
        return render_template("campaigns/_show_money.html", campaign=campaign(), progress=progress,
                               supporters=supporters, can_edit=can_edit,
                               text=translations.reading(campaign(), language), part_mark=Markup(pagecache.PART_MARK))

    (notice, main, budget), (panel, rest, share_meta) = pagecache.fragments_in_pieces(
        slug, [(("record", *viewer), record, True), (("money", *viewer), money, False)])
    title, summary = head.texts[language]
    return render_template("campaigns/show.html", notice=notice, main=main, budget=budget, panel=panel, rest=rest,
                           share_meta=share_meta, title=title, summary=summary)


@blueprint.route("/organizations/<slug>")
def organization(slug: str):
    org = db.session.scalar(select(Organization).where(Organization.slug == slug))
    if org is None:
        abort(404)
    can_edit = organizations.can_edit(current_user, org)
    private = can_edit or (current_user.is_authenticated and current_user.is_moderator)
    return render_template("organizations/show.html", org=org, can_edit=can_edit,
                           campaigns=services.campaigns_of_organization(org, include_private=private))


@blueprint.route("/dashboard")
@login_required
def dashboard():
    return render_template("campaigns/dashboard.html", groups=services.campaigns_for_editor(current_user))


# -- writing a campaign -------------------------------------------------------------------------
def _draft(form: CampaignForm) -> services.CampaignDraft:
    return services.CampaignDraft(
        title=form.title.data, slug=(form.slug.data or "").strip().lower() or None, summary=form.summary.data,
        story_md=form.story_md.data or "", category=Category(form.category.data), country=form.country.data,
        region=form.region.data or None, goal=form.goal.money, minimum=form.minimum.money,
        funding_model=FundingModel(form.funding_model.data), start_date=form.start_date.data,
        end_date=form.end_date.data, language=form.language.data or None)


def _cover(form: CampaignForm) -> bytes | None:
    upload = form.cover.data
    if not upload or not getattr(upload, "filename", ""):
        return None
    return reencode_image(upload.read(), max_bytes=current_app.config["MAX_IMAGE_BYTES"])


def _validated_draft(form: CampaignForm) -> services.CampaignDraft | None:
    if not form.validate_on_submit():
        return None
    draft = _draft(form)
    problems = services.check_draft(draft)
    for name, message in problems.items():
        form[name].errors.append(message)
    return None if problems else draft


def _save_cover(form: CampaignForm, campaign: Campaign) -> bool:
    try:
        data = _cover(form)
    except DomainError as exc:
        form.cover.errors.append(str(exc))
        return False
    if data:
        old = services.set_cover(campaign, current_user, get_storage().save(data, "covers", "jpg"))
        if old:
            get_storage().delete(old)
    return True


def _editor_org(slug: str) -> Organization:
    org = db.session.scalar(select(Organization).where(Organization.slug == slug))
    if org is None:
        abort(404)
    if not organizations.can_edit(current_user, org):
        abort(403)
    return org


def _editable_campaign(slug: str) -> Campaign:
    campaign = services.campaign_by_slug(slug)
    if campaign is None:
        abort(404)
    if not organizations.can_edit(current_user, campaign.organization_id):
        abort(403)
    return campaign


@manage.route("/organizations/<org_slug>/campaigns/new", methods=["GET", "POST"])
@login_required
def new_campaign(org_slug: str):
    org = _editor_org(org_slug)
    form = CampaignForm()
    if request.method == "GET":
        today = date.today()
        form.country.data, form.region.data = org.country, org.region
        form.currency.data = default_currency(org.country)
        form.language.data = language_of_country(org.country)
        form.start_date.data, form.end_date.data = today, date.fromordinal(today.toordinal() + 29)
        form._country_hint = org.country
        form.region._country = org.country
    draft = _validated_draft(form)
    if draft is not None:
        try:
            campaign = services.create_campaign(org, current_user, draft)
            if _save_cover(form, campaign):
                db.session.commit()
                flash(_("Draft saved. Add reward tiers, then submit it for review."), "success")
                return redirect(url_for("manage.edit_campaign", slug=campaign.slug))
            db.session.rollback()
        except services.SlugTaken as exc:
            db.session.rollback()
            form.slug.errors.append(str(exc))
    return render_template("campaigns/form.html", form=form, org=org, campaign=None), 400 if form.errors else 200


@manage.route("/campaigns/<slug>", methods=["GET", "POST"])
@login_required
def edit_campaign(slug: str):
    campaign = _editable_campaign(slug)
    reviewed = campaign.status in revisions.REVIEWED
    form = _edit_form(campaign, submitted=request.method == "POST")
    draft = _validated_draft(form) if not reviewed else _live_draft(form, campaign)
    if draft is not None and reviewed:
        result = _propose_edit(form, campaign, draft)
        if result is not None:
            return result
        campaign = services.campaign_by_slug(slug) or campaign
    elif draft is not None:
        try:
            services.update_campaign(campaign, current_user, draft)
            if _save_cover(form, campaign):
                db.session.commit()
                flash(_("Saved."), "success")
                return redirect(url_for("manage.edit_campaign", slug=campaign.slug))
            db.session.rollback()
        except services.SlugTaken as exc:
            form.slug.errors.append(str(exc))
            db.session.rollback()
        except DomainError as exc:
            form.goal.errors.append(str(exc))
            db.session.rollback()
        campaign = services.campaign_by_slug(slug) or campaign
    return _edit_page(campaign, form), 400 if form.errors else 200


def _edit_form(campaign: Campaign, submitted: bool = False) -> CampaignForm:
    """The campaign form as the editing page shows it; `submitted`, as the organizer sent it in this request."""
    reviewed = campaign.status in revisions.REVIEWED
    # Once approved, the form shows the pending proposal if there is one, so that the next edit builds on it.
    content = _working_content(campaign) if reviewed else campaign
    if submitted:
        return CampaignForm(obj=content)
    form = CampaignForm(formdata=None, obj=content)
    form.goal.data, form.minimum.data = campaign.goal, campaign.minimum
    form.start_date.data = campaign.starts_at.date()
    form.end_date.data = date.fromordinal(campaign.ends_at.date().toordinal() - 1)
    return form


def _edit_page(campaign: Campaign, form: CampaignForm, update_form: UpdateForm | None = None,
               budget_form: BudgetLineForm | None = None) -> str:
    pending = revisions.pending_revision(campaign) if campaign.status in revisions.REVIEWED else None
    history = revisions.history(campaign)
    # The last moderator's answer, shown until the organizers propose again.
    answered = next((r for r in history if r.status != revisions.R.DIRECT), None)
    return render_template("campaigns/form.html", form=form, org=campaign.organization, campaign=campaign,
                           tier_form=TierForm(currency=campaign.currency),
                           chosen_tiers=_chosen(campaign), history=services.history(campaign),
                           pending=pending, pending_diff=_diff(pending) if pending else None,
                           answered=answered, revision_history=history,
                           update_form=update_form or UpdateForm(formdata=None),
                           budget_form=budget_form or BudgetLineForm(formdata=None, currency=campaign.currency),
                           budget_lines=budget.lines_of(campaign), budget_problem=budget.problem(campaign),
                           budget_editable=campaign.status in budget.EDITABLE)


def _working_content(campaign: Campaign) -> SimpleNamespace:
    content = revisions.working_copy(campaign)
    return SimpleNamespace(slug=campaign.slug, currency=campaign.currency, funding_model=campaign.funding_model,
                           title=content["title"], summary=content["summary"], story_md=content["story_md"],
                           category=Category(content["category"]), country=content["country"],
                           region=content["region"])


def _propose_edit(form: CampaignForm, campaign: Campaign, draft: services.CampaignDraft):
    """An approved campaign's edit: the new cover is stored first, then everything goes to revisions.propose."""
    try:
        data = _cover(form)
    except DomainError as exc:
        form.cover.errors.append(str(exc))
        return None
    key = get_storage().save(data, "covers", "jpg") if data else None
    try:
        outcome = services.update_campaign(campaign, current_user, draft, cover_key=key)
    except services.SlugTaken as exc:
        form.slug.errors.append(str(exc))
    except DomainError as exc:
        form.goal.errors.append(str(exc))
    else:
        db.session.commit()
        _flash_outcome(outcome)
        return redirect(url_for("manage.edit_campaign", slug=campaign.slug))
    db.session.rollback()
    if key:
        get_storage().delete(key)
    return None


@manage.route("/campaigns/<slug>/translations/<language>", methods=["GET", "POST"])
@login_required
def edit_translation(slug: str, language: str):
    """Add or change the campaign's title, summary and story in another language (the organization's editors)."""
    campaign = _editable_campaign(slug)
    if language not in translations.other_languages(campaign):
        abort(404)
    current = translations.working_translation(campaign, language)
    if request.method == "POST":
        form = TranslationForm()
    else:
        form = TranslationForm(formdata=None, data=current or {})
    if form.validate_on_submit():
        try:
            outcome = translations.save_translation(
                campaign, current_user, language, title=form.title.data, summary=form.summary.data,
                story_md=form.story_md.data or "",
                tiers={t.id: (request.form.get(f"tier-{t.id}-title", ""), request.form.get(f"tier-{t.id}-description", ""))
                       for t in campaign.tiers})
        except DomainError as exc:
            db.session.rollback()
            return _conflict(exc)
        db.session.commit()
        _flash_outcome(outcome)
        return redirect(url_for("manage.edit_campaign", slug=campaign.slug))
    tier_texts = (current or {}).get("tiers", {})
    if request.method == "POST":
        tier_texts = {str(t.id): {"title": request.form.get(f"tier-{t.id}-title", ""),
                                  "description": request.form.get(f"tier-{t.id}-description", "")}
                      for t in campaign.tiers}
    return render_template("campaigns/translation_form.html", form=form, campaign=campaign, language=language,
                           exists=current is not None, tier_texts=tier_texts), 400 if form.errors else 200


@manage.route("/campaigns/<slug>/translations/<language>/remove", methods=["GET", "POST"])
@login_required
def remove_translation(slug: str, language: str):
    """A confirmation page, then (POST) the campaign's translation into `language` is removed."""
    campaign = _editable_campaign(slug)
    if language not in translations.other_languages(campaign) or translations.working_translation(campaign, language) is None:
        abort(404)
    if request.method == "GET":
        return render_template("campaigns/translation_remove.html", campaign=campaign, language=language)
    try:
        translations.remove_translation(campaign, current_user, language)
    except revisions.NoSuchTranslation:
        db.session.rollback()
        abort(404)
    except DomainError as exc:
        return _conflict(exc)
    db.session.commit()
    flash(_("Translation removed (%(language)s): its readers now read the campaign as written.",
            language=language_name(language)), "success")
    return redirect(url_for("manage.edit_campaign", slug=campaign.slug), code=303)


@manage.route("/campaigns/<slug>/updates/<int:update_id>/translations/<language>", methods=["GET", "POST"])
@login_required
def edit_update_translation(slug: str, update_id: int, language: str):
    campaign = _editable_campaign(slug)
    update = db.session.get(CampaignUpdate, update_id) if update_id <= MAX_ID else None
    if update is None or update.campaign_id != campaign.id or language not in translations.other_languages(campaign):
        abort(404)
    row = next((t for t in update.translations if t.language == language), None)
    form = UpdateForm() if request.method == "POST" else UpdateForm(
        formdata=None, data={"title": row.title, "body": row.body_md} if row else {})
    if form.validate_on_submit():
        try:
            translations.save_update_translation(update, campaign, current_user, language, title=form.title.data,
                                                 body_md=form.body.data)
        except DomainError as exc:
            db.session.rollback()
            return _conflict(exc)
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("manage.edit_campaign", slug=campaign.slug))
    return render_template("campaigns/translation_form.html", form=form, campaign=campaign, language=language,
                           exists=row is not None, update=update), 400 if form.errors else 200


def _flash_outcome(outcome: str | None, saved: str | None = None) -> None:
    if outcome == revisions.PENDING:
        flash(_("Your changes are waiting for a moderator. The public page keeps the approved version until then."),
              "info")
    elif outcome == revisions.REVERTED:
        flash(_("Back to the approved version: no change waits for review any more."), "info")
    elif outcome == revisions.UNCHANGED:
        flash(_("Nothing changed."), "info")
    elif outcome == revisions.APPLIED:
        flash(_("Saved: a minor correction, published at once and kept in the history."), "success")
    else:
        flash(saved or _("Saved."), "success")


def _diff(revision) -> diffing.RevisionDiff:
    return diffing.revision_diff(revision.before, revision.after)


def _live_draft(form: CampaignForm, campaign: Campaign) -> services.CampaignDraft | None:
    """A live campaign's form: the frozen fields are shown but not taken from the request."""
    form.currency.data, form.funding_model.data = campaign.currency, campaign.funding_model.value
    form.goal.data, form.minimum.data = campaign.goal, campaign.minimum
    form.start_date.data = campaign.starts_at.date()
    form.end_date.data = date.fromordinal(campaign.ends_at.date().toordinal() - 1)
    if not form.validate_on_submit():
        return None
    return _draft(form)


def _chosen(campaign: Campaign) -> set[int]:
    from webapp.campaigns.progress import reader

    return reader().chosen_tier_ids(campaign.id)


@manage.route("/campaigns/<slug>/tiers", methods=["POST"])
@login_required
def add_tier(slug: str):
    campaign = _editable_campaign(slug)
    form = TierForm(currency=campaign.currency)
    if form.validate_on_submit():
        try:
            outcome = services.add_tier(campaign, current_user, _tier_details(form))
        except DomainError as exc:
            form.title.errors.append(str(exc))
        else:
            db.session.commit()
            _flash_outcome(outcome if isinstance(outcome, str) else None, _("Reward tier added."))
            return redirect(url_for("manage.edit_campaign", slug=campaign.slug) + "#tiers")
    return render_template("campaigns/tier_form.html", form=form, campaign=campaign, tier=None), 400


def _tier_details(form: TierForm) -> services.TierDetails:
    return services.TierDetails(title=form.title.data, description=form.description.data or "",
                                minimum=form.minimum.money, quantity_limit=form.quantity_limit.data,
                                delivery_month=form.delivery_month.data)


def _tier(campaign: Campaign, tier_id: int) -> RewardTier:
    tier = db.session.get(RewardTier, tier_id)
    if tier is None or tier.campaign_id != campaign.id:
        abort(404)
    return tier


@manage.route("/campaigns/<slug>/tiers/<int:tier_id>", methods=["GET", "POST"])
@login_required
def edit_tier(slug: str, tier_id: int):
    campaign = _editable_campaign(slug)
    tier = _tier(campaign, tier_id)
    shown = _working_tier(campaign, tier)
    form = TierForm(obj=shown, currency=campaign.currency)
    if request.method == "GET":
        form.minimum.data = shown.minimum
    if form.validate_on_submit():
        try:
            outcome = services.update_tier(tier, current_user, _tier_details(form))
        except DomainError as exc:
            form.title.errors.append(str(exc))
        else:
            db.session.commit()
            _flash_outcome(outcome, _("Reward tier saved."))
            return redirect(url_for("manage.edit_campaign", slug=campaign.slug) + "#tiers")
    return render_template("campaigns/tier_form.html", form=form, campaign=campaign, tier=tier), \
        400 if form.errors else 200


def _working_tier(campaign: Campaign, tier: RewardTier):
    """The tier as the organizers last proposed it (once approved), else as it is."""
    if campaign.status not in revisions.REVIEWED:
        return tier
    for data in revisions.working_copy(campaign)["tiers"]:
        if data["id"] == tier.id:
            month = data["delivery_month"]
            return SimpleNamespace(title=data["title"], description=data["description"],
                                   minimum=Money(data["minimum_amount"], campaign.currency),
                                   quantity_limit=data["quantity_limit"],
                                   delivery_month=date.fromisoformat(month) if month else None)
    return tier


@manage.route("/campaigns/<slug>/budget", methods=["POST"])
@login_required
def add_budget_line(slug: str):
    campaign = _editable_campaign(slug)
    form = BudgetLineForm(currency=campaign.currency)
    if form.validate():
        try:
            budget.add_line(campaign, current_user, budget.LineDetails(
                title=form.title.data, amount=form.amount.money, required=form.required.data == "yes"))
            db.session.commit()
        except DomainError as exc:
            return _conflict(exc)
        flash(_("Budget line added."), "success")
        return redirect(url_for("manage.edit_campaign", slug=campaign.slug) + "#budget")
    return _edit_page(campaign, _edit_form(campaign), budget_form=form), 400


@manage.route("/campaigns/<slug>/budget/<int:line_id>/delete", methods=["POST"])
@login_required
def delete_budget_line(slug: str, line_id: int):
    campaign = _editable_campaign(slug)
    line = db.session.get(BudgetLine, line_id)
    if line is None or line.campaign_id != campaign.id:
        abort(404)
    try:
        budget.remove_line(line, current_user)
        db.session.commit()
    except DomainError as exc:
        return _conflict(exc)
    flash(_("Budget line removed."), "success")
    return redirect(url_for("manage.edit_campaign", slug=campaign.slug) + "#budget")


@manage.route("/campaigns/<slug>/tiers/<int:tier_id>/delete", methods=["POST"])
@login_required
def delete_tier(slug: str, tier_id: int):
    campaign = _editable_campaign(slug)
    tier = _tier(campaign, tier_id)
    try:
        outcome = services.delete_tier(tier, current_user)
    except DomainError as exc:
        flash(str(exc), "error")
        return redirect(url_for("manage.edit_campaign", slug=campaign.slug)), 303
    db.session.commit()
    _flash_outcome(outcome if outcome != revisions.APPLIED else None, _("Reward tier removed."))
    return redirect(url_for("manage.edit_campaign", slug=campaign.slug) + "#tiers")



@manage.route("/campaigns/<slug>/submit", methods=["POST"])
@login_required
def submit(slug: str):
    campaign = _editable_campaign(slug)
    try:
        services.submit(campaign, current_user)
    except DomainError as exc:
        return _conflict(exc)
    db.session.commit()
    flash(_("Submitted. A moderator will review your campaign; you will get an email."), "success")
    return redirect(url_for("campaigns.show", slug=campaign.slug))


@manage.route("/campaigns/<slug>/updates", methods=["POST"])
@login_required
def post_update(slug: str):
    campaign = _editable_campaign(slug)
    form = UpdateForm()
    if form.validate_on_submit():
        try:
            services.post_update(campaign, current_user, form.title.data, form.body.data)
        except DomainError as exc:
            return _conflict(exc)
        db.session.commit()
        flash(_("Update posted."), "success")
        return redirect(url_for("campaigns.show", slug=campaign.slug) + "#updates")
    # Refused: back to the campaign's editing page, where the form lives, with the errors beside the fields.
    return _edit_page(campaign, _edit_form(campaign), update_form=form), 400


@manage.route("/campaigns/<slug>/revisions/<int:revision_id>", endpoint="revision")
@login_required
def show_revision(slug: str, revision_id: int):
    """One revision of the history, with its diff: for the campaign's editors and the moderators."""
    campaign = services.campaign_by_slug(slug)
    if campaign is None:
        abort(404)
    if not (organizations.can_edit(current_user, campaign.organization_id) or current_user.is_moderator):
        abort(403)
    found = revisions.revision_of(revision_id)
    if found is None or found.campaign_id != campaign.id:
        abort(404)
    return render_template("campaigns/revision.html", campaign=campaign, revision=found, diff=_diff(found),
                           form=None, may_decide=False, history=revisions.history(campaign),
                           link=lambda r: url_for("manage.revision", slug=campaign.slug, revision_id=r.id))


@manage.route("/campaigns/<slug>/revision/withdraw", methods=["POST"])
@login_required
def withdraw_revision(slug: str):
    campaign = _editable_campaign(slug)
    try:
        revisions.withdraw(campaign, current_user)
    except DomainError as exc:
        return _conflict(exc)
    db.session.commit()
    flash(_("Your changes are withdrawn. The campaign keeps its approved version."), "info")
    return redirect(url_for("manage.edit_campaign", slug=campaign.slug))


# -- moderation ---------------------------------------------------------------------------------
@moderation.route("/")
@role_required(Role.MODERATOR)
def queue():
    return render_template("moderation/queue.html", campaigns=services.moderation_queue(),
                           revisions=revisions.pending_queue())


@moderation.route("/revisions/<int:revision_id>", methods=["GET", "POST"], endpoint="revision")
@role_required(Role.MODERATOR)
def review_revision(revision_id: int):
    found = revisions.revision_of(revision_id)
    if found is None:
        abort(404)
    form = RevisionDecisionForm()
    if request.method == "GET":
        form.version.data = found.version
    status = 200
    if form.validate_on_submit():
        decision = request.form.get("decision")
        if decision not in ("approve", "refuse"):
            abort(400, _("Choose to approve or to refuse."))
        try:
            revisions.decide(found, current_user, approve=decision == "approve", version=form.version.data,
                             reason=form.reason.data or "")
        except PermissionDenied as exc:
            db.session.rollback()
            return render_template("errors.html", code=403, message=str(exc)), 403
        except revisions.RevisionConflict as exc:
            db.session.rollback()
            form.reason.errors.append(str(exc))
            status = 409
        except DomainError as exc:
            db.session.rollback()
            form.reason.errors.append(str(exc))
            status = 400
        else:
            db.session.commit()
            flash(_("Approved: the changes are public.") if decision == "approve"
                  else _("Refused: the organizer has been told why."), "success")
            return redirect(url_for("moderation.queue"))
        found = revisions.revision_of(revision_id) or found
    elif form.errors:
        status = 400
    return render_template("campaigns/revision.html", campaign=found.campaign, revision=found, diff=_diff(found),
                           form=form, may_decide=revisions.may_decide(current_user, found),
                           history=revisions.history(found.campaign),
                           link=lambda r: url_for("moderation.revision", revision_id=r.id)), status


def _submitted(slug: str) -> Campaign:
    campaign = services.campaign_by_slug(slug)
    if campaign is None:
        abort(404)
    return campaign


@moderation.route("/campaigns/<slug>", methods=["GET", "POST"])
@role_required(Role.MODERATOR)
def review(slug: str):
    campaign = _submitted(slug)
    form = ReviewForm()
    status = 200
    if form.validate_on_submit():
        decision = request.form.get("decision")
        try:
            if decision == "approve":
                services.approve(campaign, current_user)
                message = _("Approved: “%(title)s” is live.", title=campaign.title) \
                    if campaign.status == CampaignStatus.LIVE else _("Approved.")
            elif decision == "changes":
                services.request_changes(campaign, current_user, form.reason.data)
                message = _("The organizer has been asked for changes.")
            else:
                abort(400, _("Choose to approve or to ask for changes."))
        except PermissionDenied:
            abort(403)
        except InvalidTransition:
            db.session.rollback()
            form.reason.errors.append(_("This campaign is no longer waiting for review (%(status)s).",
                                        status=services.status_label(campaign.status)))
            status = 409
        except DomainError as exc:
            db.session.rollback()
            form.reason.errors.append(str(exc))
            status = 400
        else:
            db.session.commit()
            flash(message, "success")
            return redirect(url_for("moderation.queue"))
    elif form.errors:
        status = 400
    return render_template("moderation/review.html", campaign=campaign, form=form,
                           history=services.history(campaign)), status
