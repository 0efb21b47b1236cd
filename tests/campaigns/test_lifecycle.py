"""A campaign's life: draft, review, changes asked with a reason, approval, launch; every move recorded;
the terms backers pledge on frozen once live."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from flask import url_for
from sqlalchemy import select

from tests.campaigns.helpers import campaign_form, committed_count, count, field_errors, page_text, today
from tests.factories import CampaignFactory, RewardTierFactory
from webapp.campaigns import services
from webapp.campaigns.models import Campaign, CampaignStatus, CampaignTransition, RewardTier
from webapp.clock import utcnow
from webapp.errors import FrozenField
from webapp.extensions import db
from webapp.money import Money

S = CampaignStatus


def create_draft(client, org, **form) -> Campaign:
    response = client.post(url_for("manage.new_campaign", org_slug=org.slug), data=campaign_form(**form))
    assert response.status_code == 302, response.status_code
    return db.session.scalar(select(Campaign).order_by(Campaign.id.desc()))


def transitions(campaign) -> list[tuple[S, S, int | None, str | None]]:
    rows = db.session.scalars(select(CampaignTransition).where(CampaignTransition.campaign_id == campaign.id)
                              .order_by(CampaignTransition.id))
    return [(t.from_status, t.to_status, t.actor_id, t.reason) for t in rows]


def decide(client, campaign, decision, reason=""):
    return client.post(url_for("moderation.review", slug=campaign.slug), data={"decision": decision, "reason": reason})


def test_a_campaign_goes_from_draft_through_changes_to_live_and_onto_the_home_page(
        editor_client, moderator_client, editor, owner, moderator, org, smtp_server):
    campaign = create_draft(editor_client, org, title="Solar pumps for Fatick")
    assert campaign.status == S.DRAFT
    assert "Solar pumps for Fatick" not in page_text(editor_client.get(url_for("campaigns.home")))

    started = utcnow()
    assert editor_client.post(url_for("manage.submit", slug=campaign.slug)).status_code == 302
    assert campaign.status == S.SUBMITTED
    queue = page_text(moderator_client.get(url_for("moderation.queue")))
    assert "Solar pumps for Fatick" in queue

    # asking for changes needs a reason
    response = decide(moderator_client, campaign, "changes", reason="   ")
    assert response.status_code == 400
    assert field_errors(response, "reason") == ["Tell the organizer what to change."]
    assert committed_count(CampaignTransition, CampaignTransition.to_status == S.CHANGES_REQUESTED) == 0
    assert smtp_server.messages == []

    response = decide(moderator_client, campaign, "changes", reason="Add a budget <b>table</b>, please.")
    assert response.status_code == 302
    db.session.refresh(campaign)
    assert campaign.status == S.CHANGES_REQUESTED
    assert campaign.moderation_note == "Add a budget <b>table</b>, please."

    # the organizer reads the reason on the edit page (escaped, as text) and by email
    edit_page = editor_client.get(url_for("manage.edit_campaign", slug=campaign.slug)).get_data(as_text=True)
    assert "Add a budget &lt;b&gt;table&lt;/b&gt;, please." in edit_page
    messages = smtp_server.wait_for(2)  # the owner and the editor
    assert sorted(m["To"] for m in messages) == sorted([owner.email, editor.email])
    assert all("Solar pumps for Fatick" in m["Subject"] for m in messages)
    assert all("Add a budget <b>table</b>, please." in smtp_server.text_of(m) for m in messages)
    smtp_server.clear()

    assert editor_client.post(url_for("manage.submit", slug=campaign.slug)).status_code == 302
    db.session.refresh(campaign)
    assert campaign.status == S.SUBMITTED and campaign.moderation_note is None

    assert decide(moderator_client, campaign, "approve").status_code == 302
    db.session.refresh(campaign)
    assert campaign.status == S.LIVE
    assert campaign.launched_at is not None
    approved = smtp_server.wait_for(2)
    assert all("approved" in m["Subject"] for m in approved)
    assert "live now" in smtp_server.text_of(approved[0])

    assert "Solar pumps for Fatick" in page_text(editor_client.get(url_for("campaigns.home")))
    assert transitions(campaign) == [
        (S.DRAFT, S.SUBMITTED, editor.id, None),
        (S.SUBMITTED, S.CHANGES_REQUESTED, moderator.id, "Add a budget <b>table</b>, please."),
        (S.CHANGES_REQUESTED, S.SUBMITTED, editor.id, None),
        (S.SUBMITTED, S.APPROVED, moderator.id, None),
        (S.APPROVED, S.LIVE, moderator.id, None),
    ]
    times = db.session.scalars(select(CampaignTransition.at).where(CampaignTransition.campaign_id == campaign.id)
                               .order_by(CampaignTransition.id)).all()
    assert all(started - timedelta(seconds=1) <= at <= utcnow() for at in times)
    assert times == sorted(times)


def test_approving_a_campaign_that_starts_later_leaves_it_approved_until_its_start(
        editor_client, moderator_client, moderator, org):
    start = today() + timedelta(days=3)
    campaign = create_draft(editor_client, org, start_date=start.isoformat(),
                            end_date=(start + timedelta(days=20)).isoformat())
    editor_client.post(url_for("manage.submit", slug=campaign.slug))

    assert decide(moderator_client, campaign, "approve").status_code == 302
    db.session.refresh(campaign)
    assert campaign.status == S.APPROVED
    assert campaign.title not in page_text(editor_client.get(url_for("campaigns.home")))

    starts_at = datetime.combine(start, time.min)
    assert services.launch_due_campaigns(now=starts_at - timedelta(seconds=1)) == 0
    assert services.launch_due_campaigns(now=starts_at + timedelta(minutes=1)) == 1
    db.session.commit()
    db.session.refresh(campaign)
    assert campaign.status == S.LIVE
    assert transitions(campaign)[-2:] == [(S.SUBMITTED, S.APPROVED, moderator.id, None),
                                           (S.APPROVED, S.LIVE, None, None)]  # the system launched it
    assert campaign.title in page_text(editor_client.get(url_for("campaigns.home")))
    assert services.launch_due_campaigns(now=starts_at + timedelta(days=1)) == 0


def test_approving_twice_answers_409_and_changes_nothing(editor_client, moderator_client, org, smtp_server):
    campaign = create_draft(editor_client, org)
    editor_client.post(url_for("manage.submit", slug=campaign.slug))
    assert decide(moderator_client, campaign, "approve").status_code == 302
    db.session.refresh(campaign)
    before = (campaign.status, campaign.launched_at, transitions(campaign))
    smtp_server.wait_for(2)
    smtp_server.clear()

    second = decide(moderator_client, campaign, "approve")

    assert second.status_code == 409
    assert "no longer waiting for review" in page_text(second)
    db.session.rollback()
    db.session.refresh(campaign)
    assert (campaign.status, campaign.launched_at, transitions(campaign)) == before
    assert smtp_server.messages == []


def test_asking_for_changes_after_approval_answers_409(editor_client, moderator_client, org):
    campaign = create_draft(editor_client, org)
    editor_client.post(url_for("manage.submit", slug=campaign.slug))
    decide(moderator_client, campaign, "approve")

    assert decide(moderator_client, campaign, "changes", reason="Too late").status_code == 409
    db.session.rollback()
    assert db.session.get(Campaign, campaign.id).status == S.LIVE


def test_a_draft_cannot_be_approved_before_it_is_submitted(editor_client, moderator_client, org):
    campaign = create_draft(editor_client, org)

    assert decide(moderator_client, campaign, "approve").status_code == 409
    db.session.rollback()
    assert db.session.get(Campaign, campaign.id).status == S.DRAFT
    assert committed_count(CampaignTransition) == 0


def test_a_decision_other_than_approve_or_changes_is_refused(editor_client, moderator_client, org):
    campaign = create_draft(editor_client, org)
    editor_client.post(url_for("manage.submit", slug=campaign.slug))

    assert decide(moderator_client, campaign, "delete").status_code == 400
    assert db.session.get(Campaign, campaign.id).status == S.SUBMITTED


def test_a_submitted_campaign_cannot_be_edited_by_its_organizers(editor_client, org):
    campaign = create_draft(editor_client, org)
    editor_client.post(url_for("manage.submit", slug=campaign.slug))

    response = editor_client.post(url_for("manage.edit_campaign", slug=campaign.slug),
                                  data=campaign_form(title="Changed while in review"))

    assert response.status_code == 400
    db.session.rollback()
    assert db.session.get(Campaign, campaign.id).title == "A grain mill for Ndiaganiao"


def test_a_campaign_without_a_story_cannot_be_submitted(editor_client, org):
    campaign = create_draft(editor_client, org, story_md="")

    response = editor_client.post(url_for("manage.submit", slug=campaign.slug))

    assert response.status_code == 409
    assert "add a story" in page_text(response)
    assert db.session.get(Campaign, campaign.id).status == S.DRAFT


# -- a live campaign keeps the terms backers pledged on --------------------------------------
@pytest.fixture
def live_campaign(editor_client, moderator_client, org):
    campaign = create_draft(editor_client, org, funding_model="minimum_optimum", minimum="500 000")
    editor_client.post(url_for("manage.add_tier", slug=campaign.slug), data={"title": "A bag of flour", "minimum": "5000"})
    editor_client.post(url_for("manage.submit", slug=campaign.slug))
    assert decide(moderator_client, campaign, "approve").status_code == 302
    db.session.refresh(campaign)
    assert campaign.status == S.LIVE
    return campaign


def frozen_terms(campaign):
    db.session.rollback()
    db.session.refresh(campaign)
    return (campaign.goal_amount, campaign.minimum_amount, campaign.currency, campaign.funding_model,
            campaign.starts_at, campaign.ends_at)


@pytest.mark.parametrize("tampered", [
    {"goal": "3 000 000"},
    {"currency": "EUR", "goal": "1500"},
    {"funding_model": "keep_it_all"},
    {"minimum": "1"},
    {"end_date": (today() + timedelta(days=45)).isoformat()},
    {"start_date": (today() + timedelta(days=1)).isoformat()},
])
def test_a_live_campaign_keeps_its_money_terms_and_dates_whatever_the_form_says(editor_client, live_campaign, tampered):
    before = frozen_terms(live_campaign)

    data = campaign_form(funding_model="minimum_optimum", minimum="500 000", story_md="New story")
    response = editor_client.post(url_for("manage.edit_campaign", slug=live_campaign.slug), data={**data, **tampered})

    assert response.status_code in (302, 400, 403, 409)
    assert frozen_terms(live_campaign) == before


def approve_pending_revision(moderator_client, campaign) -> None:
    """Since issue 9, a live campaign's edits wait for a moderator (tests/campaigns/test_revisions.py)."""
    from webapp.campaigns.models import CampaignRevision, RevisionStatus

    db.session.expire_all()
    revision = db.session.scalar(select(CampaignRevision).where(CampaignRevision.campaign_id == campaign.id,
                                                                CampaignRevision.status == RevisionStatus.PENDING))
    assert revision is not None
    response = moderator_client.post(url_for("moderation.revision", revision_id=revision.id),
                                     data={"decision": "approve", "version": str(revision.version)})
    assert response.status_code == 302
    db.session.expire_all()


def test_a_live_campaign_still_takes_story_and_tier_edits_once_a_moderator_approves_them(
        editor_client, moderator_client, live_campaign):
    response = editor_client.post(url_for("manage.edit_campaign", slug=live_campaign.slug),
                                  data=campaign_form(story_md="The mill is *ordered*.", funding_model="minimum_optimum",
                                                     minimum="500 000"))
    assert response.status_code == 302
    approve_pending_revision(moderator_client, live_campaign)
    db.session.refresh(live_campaign)
    assert live_campaign.story_html == "<p>The mill is <em>ordered</em>.</p>\n"

    tier = live_campaign.tiers[0]
    response = editor_client.post(url_for("manage.edit_tier", slug=live_campaign.slug, tier_id=tier.id),
                                  data={"title": "Two bags of flour", "minimum": "9000"})
    assert response.status_code == 302
    approve_pending_revision(moderator_client, live_campaign)
    db.session.refresh(tier)
    assert (tier.title, tier.minimum_amount) == ("Two bags of flour", 9_000)

    response = editor_client.post(url_for("manage.add_tier", slug=live_campaign.slug),
                                  data={"title": "A visit of the mill", "minimum": "25 000"})
    assert response.status_code == 302
    assert count(RewardTier, RewardTier.campaign_id == live_campaign.id) == 1  # waiting for review
    approve_pending_revision(moderator_client, live_campaign)
    assert count(RewardTier, RewardTier.campaign_id == live_campaign.id) == 2


def test_the_service_refuses_to_change_a_live_campaigns_goal(editor, org):
    campaign = CampaignFactory(live=True, organization=org, starts_at=datetime.combine(today(), time.min))
    draft = services.CampaignDraft(
        title=campaign.title, slug=None, summary=campaign.summary, story_md="x", category=campaign.category,
        country=campaign.country, region=None, goal=Money(campaign.goal_amount * 2, "XOF"), minimum=None,
        funding_model=campaign.funding_model, start_date=campaign.starts_at.date(),
        end_date=campaign.ends_at.date() - timedelta(days=1))

    with pytest.raises(FrozenField):
        services.update_campaign(campaign, editor, draft)


def test_a_live_campaign_that_did_not_start_at_midnight_can_still_have_its_story_edited(editor_client, moderator_client,
                                                                                         org):
    # The demo data (webapp/demo.py) starts campaigns on the hour, not at midnight.
    starts = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(days=3)
    campaign = CampaignFactory(live=True, organization=org, starts_at=starts, ends_at=starts + timedelta(days=30))
    RewardTierFactory(campaign=campaign)
    db.session.commit()
    before = frozen_terms(campaign)

    response = editor_client.post(url_for("manage.edit_campaign", slug=campaign.slug),
                                  data=campaign_form(title=campaign.title, story_md="News from the mill."))

    assert response.status_code == 302, field_errors(response, "goal")
    approve_pending_revision(moderator_client, campaign)
    assert frozen_terms(campaign) == before
    assert campaign.story_md == "News from the mill."


def test_a_live_campaign_keeps_its_address_and_says_why(editor_client, live_campaign):
    slug = live_campaign.slug
    data = campaign_form(funding_model="minimum_optimum", minimum="500 000", slug="a-new-address")

    response = editor_client.post(url_for("manage.edit_campaign", slug=slug), data=data)

    assert response.status_code == 400
    assert field_errors(response, "goal") == ["A campaign's address cannot change once it has been submitted."]
    db.session.rollback()
    assert db.session.get(Campaign, live_campaign.id).slug == slug
