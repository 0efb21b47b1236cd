"""A round on PostgreSQL with concurrent voters: every member of the roll votes at most once, changes
replace, and the count equals the published ballots."""
from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from config import TestConfig
from tests.governance.helpers import fund_world
from tests.payments.test_closing_concurrency import run_at_once
from webapp.extensions import db
from webapp.governance import ballots, rounds, tally
from webapp.governance.ballots import VoteRefused
from webapp.governance.models import Ballot, FundingRound, RoundVoter

MEMBERS = 8


@pytest.fixture
def worker_app(app):
    from webapp import create_app

    settings = {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 2 * MEMBERS, "max_overflow": 0, "pool_timeout": 60}}
    worker = create_app(type("VoteWorkerConfig", (TestConfig,), settings))
    yield worker
    with worker.app_context():
        db.engine.dispose()


@pytest.mark.pg_only
def test_concurrent_voters_each_vote_once_and_the_tally_equals_the_published_ballots(worker_app):
    w = fund_world(MEMBERS)
    round_id, voter_ids = w.round.id, [rounds.voter_of(w.round, u).id for u in w.users]
    proposal_ids = [p.id for p in w.proposals]
    db.session.commit()

    def vote(i: int):
        """Two attempts per member at the same instant, as from two tabs, each choosing differently."""
        with worker_app.test_request_context():
            try:
                rnd = db.session.get(FundingRound, round_id)
                code = ballots.cast(rnd, db.session.get(RoundVoter, voter_ids[i // 2]),
                                    [proposal_ids[(i // 2 + i % 2) % len(proposal_ids)]])
                db.session.commit()
                return code
            finally:
                db.session.remove()

    results = run_at_once(2 * MEMBERS, vote)
    codes = [r for r in results if isinstance(r, str)]
    refusals = [r for r in results if not isinstance(r, str)]
    assert len(codes) == MEMBERS, refusals
    assert all(isinstance(r, VoteRefused) and r.status == 409 for r in refusals)
    for member in range(MEMBERS):  # one of each member's two attempts won
        assert sum(isinstance(results[2 * member + k], str) for k in (0, 1)) == 1

    def change(i: int):
        with worker_app.test_request_context():
            try:
                rnd = db.session.get(FundingRound, round_id)
                ballots.change(rnd, codes[i // 2], [proposal_ids[i % 2]])
                db.session.commit()
                return i
            finally:
                db.session.remove()

    changed = run_at_once(2 * MEMBERS, change)  # each receipt changed twice at once: one of them is last
    assert sorted(changed) == list(range(2 * MEMBERS))
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == MEMBERS
    assert db.session.scalar(select(func.count()).select_from(RoundVoter).where(RoundVoter.voted.is_(True))) == MEMBERS

    rnd = db.session.get(FundingRound, round_id)
    tally.close(rnd, w.owner)
    db.session.commit()
    published = ballots.published(rnd)
    counts = Counter(pid for b in published for pid in b.proposal_ids)
    assert len(published) == rnd.ballots_counted == MEMBERS
    assert {p.id: p.votes for p in rounds.proposals_of(rnd)} == {pid: counts[pid] for pid in proposal_ids}
    assert all(ballots.ballot_by_receipt(rnd, code) is not None for code in codes)


@pytest.mark.pg_only
def test_a_close_during_the_votes_counts_every_ballot_in_the_box(worker_app, monkeypatch):
    """Every vote has passed its "is voting open?" check when the close starts; the votes then wait for the
    close to read the ballot box (1 s at most). With the round's shared lock the close waits for them instead,
    and counts them; without it, they would land in the box after the count."""
    w = fund_world(MEMBERS)
    round_id, voter_ids = w.round.id, [rounds.voter_of(w.round, u).id for u in w.users]
    proposal_id, owner_id = w.proposals[0].id, w.owner.id
    db.session.commit()
    checked = threading.Barrier(MEMBERS + 1)
    counting = threading.Event()
    check_choices, shuffle = ballots.check_choices, tally._shuffle_ballots

    def check_then_wait(rnd, ids):
        checked.wait(timeout=10)
        counting.wait(timeout=1)
        return check_choices(rnd, ids)

    def shuffle_and_tell(rnd):
        counting.set()
        return shuffle(rnd)

    monkeypatch.setattr(ballots, "check_choices", check_then_wait)
    monkeypatch.setattr(tally, "_shuffle_ballots", shuffle_and_tell)

    def work(i: int):
        with worker_app.test_request_context():
            try:
                rnd = db.session.get(FundingRound, round_id)
                if i == MEMBERS:
                    from webapp.accounts.models import User

                    checked.wait(timeout=10)
                    result = tally.close(rnd, db.session.get(User, owner_id))
                else:
                    result = ballots.cast(rnd, db.session.get(RoundVoter, voter_ids[i]), [proposal_id])
                db.session.commit()
                return result
            finally:
                db.session.remove()

    results = run_at_once(MEMBERS + 1, work)
    assert all(isinstance(r, str) for r in results[:MEMBERS]), results
    db.session.expire_all()
    rnd = db.session.get(FundingRound, round_id)
    in_box = db.session.scalar(select(func.count()).select_from(Ballot).where(Ballot.round_id == round_id))
    assert in_box == rnd.ballots_counted == MEMBERS
    assert rounds.proposals_of(rnd)[0].votes == MEMBERS
