"""Hosts: granting the role, choosing and accepting payout routes, and holding a campaign's money for its host.

A host-route campaign's money, once the campaign has succeeded and the hold is over, moves in the
ledger from the campaign's account to the host's holding account for that organization (each entry
carries the campaign's id). The platform then pays the host by bank transfer, outside the processor;
that transfer is the platform's treasury, not a movement between the parties, so it is not booked
here (README, "The host route"). Each expense the host pays leaves the holding account (payee, fee).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from babel.numbers import get_territory_currencies
from flask_babel import gettext as _
from sqlalchemy import case, func, select

from webapp.accounts.models import User
from webapp.campaigns.models import Campaign
from webapp.clock import utcnow
from webapp.errors import DomainError, PermissionDenied
from webapp.extensions import db
from webapp.ledger import services as ledger
from webapp.ledger.models import LedgerEntry
from webapp.money import Money, is_known_currency
from webapp.organizations import services as organizations
from webapp.organizations.models import Organization
from webapp.payments.expenses.models import Expense, ExpenseState
from webapp.payments.hosts.models import HostProfile, PayoutMethod, PayoutRoute, PayoutRouteKind, RouteStatus
from webapp.payments.payouts.countries import connect_supported


class RouteRefused(DomainError):
    """The organization may not take this payout route (its country, the host's countries or currencies)."""


# -- ledger accounts ----------------------------------------------------------------------------
def holding_account(host_id: int, organization_id: int) -> str:
    """What the host holds for one organization (each entry names its campaign)."""
    return f"host:{host_id}:holding:{organization_id}"


def fee_account(host_id: int) -> str:
    return f"host:{host_id}:fees"


# -- the host role ------------------------------------------------------------------------------
@dataclass
class HostTerms:
    countries: list[str]
    currencies: list[str]
    fee_basis_points: int
    methods: list[str]


def grant_host_role(org: Organization, admin: User, terms: HostTerms) -> HostProfile:
    """Admins make an organization a host (or change its terms)."""
    if not admin.is_admin:
        raise PermissionDenied(_("Only admins grant the host role."))
    countries = sorted({c.strip().upper() for c in terms.countries if c.strip()})
    currencies = sorted({c.strip().upper() for c in terms.currencies if c.strip()})
    if not countries or any(len(c) != 2 or not c.isalpha() for c in countries):
        raise DomainError(_("List the countries the host serves as two-letter codes (BJ, MA)."))
    if not currencies or any(not is_known_currency(c) for c in currencies):
        raise DomainError(_("List the currencies the host pays in as three-letter codes (XOF, MAD)."))
    if not 0 <= terms.fee_basis_points <= 5000:
        raise DomainError(_("The host's fee is between 0 and 5000 basis points (50 %)."))
    methods = [m for m in terms.methods if m in {p.value for p in PayoutMethod}]
    if not methods:
        raise DomainError(_("Choose at least one way the host pays: bank transfer or mobile money."))
    profile = profile_of(org)
    if profile is None:
        profile = HostProfile(organization_id=org.id, granted_by_id=admin.id)
        db.session.add(profile)
    profile.countries, profile.currencies, profile.methods = countries, currencies, methods
    profile.fee_basis_points, profile.active, profile.granted_at = terms.fee_basis_points, True, utcnow()
    db.session.flush()
    return profile


def profile_of(org: Organization | int) -> HostProfile | None:
    org_id = org if isinstance(org, int) else org.id
    return db.session.scalar(select(HostProfile).where(HostProfile.organization_id == org_id))


def is_host_member(user: User | None, host: HostProfile | None) -> bool:
    """The host organization's owners and editors act for the host."""
    return host is not None and organizations.can_edit(user, host.organization_id)


def hosts_of(user: User) -> list[HostProfile]:
    ids = [org.id for org, _role in organizations.organizations_of(user)]
    if not ids:
        return []
    return list(db.session.scalars(select(HostProfile).where(HostProfile.organization_id.in_(ids))))


def all_hosts() -> list[HostProfile]:
    return list(db.session.scalars(select(HostProfile).order_by(HostProfile.id)))


# -- routes -------------------------------------------------------------------------------------
def route_of(org: Organization | int) -> PayoutRoute | None:
    org_id = org if isinstance(org, int) else org.id
    return db.session.scalar(select(PayoutRoute).where(PayoutRoute.organization_id == org_id))


def host_for(org: Organization | int) -> HostProfile | None:
    """The host that holds the organization's money: its accepted host route's."""
    route = route_of(org)
    if route is None or route.kind != PayoutRouteKind.HOST or not route.active:
        return None
    return route.host


def local_currencies(country: str) -> list[str]:
    try:
        return list(get_territory_currencies(country.upper(), date.today(), tender=True, non_tender=False))
    except (KeyError, ValueError):
        return []


def hosts_serving(org: Organization) -> list[HostProfile]:
    """Hosts that serve the organization's country and its currency."""
    currencies = local_currencies(org.country)
    return [h for h in db.session.scalars(select(HostProfile).where(HostProfile.active.is_(True))
                                          .where(HostProfile.organization_id != org.id).order_by(HostProfile.id))
            if org.country in h.countries and any(c in h.currencies for c in currencies)]


def choose_route(org: Organization, actor: User, kind: PayoutRouteKind, host: HostProfile | None = None) -> PayoutRoute:
    """An owner or editor chooses how the organization is paid; a host route waits for the host's members."""
    organizations.require_editor(actor, org)
    if kind == PayoutRouteKind.CONNECT:
        if not connect_supported(org.country):
            raise RouteRefused(_("Stripe cannot pay organizations in this country: choose a host that serves it."))
        host = None
    else:
        if host is None or host not in hosts_serving(org):
            raise RouteRefused(_("This host does not serve your organization's country and currency."))
    route = route_of(org)
    current = host_for(org)
    if current is not None and (host is None or host.id != current.id) and holdings_of(current, org.id):
        raise RouteRefused(_("Your host still holds money for you: it must pay it out before you change route."))
    if route is None:
        route = PayoutRoute(organization_id=org.id, kind=kind, chosen_by_id=actor.id)
        db.session.add(route)
    elif route.kind == kind and route.host_id == (host.id if host else None) and route.status != RouteStatus.REFUSED:
        return route
    route.kind, route.host_id, route.chosen_by_id, route.chosen_at = kind, host.id if host else None, actor.id, utcnow()
    route.status = RouteStatus.ACCEPTED if kind == PayoutRouteKind.CONNECT else RouteStatus.REQUESTED
    route.decided_by_id, route.decided_at = None, None
    db.session.flush()
    return route


def decide_route(route: PayoutRoute, actor: User, accept: bool) -> None:
    """The host's members accept (or refuse) to hold an organization's money."""
    if route.kind != PayoutRouteKind.HOST or not is_host_member(actor, route.host):
        raise PermissionDenied(_("Only the host's members decide whom it holds money for."))
    if route.status != RouteStatus.REQUESTED:
        raise DomainError(_("This request has already been decided."))
    route.status = RouteStatus.ACCEPTED if accept else RouteStatus.REFUSED
    route.decided_by_id, route.decided_at = actor.id, utcnow()
    db.session.flush()


def requests_for(host: HostProfile) -> list[PayoutRoute]:
    return list(db.session.scalars(select(PayoutRoute).where(PayoutRoute.host_id == host.id)
                                   .order_by(PayoutRoute.status, PayoutRoute.chosen_at)))


# -- holding money ------------------------------------------------------------------------------
def hold_for_host(campaign: Campaign, amount: Money, now: datetime) -> bool:
    """Book what a successful campaign passes on to its host. False while no host has accepted the organization."""
    host = host_for(campaign.organization_id)
    if host is None:
        return False
    ledger.book(key=f"host_hold:campaign:{campaign.id}", kind="host_hold",
                debit=ledger.campaign_account(campaign.id), credit=holding_account(host.id, campaign.organization_id),
                money=amount, cause=f"campaign:{campaign.id}", campaign_id=campaign.id, occurred_at=now,
                memo="Held by the host for the organization")
    return True


def settle_with_host(campaign_id: int, cause: str) -> None:
    """After a refund, a dispute or a won dispute moved money in or out of a campaign whose money is with its host.

    A shortfall (the campaign's account below zero) is drawn back from the host's holding, as far as no approved
    expense awaits that money; a surplus (a dispute won) goes back to the host. Keyed by `cause`: once per movement.
    """
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or db.session.scalar(select(LedgerEntry.id).where(
            LedgerEntry.key == f"host_hold:campaign:{campaign_id}")) is None:
        return  # the money has not gone to a host
    host = host_for(campaign.organization_id)
    if host is None:
        return
    account = holding_account(host.id, campaign.organization_id)
    balance = ledger.balance(ledger.campaign_account(campaign_id), campaign.currency)
    if balance.amount > 0:
        ledger.book(key=f"host_hold:{cause}", kind="host_hold", debit=ledger.campaign_account(campaign_id),
                    credit=account, money=balance, cause=f"campaign:{campaign_id}", campaign_id=campaign_id,
                    memo="Back with the host for the organization")
        return
    awaited = int(db.session.scalar(select(func.coalesce(func.sum(Expense.amount), 0)).where(
        Expense.campaign_id == campaign_id, Expense.state == ExpenseState.APPROVED)) or 0)  # PostgreSQL: a Decimal
    awaited += fee_for(host, Money(awaited, campaign.currency)).amount
    free = held_for_campaign(account, campaign).amount - awaited
    amount = min(-balance.amount, max(0, free))
    if amount > 0:
        ledger.book(key=f"host_hold_return:{cause}", kind="host_hold_return", debit=account,
                    credit=ledger.campaign_account(campaign_id), money=Money(amount, campaign.currency),
                    cause=f"campaign:{campaign_id}", campaign_id=campaign_id,
                    memo="Drawn back from the host: refund or dispute")


def held_for_campaign(account: str, campaign: Campaign) -> Money:
    """What `account` holds of this campaign's money: the sum of its entries that name the campaign."""
    value = db.session.scalar(
        select(func.coalesce(func.sum(case((LedgerEntry.credit_account == account, LedgerEntry.amount),
                                           else_=-LedgerEntry.amount)), 0))
        .where((LedgerEntry.credit_account == account) | (LedgerEntry.debit_account == account),
               LedgerEntry.campaign_id == campaign.id, LedgerEntry.currency == campaign.currency))
    return Money(int(value or 0), campaign.currency)


def holdings_of(host: HostProfile, organization_id: int) -> list[Money]:
    """What the host holds for the organization, per currency, non-zero only (ledger sums)."""
    account = holding_account(host.id, organization_id)
    rows = db.session.execute(
        select(LedgerEntry.currency,
               func.sum(case((LedgerEntry.credit_account == account, LedgerEntry.amount), else_=-LedgerEntry.amount)))
        .where((LedgerEntry.credit_account == account) | (LedgerEntry.debit_account == account))
        .group_by(LedgerEntry.currency).order_by(LedgerEntry.currency))
    return [Money(int(total), currency) for currency, total in rows if total]


def held_organizations(host: HostProfile) -> list[tuple[Organization, list[Money]]]:
    """The organizations the host holds money for, each with what it holds per currency (three queries in all)."""
    orgs = list(db.session.scalars(select(Organization).join(PayoutRoute, PayoutRoute.organization_id == Organization.id)
                                   .where(PayoutRoute.host_id == host.id, PayoutRoute.status == RouteStatus.ACCEPTED)
                                   .order_by(Organization.name)))
    prefix = holding_account(host.id, 0)[:-1]  # "host:<id>:holding:"
    totals: dict[tuple[str, str], int] = {}
    for column, sign in ((LedgerEntry.credit_account, 1), (LedgerEntry.debit_account, -1)):
        for account, currency, amount in db.session.execute(
                select(column, LedgerEntry.currency, func.sum(LedgerEntry.amount))
                .where(column.startswith(prefix)).group_by(column, LedgerEntry.currency)):
            totals[(account, currency)] = totals.get((account, currency), 0) + sign * int(amount)
    return [(org, [Money(amount, currency) for (account, currency), amount in sorted(totals.items())
                   if account == holding_account(host.id, org.id) and amount]) for org in orgs]


def fee_for(host: HostProfile, amount: Money) -> Money:
    """The host's fee on a payment, rounded half up to the currency's minor unit."""
    return Money((amount.amount * host.fee_basis_points + 5000) // 10000, amount.currency)
