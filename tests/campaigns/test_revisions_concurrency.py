"""Real concurrent connections on PostgreSQL: one pending revision per campaign, and one decision per revision."""
from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from tests.campaigns.test_revisions import STORY
from tests.factories import CampaignFactory, RewardTierFactory, UserFactory
from tests.payments.test_concurrency import run_at_once, worker_app  # noqa: F401 (a fixture)
from webapp.campaigns import revisions
from webapp.campaigns.models import Campaign, CampaignRevision, RevisionStatus, RewardTier
from webapp.extensions import db
from webapp.accounts.models import User

pytestmark = pytest.mark.pg_only


@pytest.fixture
def live(org):
    campaign = CampaignFactory(organization=org, live=True, story_md=STORY)
    RewardTierFactory(campaign=campaign, title="A bag of flour", minimum_amount=5_000)
    db.session.commit()
    return campaign


def test_simultaneous_first_edits_make_one_pending_revision(worker_app, live, editor):  # noqa: F811
    campaign_id, editor_id = live.id, editor.id

    def propose(i):
        with worker_app.test_request_context():
            try:
                campaign = db.session.get(Campaign, campaign_id)
                outcome = revisions.propose(campaign, db.session.get(User, editor_id),
                                            {**revisions.working_copy(campaign), "title": f"Title {i}"})
                db.session.commit()
                return outcome
            finally:
                db.session.remove()

    results = run_at_once(12, propose)

    assert not [r for r in results if isinstance(r, Exception)], results
    db.session.expire_all()
    rows = db.session.scalars(select(CampaignRevision).where(CampaignRevision.campaign_id == campaign_id)).all()
    assert [r.status for r in rows] == [RevisionStatus.PENDING]
    assert rows[0].version == 12
    assert db.session.get(Campaign, campaign_id).title == live.title


def test_simultaneous_approvals_apply_a_revision_once(worker_app, live, editor):  # noqa: F811
    moderator_ids = [UserFactory(verified=True, moderator=True).id for _ in range(8)]
    revisions.propose(live, editor, {**revisions.working_copy(live), "title": "A new title", "tiers": [
        *revisions.snapshot(live)["tiers"],
        {"id": None, "title": "A visit", "description": "", "minimum_amount": 25_000, "quantity_limit": None,
         "delivery_month": None}]})
    db.session.commit()
    revision_id = db.session.scalar(select(CampaignRevision.id))

    def approve(i):
        with worker_app.test_request_context():
            try:
                revision = revisions.revision_of(revision_id)
                revisions.decide(revision, db.session.get(User, moderator_ids[i]), approve=True, version=1)
                db.session.commit()
                return "approved"
            except revisions.RevisionConflict:
                db.session.rollback()
                return "conflict"
            finally:
                db.session.remove()

    results = run_at_once(8, approve)

    assert Counter(results) == {"approved": 1, "conflict": 7}, results
    db.session.expire_all()
    assert db.session.scalar(select(RewardTier.id).where(RewardTier.title == "A visit")) is not None
    assert len(db.session.scalars(select(RewardTier).where(RewardTier.campaign_id == live.id)).all()) == 2
