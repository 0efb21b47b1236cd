"""Who may use each route of pooled funds and rounds: every route and method, every role.

Roles: anonymous; stranger (an account with nothing here); member (an active member of organization A,
on the roll of the round in voting, not yet voted); lapsed (a member of A whose membership lapsed before
voting opened); editor (A's board: its owner); other_editor (the owner of another organization); funder (the
manager of a match fund in A's currency); admin.
Voting links and receipt codes are bearer secrets: whoever holds one may use it, signed in or not.
A route of the blueprint without a row fails here.
"""
from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from flask import url_for

from tests import permission_matrix, worlds
from tests.permission_matrix import LOGIN, OK, Case, outcome
from tests.factories import MatchFundFactory, OrganizationFactory, UserFactory
from tests.governance.helpers import member
from tests.payments.support import live_campaign
from webapp.campaigns.models import FundingModel
from webapp.accounts.models import Role
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.governance import ballots, funds, rounds
from webapp.governance.models import AllocationRule
from webapp.ledger import services as ledger
from webapp.membership.models import MemberState
from webapp.money import Money

ROLES = ("anonymous", "stranger", "member", "lapsed", "editor", "other_editor", "funder", "admin")
BAD, FORBIDDEN, NOT_FOUND, GONE = 400, 403, 404, 410


expect = permission_matrix.expectations(ROLES)


EVERYONE = expect(OK)
BOARD = expect(FORBIDDEN, anonymous=LOGIN, editor=OK)
MEMBERS_AND_BOARD = expect(FORBIDDEN, anonymous=LOGIN, member=OK, editor=OK)
ON_THE_ROLL = expect(FORBIDDEN, anonymous=LOGIN, member=OK)
HIDDEN_DRAFT = expect(NOT_FOUND, editor=OK)


def build_world() -> SimpleNamespace:
    w = SimpleNamespace()
    users = {name: UserFactory(verified=True, email=f"{name.replace('_', '-')}@example.org", name=name.title())
             for name in ROLES if name != "anonymous"}
    users["admin"].role = Role.ADMIN
    users["funder"].role = Role.FUNDER
    w.users = users
    w.org = OrganizationFactory(slug="org-a", owner=users["editor"], currency="XOF")
    OrganizationFactory(slug="org-b", owner=users["other_editor"])
    member(w.org, users["member"])
    w.lapsed = member(w.org, users["lapsed"], state=MemberState.LAPSED)
    voted = UserFactory(verified=True, email="voted@example.org")
    member(w.org, voted)
    owner = users["editor"]
    w.fund = funds.open_fund(w.org, owner, "Caisse commune", "", "XOF")
    w.match_fund = MatchFundFactory(manager_id=users["funder"].id, currency="XOF")
    ledger.book(key="test:dues", kind="recurring_charge", debit=ledger.processor("sandbox"),
                credit=ledger.organization_account(w.org.id), money=Money(2_000_000, "XOF"), cause="test")
    funds.assign(w.fund, owner, Money(1_000_000, "XOF"))
    now = utcnow()

    def new_round(title: str):
        return rounds.create_round(w.fund, owner, rounds.RoundSettings(
            title=title, budget=Money(300_000, "XOF"), rule=AllocationRule.GREEDY,
            proposals_close_at=now + timedelta(days=1), voting_closes_at=now + timedelta(days=7)))

    w.draft = new_round("Brouillon")
    w.proposing = new_round("Propositions")
    rounds.open_proposals(w.proposing, owner)
    rounds.submit_proposal(w.proposing, owner, "Puits", "", Money(100_000, "XOF"))
    w.voting = new_round("Vote")
    rounds.open_proposals(w.voting, owner)
    w.proposal = rounds.submit_proposal(w.voting, owner, "Moulin", "", Money(100_000, "XOF"))
    rounds.open_voting(w.voting, owner)
    w.token = ballots.vote_link(w.voting, rounds.voter_of(w.voting, users["member"])).rsplit("/vote/", 1)[1]
    w.receipt = ballots.cast(w.voting, rounds.voter_of(w.voting, voted), [w.proposal.id])
    # a live, ongoing, keep-it-all campaign the board may make the fund's giving campaign
    w.giving = live_campaign("XOF", FundingModel.KEEP_IT_ALL, organization=w.org, ongoing=True, slug="caisse-dons")
    db.session.commit()
    return w




ORG = lambda w: {"slug": w.org.slug}  # noqa: E731
FUND = lambda w: {"fund_id": w.fund.id}  # noqa: E731
VOTING = lambda w: {"round_id": w.voting.id}  # noqa: E731
PROPOSING = lambda w: {"round_id": w.proposing.id}  # noqa: E731
LINK = lambda w: {"token": w.token}  # noqa: E731
CHOICE = lambda w: {"proposal": str(w.proposal.id)}  # noqa: E731


def _round_form(w) -> dict:
    now = utcnow()
    return {"title": "Budget 2028", "budget": "200000", "rule": "equal_shares",
            "proposals_close_at": (now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
            "voting_closes_at": (now + timedelta(days=9)).strftime("%Y-%m-%dT%H:%M"), "min_projects": "1"}


EXPECTATIONS: list[Case] = [
    Case("governance.org_funds", "GET", EVERYONE, ORG),
    Case("governance.org_funds", "POST", BOARD, ORG, lambda w: {"name": "Fonds scolaire", "currency": "XOF"}),
    Case("governance.fund", "GET", EVERYONE, FUND),
    Case("governance.assign", "POST", BOARD, FUND, lambda w: {"amount": "1000"}),
    Case("governance.giving_campaign", "POST", BOARD, FUND, lambda w: {"campaign": str(w.giving.id)}),
    Case("governance.giving_campaign", "POST", expect(FORBIDDEN, anonymous=LOGIN, editor=BAD), FUND,
         lambda w: {"campaign": "abc"}, label="bad-campaign"),
    Case("governance.assign_match", "POST", expect(FORBIDDEN, anonymous=LOGIN, funder=OK, admin=OK), FUND,
         lambda w: {"match_fund": str(w.match_fund.id), "amount": "1000"}),
    Case("governance.new_round", "GET", BOARD, FUND),
    Case("governance.new_round", "POST", BOARD, FUND, _round_form),
    Case("governance.round", "GET", EVERYONE, VOTING),
    Case("governance.round", "GET", HIDDEN_DRAFT, lambda w: {"round_id": w.draft.id}, label="draft"),
    Case("governance.propose", "POST", MEMBERS_AND_BOARD, PROPOSING,
         lambda w: {"title": "Une école", "amount": "50000", "campaign": ""}),
    Case("governance.advance", "POST", BOARD, PROPOSING),
    Case("governance.advance", "POST", BOARD, VOTING, label="close"),
    Case("governance.vote", "POST", ON_THE_ROLL, VOTING, CHOICE),
    Case("governance.vote_by_link", "GET", EVERYONE, LINK),
    Case("governance.vote_by_link", "POST", EVERYONE, LINK, CHOICE),
    Case("governance.vote_by_link", "GET", expect(BAD), lambda w: {"token": w.token[:-4] + "abcd"}, label="forged"),
    Case("governance.receipt", "GET", EVERYONE, VOTING),
    Case("governance.change_ballot", "GET", EVERYONE, VOTING),
    Case("governance.change_ballot", "POST", EVERYONE, VOTING, lambda w: {"receipt": w.receipt, **CHOICE(w)}),
    Case("governance.change_ballot", "POST", expect(NOT_FOUND), VOTING,
         lambda w: {"receipt": "AAAAA-BBBBB-CCCCC-DDDDD", **CHOICE(w)}, label="wrong-receipt"),
    Case("governance.ballots", "GET", EVERYONE, VOTING),
    Case("governance.ballots", "POST", EVERYONE, VOTING, lambda w: {"receipt": w.receipt}),
]


def routes() -> list[tuple[str, str]]:
    return permission_matrix.routes("governance.")


def test_every_route_has_a_row():
    missing = set(routes()) - {(c.endpoint, c.method) for c in EXPECTATIONS}
    assert not missing, f"routes with no row in {__file__}: {sorted(missing)}"


@pytest.mark.parametrize("case, role", [pytest.param(c, r, id=f"{c.id}-{r}") for c in EXPECTATIONS for r in ROLES])
def test_route_answers_each_role_as_the_table_says(app, case: Case, role: str):
    w = worlds.world(build_world)
    url = url_for(case.endpoint, **case.args(w))
    response = permission_matrix.ask(app, w.users.get(role), case.method, url, case.data(w))
    assert outcome(response) == case.expect[role], (
        f"{role} {case.method} {url}: got {response.status_code} {response.location or ''}")
