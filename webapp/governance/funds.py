"""Pooled funds: opening one, the money that comes in (set apart, recurring gifts, match funds), balance, grants.

Services flush; views commit. The fund's money is the ledger account `pooled_fund:<id>`: money comes in
from the organization's account (set apart by the board), from recurring gifts directed to the fund (booked
there by webapp.payments.recurring, refunds and disputes drawn back from it), and from an institution's match
fund assigned to it, and from one-off pledges to its giving campaign (an ongoing campaign whose pledges
webapp.payments books into the fund, `bookkeeping.pledge_account`); it goes out as grants to the proposals a round funds.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from webapp.accounts.models import User
from webapp.campaigns.models import Campaign, CampaignStatus, FundingModel
from webapp.errors import DomainError
from webapp.extensions import db
from webapp.ledger import services as ledger
from webapp.ledger.models import LedgerEntry
from webapp.money import Money
from webapp.organizations import services as organizations
from webapp.organizations.models import Organization
from webapp.payments.matching import services as matching
from webapp.payments.matching.models import MatchFund
from webapp.payments.models import Pledge
from webapp.governance.models import PooledFund


class FundRefused(DomainError):
    """The fund step cannot be taken as asked; the message says why."""


def fund_account(fund_id: int) -> str:
    return ledger.pooled_fund_account(fund_id)


def funds_of(org: Organization) -> list[PooledFund]:
    return list(db.session.scalars(select(PooledFund).where(PooledFund.organization_id == org.id)
                                   .order_by(PooledFund.name)))


def gift_targets(organization_id: int) -> list:
    """The organization's pooled funds, as recurring support lists what a gift may be directed to."""
    from webapp.payments.recurring.services import FundTarget

    return [FundTarget(id=f.id, organization_id=f.organization_id, name=f.name, currency=f.currency)
            for f in db.session.scalars(select(PooledFund).where(PooledFund.organization_id == organization_id)
                                        .order_by(PooledFund.name))]


def open_fund(org: Organization, actor: User, name: str, description: str, currency: str) -> PooledFund:
    organizations.require_editor(actor, org)
    name = (name or "").strip()
    if not name:
        raise FundRefused(_("Give the fund a name."))
    if db.session.scalar(select(PooledFund.id).where(PooledFund.organization_id == org.id, PooledFund.name == name)):
        raise FundRefused(_("A fund of that name already exists."))
    fund = PooledFund(organization_id=org.id, name=name[:120], description=(description or "").strip()[:5000],
                      currency=currency, created_by_id=actor.id)
    db.session.add(fund)
    db.session.flush()
    return fund


def balance(fund: PooledFund) -> Money:
    return ledger.balance(fund_account(fund.id), fund.currency)


def assign(fund: PooledFund, actor: User, amount: Money) -> LedgerEntry:
    """Set part of what the organization holds apart for the fund: one ledger entry, organization → fund."""
    organizations.require_editor(actor, fund.organization_id)
    if amount.currency != fund.currency:
        raise FundRefused(_("The fund holds %(currency)s.", currency=fund.currency))
    if amount.amount <= 0:
        raise FundRefused(_("The amount must be greater than zero."))
    held = ledger.balance(ledger.organization_account(fund.organization_id), fund.currency)
    if amount > held:
        raise FundRefused(_("The organization holds %(held)s in this currency; it cannot set apart more.",
                            held=held.format()))
    db.session.scalar(select(PooledFund.id).where(PooledFund.id == fund.id).with_for_update())  # one at a time
    n = db.session.scalar(select(db.func.count()).select_from(LedgerEntry)
                          .where(LedgerEntry.cause == f"pooled_fund:{fund.id}", LedgerEntry.kind == "pooled_fund_in"))
    return ledger.book(key=f"pooled_fund_in:{fund.id}:{n + 1}", kind="pooled_fund_in",
                       debit=ledger.organization_account(fund.organization_id), credit=fund_account(fund.id),
                       money=amount, cause=f"pooled_fund:{fund.id}", memo=f"Set apart for {fund.name}"[:200])


def giving_campaign(fund: PooledFund) -> Campaign | None:
    """The campaign whose one-off pledges go into the fund, if the board opened one."""
    return db.session.scalar(select(Campaign).where(Campaign.pooled_fund_id == fund.id))


def giving_candidates(fund: PooledFund) -> list[Campaign]:
    """The organization's campaigns that could become the fund's giving campaign: live, ongoing, keep-it-all, in
    the fund's currency, giving to no fund yet."""
    return list(db.session.scalars(select(Campaign).where(
        Campaign.organization_id == fund.organization_id, Campaign.status == CampaignStatus.LIVE,
        Campaign.ongoing.is_(True), Campaign.funding_model == FundingModel.KEEP_IT_ALL,
        Campaign.currency == fund.currency, Campaign.pooled_fund_id.is_(None)).order_by(Campaign.title)))


def set_giving_campaign(fund: PooledFund, actor: User, campaign: Campaign) -> None:
    """The board makes one of its campaigns the fund's giving campaign: from then on its pledges (and their
    matches, and recurring gifts to it) are booked into the fund's account, and nothing is paid out for it.

    Only a campaign whose account never moved: money already booked to it stays the campaign's, and mixing the
    two would pay out or allocate it twice."""
    organizations.require_editor(actor, fund.organization_id)
    if campaign.organization_id != fund.organization_id:
        raise FundRefused(_("Only a campaign of the fund's organization can give to it."))
    if giving_campaign(fund) is not None:
        raise FundRefused(_("This fund already has a giving campaign."))
    if campaign.pooled_fund_id is not None:
        raise FundRefused(_("This campaign already gives to a pooled fund."))
    if not (campaign.ongoing and campaign.funding_model == FundingModel.KEEP_IT_ALL
            and campaign.status == CampaignStatus.LIVE):
        raise FundRefused(_("The giving campaign must be live, ongoing and keep-it-all."))
    if campaign.currency != fund.currency:
        raise FundRefused(_("The fund holds %(currency)s; the campaign must raise the same currency.",
                            currency=fund.currency))
    account = ledger.campaign_account(campaign.id)
    db.session.scalar(select(Campaign.id).where(Campaign.id == campaign.id).with_for_update())
    moved = db.session.scalar(select(LedgerEntry.id).where(
        (LedgerEntry.credit_account == account) | (LedgerEntry.debit_account == account)).limit(1))
    taken = db.session.scalar(select(Pledge.id).where(Pledge.campaign_id == campaign.id).limit(1))
    if moved is not None or taken is not None:
        raise FundRefused(_("This campaign has already received pledges or money: only a campaign that has "
                            "received nothing yet can become the fund's giving campaign."))
    campaign.pooled_fund_id = fund.id
    db.session.flush()


def match_funds_for(fund: PooledFund, actor: User) -> list[MatchFund]:
    """The match funds `actor` manages that could be assigned to this fund (same currency), for its page."""
    if not actor.is_authenticated:
        return []
    return list(db.session.scalars(select(MatchFund).where(MatchFund.manager_id == actor.id,
                                                           MatchFund.currency == fund.currency)
                                   .order_by(MatchFund.name)))


def assign_match(fund: PooledFund, match_fund: MatchFund, actor: User, amount: Money) -> LedgerEntry:
    """An institution's match fund assigned to this pooled fund: booked match fund → pooled fund, within the match
    fund's remaining budget and in its currency (the fund's must be the same: match funds never convert)."""
    if match_fund.currency != fund.currency:
        raise FundRefused(_("This match fund is in %(c)s and the pooled fund in %(d)s: a match fund is assigned "
                            "only to a fund in its own currency.", c=match_fund.currency, d=fund.currency))
    return matching.assign_budget(match_fund, actor, fund_account(fund.id), amount, memo=match_fund.institution)


def entries(fund: PooledFund, limit: int = 200) -> list[LedgerEntry]:
    """What came in and went out of the fund, oldest first, for its page."""
    account = fund_account(fund.id)
    return list(db.session.scalars(
        select(LedgerEntry).where((LedgerEntry.credit_account == account) | (LedgerEntry.debit_account == account))
        .order_by(LedgerEntry.occurred_at, LedgerEntry.id).limit(limit)))
