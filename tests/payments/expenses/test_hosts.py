"""Hosts: admins grant the role; an organization chooses a route its country allows; the host's members accept it."""
from __future__ import annotations

import pytest

from tests.factories import HostProfileFactory, OrganizationFactory, UserFactory
from webapp.errors import DomainError, PermissionDenied
from webapp.payments.hosts import services as hosts
from webapp.payments.hosts.models import PayoutRouteKind, RouteStatus

TERMS = hosts.HostTerms(countries=["bj", "MA"], currencies=["xof", "MAD"], fee_basis_points=150,
                        methods=["bank_transfer", "mobile_money"])


def test_only_admins_grant_the_host_role(app):
    org = OrganizationFactory(country="BJ")
    with pytest.raises(PermissionDenied):
        hosts.grant_host_role(org, UserFactory(), TERMS)
    profile = hosts.grant_host_role(org, UserFactory(admin=True), TERMS)
    assert (profile.countries, profile.currencies, profile.fee_basis_points) == (["BJ", "MA"], ["MAD", "XOF"], 150)


@pytest.mark.parametrize("change", [dict(countries=["Benin"]), dict(currencies=["FCFA"]), dict(fee_basis_points=9000),
                                    dict(methods=["carrier pigeon"])])
def test_host_terms_are_checked(app, change):
    with pytest.raises(DomainError):
        hosts.grant_host_role(OrganizationFactory(), UserFactory(admin=True), hosts.HostTerms(**{**TERMS.__dict__, **change}))


def test_a_benin_organization_cannot_take_connect_and_is_offered_the_hosts_that_serve_it(app):
    owner = UserFactory()
    org = OrganizationFactory(country="BJ", owner=owner)
    serving = HostProfileFactory()
    HostProfileFactory(countries=["SN"], currencies=["XOF"])
    HostProfileFactory(countries=["BJ"], currencies=["EUR"])
    with pytest.raises(hosts.RouteRefused, match="host"):
        hosts.choose_route(org, owner, PayoutRouteKind.CONNECT)
    assert hosts.hosts_serving(org) == [serving]
    route = hosts.choose_route(org, owner, PayoutRouteKind.HOST, serving)
    assert route.status == RouteStatus.REQUESTED and hosts.host_for(org) is None


def test_a_french_organization_takes_connect_at_once(app):
    owner = UserFactory()
    org = OrganizationFactory(country="FR", owner=owner)
    assert hosts.choose_route(org, owner, PayoutRouteKind.CONNECT).status == RouteStatus.ACCEPTED


def test_a_host_that_does_not_serve_the_country_is_refused(app):
    owner = UserFactory()
    org = OrganizationFactory(country="KE", owner=owner)
    with pytest.raises(hosts.RouteRefused):
        hosts.choose_route(org, owner, PayoutRouteKind.HOST, HostProfileFactory())


def test_only_the_hosts_members_accept_an_organization(app):
    owner, host_member = UserFactory(), UserFactory()
    org = OrganizationFactory(country="BJ", owner=owner)
    host = HostProfileFactory(organization=OrganizationFactory(country="BJ", owner=host_member))
    route = hosts.choose_route(org, owner, PayoutRouteKind.HOST, host)
    for user in (owner, UserFactory(admin=True), UserFactory()):
        with pytest.raises(PermissionDenied):
            hosts.decide_route(route, user, True)
    hosts.decide_route(route, host_member, True)
    assert hosts.host_for(org) == host
    with pytest.raises(DomainError):
        hosts.decide_route(route, host_member, False)


def test_only_the_organizations_members_choose_its_route(app):
    org = OrganizationFactory(country="BJ")
    with pytest.raises(PermissionDenied):
        hosts.choose_route(org, UserFactory(), PayoutRouteKind.HOST, HostProfileFactory())


def test_the_route_cannot_change_while_the_host_holds_money(app):
    from tests.payments.expenses.helpers import world

    w = world(route="host")
    other = HostProfileFactory()
    with pytest.raises(hosts.RouteRefused, match="holds"):
        hosts.choose_route(w.org, w.owner, PayoutRouteKind.HOST, other)


def test_the_dashboard_lists_what_the_host_holds_for_each_organization(app):
    from tests.factories import PayoutRouteFactory
    from tests.payments.expenses.helpers import world
    from webapp.money import Money

    w = world(route="host", raised=1_000_000)
    empty = OrganizationFactory(country="MA", name="Zzz cooperative")
    PayoutRouteFactory(organization=empty, host=w.host)
    other_host = HostProfileFactory()  # its holdings are not this host's
    from webapp.ledger import services as ledger

    ledger.book(key="other", kind="host_hold", debit="campaign:999", credit=hosts.holding_account(other_host.id, w.org.id),
                money=Money(5, "XOF"), cause="x")
    assert hosts.held_organizations(w.host) == [(w.org, [Money(1_000_000, "XOF")]), (empty, [])]
