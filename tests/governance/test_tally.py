"""Closing and counting: the quorum, the grants booked in the ledger, the published ballots equal the tally."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from tests.factories import CampaignFactory
from tests.governance.helpers import fund_world, voter
from webapp.extensions import db
from webapp.governance import ballots, funds, rounds, tally, tasks
from webapp.governance.models import AllocationRule, Ballot, RoundState
from webapp.ledger import services as ledger
from webapp.ledger.models import LedgerEntry
from webapp.money import Money


def _grants():
    return list(db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "pooled_grant")
                                   .order_by(LedgerEntry.id)))


def test_the_counted_round_books_its_grants_from_the_fund():
    w = fund_world(3, budget=300_000, held=500_000)
    p1, p2, p3 = w.proposals  # ask 100 000, 150 000, 200 000
    ballots.cast(w.round, voter(w, 0), [p1.id, p3.id])
    ballots.cast(w.round, voter(w, 1), [p3.id])
    ballots.cast(w.round, voter(w, 2), [p1.id, p2.id])
    assert tally.close(w.round, w.owner) == RoundState.COUNTED
    # greedy: p3 (2 votes, 200 000) and p1 (2 votes, 100 000) fill the 300 000; p2 no longer fits
    assert [(p.votes, p.funded) for p in rounds.proposals_of(w.round)] == [(2, True), (1, False), (2, True)]
    assert [(g.credit_account, g.amount) for g in _grants()] == [
        (ledger.organization_account(w.org.id), 100_000), (ledger.organization_account(w.org.id), 200_000)]
    assert funds.balance(w.fund) == Money(200_000, "XOF")
    assert (w.round.roll_size, w.round.ballots_counted) == (3, 3)
    assert sum(ledger.trial_balance().get((a, "XOF"), 0) for a in {k for k, _ in ledger.trial_balance()}) == 0


def test_a_proposal_for_a_campaign_is_granted_to_the_campaigns_account():
    w = fund_world(1, voting=False)
    campaign = CampaignFactory(organization=w.org, live=True, currency="XOF")
    p = rounds.submit_proposal(w.round, w.owner, "Moulin", "", Money(50_000, "XOF"), campaign)
    rounds.open_voting(w.round, w.owner)
    ballots.cast(w.round, voter(w, 0), [p.id])
    tally.close(w.round, w.owner)
    [grant] = _grants()
    assert (grant.credit_account, grant.campaign_id) == (ledger.campaign_account(campaign.id), campaign.id)
    assert ledger.balance(ledger.campaign_account(campaign.id), "XOF") == Money(50_000, "XOF")


def test_without_the_quorum_nothing_is_allocated():
    w = fund_world(4, quorum=50)  # 2 of 4 needed
    ballots.cast(w.round, voter(w, 0), [w.proposals[0].id])
    assert tally.close(w.round, w.owner) == RoundState.QUORUM_FAILED
    assert _grants() == []
    assert not any(p.funded for p in rounds.proposals_of(w.round))
    assert funds.balance(w.fund) == Money(500_000, "XOF")


def test_the_quorum_reached_exactly_counts():
    w = fund_world(4, quorum=50)
    ballots.cast(w.round, voter(w, 0), [w.proposals[0].id])
    ballots.cast(w.round, voter(w, 1), [w.proposals[0].id])
    assert tally.close(w.round, w.owner) == RoundState.COUNTED


def test_the_tally_equals_the_published_ballots():
    w = fund_world(6, rule=AllocationRule.EQUAL_SHARES)
    ids = [p.id for p in w.proposals]
    for i, chosen in enumerate([[0], [0, 1], [1], [2], [0, 2], [1]]):
        code = ballots.cast(w.round, voter(w, i), [ids[j] for j in chosen])
        if i == 5:
            ballots.change(w.round, code, [ids[0]])
    assert ballots.published(w.round) == []  # nothing is published before the close
    tally.close(w.round, w.owner)
    published = ballots.published(w.round)
    counts = Counter(pid for b in published for pid in b.proposal_ids)
    assert len(published) == w.round.ballots_counted == 6
    assert {p.id: p.votes for p in rounds.proposals_of(w.round)} == {pid: counts[pid] for pid in ids}
    funded = {p.id for p in rounds.proposals_of(w.round) if p.funded}
    assert funded == tally.allocate(AllocationRule.EQUAL_SHARES, w.round.budget,
                                    {p.id: p.amount for p in w.proposals}, [b.proposal_ids for b in published])


def test_the_close_writes_the_ballots_again_under_new_random_keys():
    w = fund_world(3)
    codes = [ballots.cast(w.round, voter(w, i), [w.proposals[i].id]) for i in range(3)]
    before = set(db.session.scalars(select(Ballot.id)))
    tally.close(w.round, w.owner)
    after = set(db.session.scalars(select(Ballot.id)))
    assert len(after) == 3 and not before & after
    assert all(ballots.ballot_by_receipt(w.round, code) is not None for code in codes)


def test_one_reminder_to_those_who_have_not_voted(mail_outbox):
    w = fund_world(3, reminder_hours=24)
    ballots.cast(w.round, voter(w, 0), [w.proposals[0].id])
    db.session.commit()
    mail_outbox.clear()
    assert ballots.rounds_to_remind() == []  # a week before close
    later = w.round.voting_closes_at - timedelta(hours=23)
    assert ballots.rounds_to_remind(later) == [w.round.id]
    assert ballots.send_reminders(w.round.id, later) == 2
    db.session.commit()
    assert ballots.send_reminders(w.round.id, later) == 0
    assert ballots.rounds_to_remind(later) == []
    db.session.commit()
    assert sorted(str(m["To"]) for m in mail_outbox) == sorted(u.email for u in w.users[1:])
    assert all("Reminder" in str(m["Subject"]) and "/vote/" in m.get_body().get_content() for m in mail_outbox)


def test_the_job_closes_the_rounds_whose_vote_has_ended(monkeypatch):
    w = fund_world(1)
    ballots.cast(w.round, voter(w, 0), [w.proposals[0].id])
    db.session.commit()
    assert tasks.close_due_rounds() == 0
    monkeypatch.setattr(rounds, "utcnow", lambda: w.round.voting_closes_at + timedelta(minutes=1))
    assert tasks.close_due_rounds() == 1
    db.session.expire_all()
    assert w.round.state == RoundState.COUNTED and len(_grants()) == 1


def test_the_voter_is_told_their_vote_counted_with_the_receipt(mail_outbox):
    w = fund_world(1)
    db.session.commit()
    mail_outbox.clear()
    code = ballots.cast(w.round, voter(w, 0), [w.proposals[0].id])
    db.session.commit()
    [message] = mail_outbox
    assert str(message["To"]) == w.users[0].email and code in message.get_body().get_content()
