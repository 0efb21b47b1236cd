"""The demo: a hometown association with members and a round in voting on three proposals, loaded once."""
from __future__ import annotations

from sqlalchemy import select

from webapp import demo
from webapp.extensions import db
from webapp.governance import funds, rounds
from webapp.governance.models import FundingRound, RoundState
from webapp.money import Money


def test_the_demo_hometown_association_has_a_round_in_voting_once():
    demo.load_all()
    db.session.commit()
    assert demo.load_all()["pooled funds"] == 0
    db.session.commit()
    [rnd] = db.session.scalars(select(FundingRound)).all()
    assert rnd.state == RoundState.VOTING and rnd.fund.organization.slug == "ouidah-natifs"
    assert len(rounds.proposals_of(rnd)) == 3
    assert rounds.roll_size(rnd) == 5 and rounds.turnout(rnd) == 0
    assert funds.balance(rnd.fund) == Money(1_500_000, "XOF")
    from webapp.membership.models import OrgMember

    by_sms = db.session.scalars(select(OrgMember).where(OrgMember.channel == "sms")).all()
    assert [(m.user.email, m.phone) for m in by_sms] == [("kofi@harambee.test", "+22997000011")]
