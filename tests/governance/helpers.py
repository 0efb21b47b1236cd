"""Building a pooled fund with members and a round, for the governance tests (models, no UI)."""
from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from tests.factories import OrganizationFactory, UserFactory
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.governance import funds, rounds
from webapp.governance.models import AllocationRule, FundingRound
from webapp.ledger import services as ledger
from webapp.membership.models import MemberState, MembershipClass, OrgMember
from webapp.money import Money


def member(org, user=None, state: MemberState = MemberState.ACTIVE) -> OrgMember:
    user = user or UserFactory(verified=True)
    cls = db.session.query(MembershipClass).filter_by(organization_id=org.id).first()
    if cls is None:
        cls = MembershipClass(organization_id=org.id, name="Membre", currency="XOF")
        db.session.add(cls)
        db.session.flush()
    m = OrgMember(organization_id=org.id, user_id=user.id, class_id=cls.id, state=state,
                  starts_on=utcnow().date() - timedelta(days=30))
    db.session.add(m)
    db.session.flush()
    return m


def fund_world(members: int = 3, *, budget: int = 300_000, held: int = 500_000, rule=AllocationRule.GREEDY,
               quorum: int = 0, amounts=(100_000, 150_000, 200_000), voting: bool = True, **settings):
    """An organization with a board (owner), `members` active members, a fund holding `held` XOF, a round with
    proposals asking `amounts`, in voting when `voting`."""
    w = SimpleNamespace()
    w.owner = UserFactory(verified=True)
    w.org = OrganizationFactory(owner=w.owner, currency="XOF")
    w.members = [member(w.org) for _ in range(members)]
    w.users = [db.session.get(type(w.owner), m.user_id) for m in w.members]
    w.fund = funds.open_fund(w.org, w.owner, "Caisse commune", "", "XOF")
    ledger.book(key=f"test:dues:{w.org.id}", kind="recurring_charge", debit=ledger.processor("sandbox"),
                credit=ledger.organization_account(w.org.id), money=Money(held, "XOF"), cause="test")
    funds.assign(w.fund, w.owner, Money(held, "XOF"))
    now = utcnow()
    w.round = rounds.create_round(w.fund, w.owner, rounds.RoundSettings(
        title="Budget 2027", budget=Money(budget, "XOF"), rule=rule, proposals_close_at=now + timedelta(days=1),
        voting_closes_at=now + timedelta(days=7), quorum_percent=quorum, **settings))
    rounds.open_proposals(w.round, w.owner)
    w.proposals = [rounds.submit_proposal(w.round, w.owner, f"Projet {i + 1}", "", Money(a, "XOF"))
                   for i, a in enumerate(amounts)]
    if voting:
        rounds.open_voting(w.round, w.owner)
        w.round = db.session.get(FundingRound, w.round.id)
    return w


def voter(w, i: int):
    return rounds.voter_of(w.round, w.users[i])
