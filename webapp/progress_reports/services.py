"""Posting and reading progress reports, and backers' opt-outs from them. They flush, never commit."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from webapp.accounts.models import User
from webapp.campaigns.models import Campaign, CampaignStatus, CampaignTransition
from webapp.clock import utcnow
from webapp.errors import DomainError, TokenInvalid
from webapp.extensions import db
from webapp.markup import render_markdown
from webapp.organizations import services as organizations
from webapp.payments.expenses.models import Expense, ExpenseState
from webapp.payments.expenses.public import PublicExpense, public_expense
from webapp.progress_reports.models import (
    ProgressReport, ProgressReportPhoto, ReportUnsubscribe, progress_report_expenses,
)

#: Settings and their defaults (config may set any of them).
DEFAULTS = {
    "PROGRESS_REPORT_MAX_PHOTOS": 4,
    #: a campaign that succeeded longer ago than this without a report says so on its page
    "PROGRESS_REPORT_OVERDUE_DAYS": 90,
    "PROGRESS_REPORT_BATCH_SIZE": 500,
    #: a delivery claimed longer ago than this by a worker that never finished is taken back
    "PROGRESS_REPORT_CLAIM_LEASE_SECONDS": 600,
    "PROGRESS_REPORT_MAX_ATTEMPTS": 5,
}

#: Reports tell what was done with money raised: a live campaign (keep-it-all spends as it goes) or a succeeded one.
REPORTABLE = frozenset({CampaignStatus.LIVE, CampaignStatus.SUCCEEDED})


def setting(name: str) -> int:
    return int(current_app.config.get(name, DEFAULTS[name]))


def can_post(user: User | None, campaign: Campaign) -> bool:
    return campaign.status in REPORTABLE and organizations.can_edit(user, campaign.organization_id)


def post_report(campaign: Campaign, actor: User, title: str, body_md: str, photo_keys: list[str],
                expense_ids: Iterable[int] = ()) -> ProgressReport:
    """A new report, public at once; the emails go out from a job once the caller has committed.

    `expense_ids` must all be linkable (paid expenses of this campaign no earlier report lists)."""
    organizations.require_editor(actor, campaign.organization_id)
    if campaign.status not in REPORTABLE:
        raise DomainError(_("Progress reports can be posted on a live or succeeded campaign."))
    if len(photo_keys) > setting("PROGRESS_REPORT_MAX_PHOTOS"):
        raise DomainError(_("At most %(n)d photos.", n=setting("PROGRESS_REPORT_MAX_PHOTOS")))
    report = ProgressReport(campaign_id=campaign.id, author_id=actor.id, title=title.strip(), body_md=body_md,
                            body_html=render_markdown(body_md),
                            photos=[ProgressReportPhoto(key=key, position=n) for n, key in enumerate(photo_keys)],
                            expenses=expenses_to_link(campaign, expense_ids))
    db.session.add(report)
    db.session.flush()
    return report


# -- the expenses a report tells about -----------------------------------------------------------
def linkable_expenses(campaign: Campaign) -> list[Expense]:
    """The campaign's paid expenses that no report lists yet: what was paid since the last report."""
    listed = select(progress_report_expenses.c.expense_id)
    return list(db.session.scalars(
        select(Expense).where(Expense.campaign_id == campaign.id, Expense.state == ExpenseState.PAID,
                              Expense.id.not_in(listed))
        .options(selectinload(Expense.budget_line)).order_by(Expense.spent_on, Expense.id)))


def not_linkable() -> DomainError:
    return DomainError(_("Only paid expenses of this campaign that no earlier report lists can be linked."))


def expenses_to_link(campaign: Campaign, expense_ids: Iterable[int]) -> list[Expense]:
    """The expenses these ids name, all linkable, or a DomainError: an id of another campaign's expense, of one
    not paid, or of one an earlier report lists is refused, whoever forged it."""
    wanted = set(expense_ids)
    if not wanted:
        return []
    offered = {e.id: e for e in linkable_expenses(campaign)}
    if not wanted <= offered.keys():
        raise not_linkable()
    return [e for e_id, e in offered.items() if e_id in wanted]


def public_expenses_of(report: ProgressReport) -> list[PublicExpense]:
    """What the public reads of the report's expenses (as the transparency page: no receipt, payee or bank)."""
    return [public_expense(e) for e in report.expenses]


def reports_of(campaign: Campaign, limit: int = 20) -> list[ProgressReport]:
    return list(db.session.scalars(
        select(ProgressReport).where(ProgressReport.campaign_id == campaign.id)
        .options(selectinload(ProgressReport.photos))
        .order_by(ProgressReport.created_at.desc(), ProgressReport.id.desc()).limit(limit)))


def report_of(campaign: Campaign, report_id: int) -> ProgressReport | None:
    return db.session.scalar(select(ProgressReport).where(ProgressReport.id == report_id,
                                                          ProgressReport.campaign_id == campaign.id))


def succeeded_on(campaign: Campaign) -> date | None:
    """The day the campaign succeeded: its transition to SUCCEEDED, else its deadline."""
    if campaign.status != CampaignStatus.SUCCEEDED:
        return None
    at = db.session.scalar(select(func.max(CampaignTransition.at)).where(
        CampaignTransition.campaign_id == campaign.id, CampaignTransition.to_status == CampaignStatus.SUCCEEDED))
    return (at or campaign.ends_at).date()


def overdue_since(campaign: Campaign) -> date | None:
    """The success date of a campaign that succeeded more than PROGRESS_REPORT_OVERDUE_DAYS ago and has never
    reported; None otherwise."""
    day = succeeded_on(campaign)
    if day is None or utcnow().date() - day <= timedelta(days=setting("PROGRESS_REPORT_OVERDUE_DAYS")):
        return None
    reported = db.session.scalar(select(ProgressReport.id).where(ProgressReport.campaign_id == campaign.id).limit(1))
    return None if reported else day


# -- opting out ----------------------------------------------------------------------------------
def normalize_email(address: str) -> str:
    return (address or "").strip().lower()


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="progress-report-unsubscribe")


def unsubscribe_token(campaign_id: int, email: str) -> str:
    """A link that stops this campaign's reports to this address; signed, so it needs no sign-in and no storage."""
    return _serializer().dumps({"c": campaign_id, "e": normalize_email(email)})


def read_unsubscribe_token(token: str) -> tuple[Campaign, str]:
    invalid = TokenInvalid(_("This unsubscribe link is not valid."))
    try:
        data = _serializer().loads(token)
        campaign_id, email = int(data["c"]), str(data["e"])
    except (BadSignature, KeyError, TypeError, ValueError, OverflowError):
        raise invalid from None
    campaign = db.session.get(Campaign, campaign_id) if 0 < campaign_id < 2**63 else None
    if campaign is None or not email:
        raise invalid
    return campaign, email


def is_unsubscribed(campaign_id: int, email: str) -> bool:
    return db.session.scalar(select(ReportUnsubscribe.id).where(
        ReportUnsubscribe.campaign_id == campaign_id, ReportUnsubscribe.email == normalize_email(email))) is not None


def unsubscribe(campaign: Campaign, email: str) -> None:
    """No more reports of this campaign to this address; twice is the same as once."""
    db.session.execute(insert_ignoring_duplicates(ReportUnsubscribe).values(
        campaign_id=campaign.id, email=normalize_email(email), at=utcnow()))


def insert_ignoring_duplicates(model):
    """INSERT ... ON CONFLICT DO NOTHING, in the PostgreSQL or SQLite flavour the engine needs."""
    name = db.session.get_bind().dialect.name
    module = {"postgresql": postgresql, "sqlite": sqlite}.get(name)
    if module is None:
        raise RuntimeError(f"progress reports need PostgreSQL or SQLite, not {name}")
    return module.insert(model).on_conflict_do_nothing()
