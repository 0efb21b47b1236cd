"""A round on PostgreSQL with concurrent voters: every member of the roll votes at most once, changes
replace, and the count equals the published ballots."""
from __future__ import annotations

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
