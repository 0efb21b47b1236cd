"""A campaign's budget lines: writing them with the campaign, checking them against its minimum, reading them.

Lines are written while the campaign is a draft (or sent back for changes) and reviewed with it at
submission. Once a moderator has approved the campaign, its budget is part of what backers were
promised: it no longer changes (revisions.REVIEWED; a change would need a revision of its own).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from webapp.accounts.models import User
from webapp.campaigns.models import BudgetLine, Campaign, CampaignStatus, FundingModel
from webapp.errors import DomainError
from webapp.extensions import db
from webapp.i18n import locale_code
from webapp.money import Money
from webapp.organizations import services as organizations

MAX_LINES = 30
#: the states in which the budget may change
EDITABLE = frozenset({CampaignStatus.DRAFT, CampaignStatus.CHANGES_REQUESTED})


@dataclass
class LineDetails:
    title: str
    amount: Money
    required: bool = True


def lines_of(campaign: Campaign) -> list[BudgetLine]:
    return list(db.session.scalars(select(BudgetLine).where(BudgetLine.campaign_id == campaign.id)
                                   .order_by(BudgetLine.position, BudgetLine.id)))


def _require_editable(campaign: Campaign, actor: User) -> None:
    organizations.require_editor(actor, campaign.organization_id)
    if campaign.status not in EDITABLE:
        raise DomainError(_("The budget was reviewed with the campaign: it can no longer change."))


def add_line(campaign: Campaign, actor: User, details: LineDetails) -> BudgetLine:
    _require_editable(campaign, actor)
    title = details.title.strip()
    if not title:
        raise DomainError(_("Say what the budget line pays for."))
    if details.amount.currency != campaign.currency or details.amount.amount <= 0:
        raise DomainError(_("A budget line's amount is greater than zero, in the campaign's currency."))
    count = db.session.scalar(select(func.count()).select_from(BudgetLine).where(BudgetLine.campaign_id == campaign.id))
    if count >= MAX_LINES:
        raise DomainError(_("A budget has at most %(n)d lines.", n=MAX_LINES))
    line = BudgetLine(campaign_id=campaign.id, title=title[:120], amount=details.amount.amount,
                      required=details.required or campaign.funding_model != FundingModel.MINIMUM_OPTIMUM,
                      position=count)
    db.session.add(line)
    db.session.flush()
    return line


def remove_line(line: BudgetLine, actor: User) -> None:
    _require_editable(line.campaign, actor)
    db.session.delete(line)
    db.session.flush()


def totals(campaign: Campaign) -> tuple[Money, Money]:
    """(required, all): what the lines needed for the minimum add up to, and all of them."""
    required = total = 0
    for line in lines_of(campaign):
        total += line.amount
        required += line.amount if line.required else 0
    return Money(required, campaign.currency), Money(total, campaign.currency)


def problem(campaign: Campaign) -> str | None:
    """Why the budget does not fit the campaign's figures, or None (no budget is no problem)."""
    lines = lines_of(campaign)
    if not lines:
        return None
    required, total = totals(campaign)
    locale = locale_code()
    if campaign.funding_model == FundingModel.MINIMUM_OPTIMUM and campaign.minimum is not None:
        if required != campaign.minimum:
            return _("The lines needed for the minimum add up to %(sum)s, but the minimum is %(minimum)s: "
                     "make them equal.", sum=required.format(locale), minimum=campaign.minimum.format(locale))
    if total > campaign.goal:
        return _("The budget lines add up to %(sum)s, more than the goal of %(goal)s.",
                 sum=total.format(locale), goal=campaign.goal.format(locale))
    return None


def check_before_submitting(campaign: Campaign) -> None:
    message = problem(campaign)
    if message:
        raise DomainError(message)


def chart(campaign: Campaign, lines: list[BudgetLine]) -> list[tuple[BudgetLine, int]]:
    """Each line with its share of the budget in steps of 5 %, for CSS bar classes (no inline style: CSP)."""
    total = sum(line.amount for line in lines) or 1
    return [(line, max(5, round(line.amount * 20 / total) * 5)) for line in lines]
