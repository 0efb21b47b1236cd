"""Match funds: an institution's money added to citizens' pledges by a rule, never beyond its budget."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select

from webapp.accounts.models import User
from webapp.campaigns.models import Campaign, CampaignStatus
from webapp.clock import utcnow
from webapp.errors import DomainError, PermissionDenied
from webapp.extensions import db
from webapp.ledger import services as ledger
from webapp.money import Money
from webapp.payments import bookkeeping
from webapp.payments.matching.models import Match, MatchApplicationStatus, MatchFund, MatchFundCampaign
from webapp.payments.models import CONFIRMED_STATUSES, Pledge, PledgeStatus


def _codes(text: str) -> set[str]:
    return {c.strip() for c in (text or "").split(",") if c.strip()}


def is_eligible(fund: MatchFund, campaign: Campaign, on: date | None = None) -> bool:
    on = on or utcnow().date()
    return (fund.currency == campaign.currency and fund.starts_on <= on <= fund.ends_on
            and (not fund.categories or campaign.category.value in _codes(fund.categories))
            and (not fund.countries or campaign.country in _codes(fund.countries))
            and (not fund.regions or (campaign.region or "") in _codes(fund.regions))
            and (not fund.funding_models or campaign.funding_model.value in _codes(fund.funding_models)))


def eligibility_problem(fund: MatchFund, campaign: Campaign) -> str | None:
    if fund.currency != campaign.currency:
        return _("This fund matches pledges in %(c)s only.", c=fund.currency)
    if not is_eligible(fund, campaign):
        return _("This campaign does not meet the fund's conditions (period, category, territory or funding model).")
    return None


# -- funds and applications ---------------------------------------------------------------------
@dataclass(frozen=True)
class FundTerms:
    name: str
    institution: str
    budget: Money
    ratio_numerator: int
    ratio_denominator: int
    cap_per_pledge: Money | None
    cap_per_campaign: Money | None
    categories: list[str]
    countries: list[str]
    regions: list[str]
    funding_models: list[str]
    starts_on: date
    ends_on: date


def create_fund(manager: User, terms: FundTerms) -> MatchFund:
    if terms.ends_on < terms.starts_on:
        raise DomainError(_("The end must come after the start."))
    for cap in (terms.cap_per_pledge, terms.cap_per_campaign):
        if cap is not None and cap.currency != terms.budget.currency:
            raise DomainError(_("Caps are in the fund's currency."))
    fund = MatchFund(
        name=terms.name.strip(), institution=terms.institution.strip(), manager_id=manager.id,
        budget=terms.budget.amount, currency=terms.budget.currency, ratio_numerator=terms.ratio_numerator,
        ratio_denominator=terms.ratio_denominator,
        cap_per_pledge=terms.cap_per_pledge.amount if terms.cap_per_pledge else None,
        cap_per_campaign=terms.cap_per_campaign.amount if terms.cap_per_campaign else None,
        categories=",".join(terms.categories), countries=",".join(terms.countries), regions=",".join(terms.regions),
        funding_models=",".join(terms.funding_models), starts_on=terms.starts_on, ends_on=terms.ends_on)
    db.session.add(fund)
    db.session.flush()
    return fund


def apply(fund: MatchFund, campaign: Campaign) -> MatchFundCampaign:
    """A campaign asks to be matched (its organizer), or the fund chooses it (status decided by caller)."""
    problem = eligibility_problem(fund, campaign)
    if problem:
        raise DomainError(problem)
    if campaign.status not in (CampaignStatus.APPROVED, CampaignStatus.LIVE, CampaignStatus.SUBMITTED,
                               CampaignStatus.DRAFT, CampaignStatus.CHANGES_REQUESTED):
        raise DomainError(_("This campaign has ended."))
    existing = db.session.scalar(select(MatchFundCampaign).where(
        MatchFundCampaign.fund_id == fund.id, MatchFundCampaign.campaign_id == campaign.id))
    if existing is not None:
        return existing
    row = MatchFundCampaign(fund_id=fund.id, campaign_id=campaign.id, status=MatchApplicationStatus.APPLIED)
    db.session.add(row)
    db.session.flush()
    return row


def decide(row: MatchFundCampaign, accept: bool) -> None:
    row.status = MatchApplicationStatus.ACCEPTED if accept else MatchApplicationStatus.DECLINED


def funds_for(campaign: Campaign) -> list[MatchFund]:
    """Accepted funds that match this campaign today, oldest first."""
    funds = db.session.scalars(
        select(MatchFund).join(MatchFundCampaign, MatchFundCampaign.fund_id == MatchFund.id)
        .where(MatchFundCampaign.campaign_id == campaign.id,
               MatchFundCampaign.status == MatchApplicationStatus.ACCEPTED)
        .order_by(MatchFund.id)).all()
    return [f for f in funds if is_eligible(f, campaign)]


# -- matching pledges ---------------------------------------------------------------------------
def used(fund_id: int, campaign_id: int | None = None) -> int:
    q = select(func.coalesce(func.sum(Match.amount), 0)).where(Match.fund_id == fund_id)
    if campaign_id is not None:
        q = q.where(Match.campaign_id == campaign_id)
    return int(db.session.scalar(q) or 0)


#: the ledger kind of a share of a match fund's budget assigned to another account (a pooled fund)
ASSIGNED_KIND = "match_assigned"


def assigned(fund_id: int) -> int:
    """What the fund's manager assigned away from its budget (to pooled funds), read from the ledger."""
    return int(db.session.scalar(select(func.coalesce(func.sum(ledger.LedgerEntry.amount), 0)).where(
        ledger.LedgerEntry.kind == ASSIGNED_KIND, ledger.LedgerEntry.debit_account == ledger.fund_account(fund_id)))
        or 0)


def remaining(fund: MatchFund) -> Money:
    return Money(fund.budget - used(fund.id) - assigned(fund.id), fund.currency)


def assign_budget(fund: MatchFund, actor: User, account: str, amount: Money, memo: str) -> ledger.LedgerEntry:
    """The fund's manager (or an admin) assigns part of its budget to an account (a pooled fund's): one entry,
    match fund → that account, never beyond what the budget has left, in the fund's currency (no conversion:
    a match fund matches in its own currency only). The fund's row is locked, as when it matches a pledge."""
    if not (actor.is_admin or fund.manager_id == actor.id):
        raise PermissionDenied(_("Only the match fund's manager assigns its budget."))
    if amount.currency != fund.currency:
        raise DomainError(_("This match fund is in %(c)s: it can only be assigned to a fund in %(c)s.",
                            c=fund.currency))
    if amount.amount <= 0:
        raise DomainError(_("The amount must be greater than zero."))
    if not fund.starts_on <= utcnow().date() <= fund.ends_on:
        raise DomainError(_("This match fund is not open today (%(start)s to %(end)s).",
                            start=fund.starts_on.isoformat(), end=fund.ends_on.isoformat()))
    locked = db.session.scalar(select(MatchFund).where(MatchFund.id == fund.id).with_for_update())
    left = remaining(locked)
    if amount > left:
        raise DomainError(_("This match fund has %(left)s left to commit; it cannot assign more.",
                            left=left.format()))
    n = db.session.scalar(select(func.count()).select_from(ledger.LedgerEntry).where(
        ledger.LedgerEntry.kind == ASSIGNED_KIND, ledger.LedgerEntry.debit_account == ledger.fund_account(fund.id)))
    return ledger.book(key=f"{ASSIGNED_KIND}:{fund.id}:{n + 1}", kind=ASSIGNED_KIND,
                       debit=ledger.fund_account(fund.id), credit=account, money=amount, cause=f"fund:{fund.id}",
                       memo=memo[:200])


def rule_amount(fund: MatchFund, pledged: int) -> int:
    amount = pledged * fund.ratio_numerator // fund.ratio_denominator
    if fund.cap_per_pledge is not None:
        amount = min(amount, fund.cap_per_pledge)
    return amount


#: db.session.info key of what a collection batch read ahead (webapp.payments.batches.collect): the
#: campaign, the batch's pledge ids, those already matched, and whether the campaign has any fund
MATCH_HINT = "harambee.match_hint"


def book_match(pledge: Pledge, known_unmatched: bool = False) -> Match | None:
    """Match a newly confirmed pledge, in its transaction; the fund is locked so it is never overdrawn."""
    if pledge.status not in CONFIRMED_STATUSES:
        return None
    if not known_unmatched:
        existing = db.session.scalar(select(Match).where(Match.pledge_id == pledge.id))
        if existing is not None:
            return existing
    for candidate in funds_for(pledge.campaign):
        # The row lock serializes every matcher of this fund: the sums below are read under it.
        fund = db.session.scalar(select(MatchFund).where(MatchFund.id == candidate.id).with_for_update())
        amount = rule_amount(fund, pledge.amount - pledge.refunded_amount)
        amount = min(amount, remaining(fund).amount)
        if fund.cap_per_campaign is not None:
            amount = min(amount, fund.cap_per_campaign - used(fund.id, pledge.campaign_id))
        if amount > 0:
            match = Match(fund_id=fund.id, pledge_id=pledge.id, campaign_id=pledge.campaign_id, amount=amount,
                          original_amount=amount)
            db.session.add(match)
            db.session.flush()
            if pledge.status == PledgeStatus.PAID:
                book_match_entry(match, pledge)
            return match
    return None


def _pledge_account(pledge: Pledge) -> str:
    """The campaign's account, or its pooled fund's when it is a fund's giving campaign."""
    return bookkeeping.pledge_account(pledge.campaign)


def book_match_entry(match: Match, pledge: Pledge) -> None:
    """Once the pledge is charged, the institution owes its match to the campaign."""
    ledger.book(key=f"match:pledge:{pledge.id}", kind="match", debit=ledger.fund_account(match.fund_id),
                credit=_pledge_account(pledge), money=Money(match.amount, pledge.currency),
                cause=f"fund:{match.fund_id}", campaign_id=pledge.campaign_id,
                memo=f"Match by {match.fund.institution}")


def pledge_charged(pledge: Pledge) -> None:
    hint = db.session.info.get(MATCH_HINT)
    if hint is not None and hint["campaign_id"] == pledge.campaign_id and pledge.id in hint["pledge_ids"] \
            and pledge.id not in hint["matched"] and not hint["has_funds"]:
        return  # read for the whole batch: no match, and no fund that could make one
    # One statement for the usual answer (no match, no fund accepted: nothing to do); funds_for's own
    # conditions, before its eligibility rules, so no fund it would return is missed.
    match_id, any_fund = db.session.execute(select(
        select(Match.id).where(Match.pledge_id == pledge.id).scalar_subquery(),
        select(MatchFundCampaign.fund_id).where(MatchFundCampaign.campaign_id == pledge.campaign_id,
                                                MatchFundCampaign.status == MatchApplicationStatus.ACCEPTED)
        .limit(1).exists())).one()
    if match_id is None and not any_fund:
        return
    match = db.session.get(Match, match_id) if match_id is not None else None
    if match is None:
        match = book_match(pledge, known_unmatched=True)
    elif match.amount > 0:
        book_match_entry(match, pledge)


def give_back(pledge: Pledge) -> None:
    """A refunded, lapsed, cancelled or released pledge gives its match back, in full or in proportion."""
    match = db.session.scalar(select(Match).where(Match.pledge_id == pledge.id).with_for_update())
    if match is None:
        return
    counts = pledge.status in CONFIRMED_STATUSES
    target = min(match.amount, rule_amount(match.fund, pledge.amount - pledge.refunded_amount)) if counts else 0
    returned = match.amount - target
    if returned <= 0:
        return
    booked = db.session.scalar(select(func.count()).select_from(ledger.LedgerEntry).where(
        ledger.LedgerEntry.key == f"match:pledge:{pledge.id}"))
    if booked:
        ledger.book(key=f"match_return:pledge:{pledge.id}:{target}", kind="match_return",
                    debit=_pledge_account(pledge), credit=ledger.fund_account(match.fund_id),
                    money=Money(returned, pledge.currency), cause=f"fund:{match.fund_id}",
                    campaign_id=pledge.campaign_id, memo=f"Match given back to {match.fund.institution}")
    match.amount = target


# -- reading ------------------------------------------------------------------------------------
def offers_for(campaign: Campaign) -> list[tuple[MatchFund, Money]]:
    """The funds matching this campaign and what each still has, for the campaign page."""
    return [(fund, remaining(fund)) for fund in funds_for(campaign)]


def statement_csv(fund: MatchFund) -> str:
    """One row per matched pledge. A pledge is named by its row number in this fund's statement (the order
    of its matches, which are never deleted), never by its reference: the funder gets nothing that opens
    a receipt or tells who the backer is (issue 9)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["date", "campaign", "row", "pledge_status", "pledged", "matched_first",
                     "matched_now", "currency"])
    rows = db.session.execute(
        select(Match, Pledge, Campaign.slug).join(Pledge, Pledge.id == Match.pledge_id)
        .join(Campaign, Campaign.id == Match.campaign_id).where(Match.fund_id == fund.id).order_by(Match.id))
    exp = Money.zero(fund.currency)
    for number, (match, pledge, slug) in enumerate(rows, start=1):
        writer.writerow([match.created_at.date().isoformat(), slug, number, pledge.status.value,
                         Money(pledge.amount, fund.currency).input_value(),
                         Money(match.original_amount, fund.currency).input_value(),
                         Money(match.amount, fund.currency).input_value(), exp.currency])
    return out.getvalue()
