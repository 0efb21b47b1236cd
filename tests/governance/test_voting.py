"""Voting in a round: the roll, one ballot per member, changing it with the receipt, the ballot's limits."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import UserFactory
from tests.governance.helpers import fund_world, member, voter
from webapp.clock import utcnow
from webapp.errors import InvalidTransition
from webapp.extensions import db
from webapp.governance import ballots, rounds, tally
from webapp.governance.ballots import VoteRefused
from webapp.governance.models import Ballot, RoundState, RoundVoter
from webapp.membership.models import MemberState


def test_the_roll_holds_the_members_active_when_voting_opened_and_only_them():
    w = fund_world(2, voting=False)
    lapsed = member(w.org, state=MemberState.LAPSED)
    pending = member(w.org, state=MemberState.PENDING)
    ended = member(w.org)
    ended.ends_on = utcnow().date() - timedelta(days=1)
    rounds.open_voting(w.round, w.owner)
    late = member(w.org)  # joins after voting opened
    on_roll = set(db.session.scalars(select(RoundVoter.member_id).where(RoundVoter.round_id == w.round.id)))
    assert on_roll == {m.id for m in w.members}
    for m in (lapsed, pending, ended, late):
        with pytest.raises(VoteRefused) as refused:
            ballots.cast(w.round, rounds.voter_of(w.round, db.session.get(type(w.owner), m.user_id)),
                         [w.proposals[0].id])
        assert refused.value.status == 403


def test_a_stranger_and_a_lapsed_member_are_refused_by_the_route(client, signed_in):
    w = fund_world(1)
    lapsed_user = UserFactory(verified=True)
    member(w.org, lapsed_user, state=MemberState.LAPSED)
    stranger = UserFactory(verified=True)
    db.session.commit()
    for user in (stranger, lapsed_user):
        response = signed_in(user).post(f"/rounds/{w.round.id}/vote", data={"proposal": str(w.proposals[0].id)})
        assert response.status_code == 403
        assert b"voter roll" in response.data
    assert db.session.scalar(select(db.func.count()).select_from(Ballot)) == 0


def test_a_member_votes_once_and_the_receipt_finds_the_ballot():
    w = fund_world(2)
    code = ballots.cast(w.round, voter(w, 0), [w.proposals[0].id, w.proposals[1].id])
    ballot = ballots.ballot_by_receipt(w.round, code)
    assert ballot.proposal_ids == [w.proposals[0].id, w.proposals[1].id]
    assert ballots.ballot_by_receipt(w.round, code.lower().replace("-", " ")) == ballot  # as a person types it
    assert ballots.ballot_by_receipt(w.round, ballots.new_receipt()) is None
    with pytest.raises(VoteRefused) as again:
        ballots.cast(w.round, voter(w, 0), [w.proposals[2].id])
    assert again.value.status == 409
    assert db.session.scalar(select(db.func.count()).select_from(Ballot)) == 1
    assert voter(w, 0).voted and not voter(w, 1).voted


def test_a_changed_ballot_replaces_the_first_and_only_the_last_counts():
    w = fund_world(1)
    code = ballots.cast(w.round, voter(w, 0), [w.proposals[0].id])
    ballots.change(w.round, code, [w.proposals[2].id])
    ballots.change(w.round, code, [w.proposals[1].id])
    assert [b.proposal_ids for b in db.session.scalars(select(Ballot))] == [[w.proposals[1].id]]
    tally.close(w.round, w.owner)
    assert [p.votes for p in rounds.proposals_of(w.round)] == [0, 1, 0]
    assert ballots.ballot_by_receipt(w.round, code).proposal_ids == [w.proposals[1].id]  # found after the close


def test_a_wrong_receipt_changes_nothing():
    w = fund_world(1)
    ballots.cast(w.round, voter(w, 0), [w.proposals[0].id])
    with pytest.raises(VoteRefused) as refused:
        ballots.change(w.round, ballots.new_receipt(), [w.proposals[1].id])
    assert refused.value.status == 404


@pytest.mark.parametrize("settings, chosen, message", [
    ({}, [], "at least 1"),
    ({}, [0, 1, 2], "more than the round's budget"),  # 450 000 > 300 000
    ({"max_projects": 1}, [0, 1], "at most 1"),
    ({"min_projects": 2}, [0], "at least 2"),
    ({"min_share_percent": 50}, [0], "at least 50%"),
])
def test_a_ballot_outside_the_rounds_limits_is_refused(settings, chosen, message):
    w = fund_world(1, **settings)
    with pytest.raises(VoteRefused) as refused:
        ballots.cast(w.round, voter(w, 0), [w.proposals[i].id for i in chosen])
    assert refused.value.status == 400 and message in str(refused.value)
    assert not voter(w, 0).voted


def test_a_proposal_of_another_round_is_refused():
    w, other = fund_world(1), fund_world(1)
    with pytest.raises(VoteRefused):
        ballots.cast(w.round, voter(w, 0), [other.proposals[0].id])


def test_no_vote_and_no_change_after_voting_closes(monkeypatch):
    w = fund_world(1)
    code = ballots.cast(w.round, voter(w, 0), [w.proposals[0].id])
    monkeypatch.setattr(ballots, "utcnow", lambda: w.round.voting_closes_at + timedelta(seconds=1))
    with pytest.raises(VoteRefused) as refused:
        ballots.change(w.round, code, [w.proposals[1].id])
    assert refused.value.status == 410


def test_the_round_moves_only_as_its_state_machine_allows():
    w = fund_world(1, voting=False)
    with pytest.raises(InvalidTransition):
        tally.close(w.round, w.owner)
    rounds.open_voting(w.round, w.owner)
    with pytest.raises(InvalidTransition):
        rounds.open_proposals(w.round, w.owner)
    tally.close(w.round, w.owner)
    assert w.round.state == RoundState.COUNTED
    with pytest.raises(InvalidTransition):
        tally.close(w.round, w.owner)


def test_voting_cannot_open_for_more_than_the_fund_holds():
    w = fund_world(1, budget=300_000, held=200_000, voting=False)
    with pytest.raises(rounds.RoundRefused):
        rounds.open_voting(w.round, w.owner)
    assert w.round.state == RoundState.PROPOSALS


def test_only_members_and_the_board_submit_proposals():
    w = fund_world(1, voting=False)
    from webapp.errors import PermissionDenied
    from webapp.money import Money

    with pytest.raises(PermissionDenied):
        rounds.submit_proposal(w.round, UserFactory(), "Un puits", "", Money(10_000, "XOF"))
    assert rounds.submit_proposal(w.round, w.users[0], "Un puits", "", Money(10_000, "XOF")).id
