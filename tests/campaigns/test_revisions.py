"""After approval, what backers read changes only through a reviewed revision (typo fixes aside), and every
applied change is kept in the campaign's history."""
from __future__ import annotations

import io

import pytest
from flask import url_for
from sqlalchemy import select

from tests.campaigns.helpers import campaign_form, committed_count, count, page_text, sign_in
from tests.factories import CampaignFactory, MembershipFactory, RewardTierFactory, UserFactory
from webapp.campaigns import diffing, revisions
from webapp.campaigns.models import Campaign, CampaignRevision, CampaignStatus, RevisionStatus, RewardTier
from webapp.extensions import db
from webapp.organizations.models import OrgRole

#: long enough that a typo fix is well under 2% of the text
STORY = ("We are raising money for a **mill** in Ndiaganiao. " * 12).strip() + "\n\nThank you for readnig."
ATTACK_TITLE = "Send your donations to my personal IBAN"
ATTACK_STORY = "Our payment page moved: [pay here](https://pay.example.net/harambee) — faster than cards."


@pytest.fixture
def live(org):
    campaign = CampaignFactory(organization=org, live=True, slug="live-mill", title="A grain mill for Ndiaganiao",
                               story_md=STORY, story_html="<p>the approved story</p>")
    RewardTierFactory(campaign=campaign, title="A bag of flour", minimum_amount=5_000)
    db.session.commit()
    return campaign


def edit(client, campaign, **overrides):
    data = campaign_form(title=campaign.title, summary=campaign.summary, story_md=campaign.story_md,
                         region=campaign.region or "", country=campaign.country)
    data.update(overrides)
    return client.post(url_for("manage.edit_campaign", slug=campaign.slug), data=data)


def add_tier(client, campaign, **overrides):
    data = {"title": "A visit of the mill", "minimum": "25 000", "description": "Come and see it turn.",
            "quantity_limit": "", "delivery_month": ""}
    data.update(overrides)
    return client.post(url_for("manage.add_tier", slug=campaign.slug), data=data)


def pending_of(campaign) -> CampaignRevision | None:
    db.session.expire_all()
    return db.session.scalar(select(CampaignRevision).where(CampaignRevision.campaign_id == campaign.id,
                                                            CampaignRevision.status == RevisionStatus.PENDING))


def decide(client, revision, decision, reason="", version=None):
    return client.post(url_for("moderation.revision", revision_id=revision.id),
                       data={"decision": decision, "reason": reason,
                             "version": str(revision.version if version is None else version)})


def attack(editor_client, campaign):
    assert edit(editor_client, campaign, title=ATTACK_TITLE, story_md=ATTACK_STORY).status_code == 302
    assert add_tier(editor_client, campaign).status_code == 302


def public(app, campaign) -> str:
    return page_text(app.test_client().get(url_for("campaigns.show", slug=campaign.slug)))


# -- the attack of the issue -----------------------------------------------------------------
def test_the_iban_attack_leaves_the_public_page_unchanged_until_a_moderator_approves(app, editor_client, live):
    before = public(app, live)
    assert "A grain mill for Ndiaganiao" in before

    attack(editor_client, live)

    page = public(app, live)
    assert ATTACK_TITLE not in page and "pay.example.net" not in page and "A visit of the mill" not in page
    assert "A grain mill for Ndiaganiao" in page and "the approved story" in page
    db.session.expire_all()
    stored = db.session.get(Campaign, live.id)
    assert (stored.title, stored.story_md) == ("A grain mill for Ndiaganiao", STORY)
    assert count(RewardTier, RewardTier.campaign_id == live.id) == 1
    revision = pending_of(live)
    assert revision is not None and revision.after["title"] == ATTACK_TITLE
    assert len(revision.after["tiers"]) == 2  # one revision holds all three changes
    assert committed_count(CampaignRevision, CampaignRevision.campaign_id == live.id) == 1


def test_the_organizer_sees_the_pending_changes_on_the_editing_page(editor_client, live):
    attack(editor_client, live)

    page = page_text(editor_client.get(url_for("manage.edit_campaign", slug=live.slug)))

    assert "waiting for a moderator" in page
    assert "at most 20 characters and 2% of the text" in page  # the rule, as the organizer reads it
    assert ATTACK_TITLE in page  # the form shows the proposal, so the next edit builds on it


def test_the_moderator_sees_the_revision_in_the_queue_with_an_escaped_diff(editor_client, moderator_client, live):
    attack(editor_client, live)
    edit(editor_client, live, title=ATTACK_TITLE, story_md=ATTACK_STORY + "\n\n<script>alert(1)</script>")
    revision = pending_of(live)

    queue = page_text(moderator_client.get(url_for("moderation.queue")))
    assert ATTACK_TITLE in queue and url_for("moderation.revision", revision_id=revision.id) in \
        moderator_client.get(url_for("moderation.queue")).get_data(as_text=True)

    response = moderator_client.get(url_for("moderation.revision", revision_id=revision.id))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<del>" in html and "<ins>" in html
    assert "<ins>Send" in html or "<ins>Send your donations" in html
    assert "https://pay.example.net/harambee" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    text = page_text(response)
    assert "A visit of the mill" in text and "Added" in text


def test_refusing_keeps_the_public_version_and_tells_the_organizer_in_their_language(
        app, editor_client, moderator_client, live, owner, editor, smtp_server):
    owner.locale = "fr"
    db.session.commit()
    attack(editor_client, live)
    revision = pending_of(live)

    response = decide(moderator_client, revision, "refuse", reason="Payments go through Harambee only.")

    assert response.status_code == 302
    revision = db.session.get(CampaignRevision, revision.id)
    assert (revision.status, revision.reason) == (RevisionStatus.REFUSED, "Payments go through Harambee only.")
    assert "A grain mill for Ndiaganiao" in public(app, live) and ATTACK_TITLE not in public(app, live)
    assert count(RewardTier, RewardTier.campaign_id == live.id) == 1
    messages = smtp_server.wait_for(2)
    by_to = {m["To"]: m for m in messages}
    assert set(by_to) == {owner.email, editor.email}
    assert "Payments go through Harambee only." in smtp_server.text_of(by_to[editor.email])
    assert "refused" in by_to[editor.email]["Subject"]
    assert "refusées" in by_to[owner.email]["Subject"]
    page = page_text(editor_client.get(url_for("manage.edit_campaign", slug=live.slug)))
    assert "Payments go through Harambee only." in page


def test_a_refusal_needs_a_reason(editor_client, moderator_client, live):
    attack(editor_client, live)
    revision = pending_of(live)

    response = decide(moderator_client, revision, "refuse", reason="  ")

    assert response.status_code == 400
    assert pending_of(live) is not None


def test_approving_applies_everything_at_once_and_records_who_and_what(
        app, editor_client, moderator_client, live, moderator, editor, smtp_server):
    attack(editor_client, live)
    revision = pending_of(live)

    response = decide(moderator_client, revision, "approve")

    assert response.status_code == 302
    page = public(app, live)
    assert ATTACK_TITLE in page and "A visit of the mill" in page and "pay.example.net" in page
    revision = db.session.get(CampaignRevision, revision.id)
    assert (revision.status, revision.decided_by_id, revision.proposed_by_id) == \
        (RevisionStatus.APPROVED, moderator.id, editor.id)
    assert revision.before["title"] == "A grain mill for Ndiaganiao" and revision.after["title"] == ATTACK_TITLE
    assert smtp_server.wait_for(2)
    history = page_text(editor_client.get(url_for("manage.edit_campaign", slug=live.slug)))
    assert "approved" in history.lower()
    shown = editor_client.get(url_for("manage.revision", slug=live.slug, revision_id=revision.id))
    assert shown.status_code == 200 and "A grain mill for Ndiaganiao" in page_text(shown)


def test_a_second_edit_updates_the_pending_revision_and_a_decision_on_the_old_version_is_stale(
        app, editor_client, moderator_client, live):
    edit(editor_client, live, title="A grain mill and a well")
    first = pending_of(live)
    seen = first.version
    add_tier(editor_client, live)
    revision = pending_of(live)
    assert revision.id == first.id and revision.version == seen + 1

    response = decide(moderator_client, revision, "approve", version=seen)

    assert response.status_code == 409
    assert "changed" in page_text(response)
    assert pending_of(live) is not None
    assert decide(moderator_client, revision, "approve").status_code == 302
    page = public(app, live)
    assert "A grain mill and a well" in page and "A visit of the mill" in page


def test_approving_twice_is_a_clear_conflict(editor_client, moderator_client, live):
    attack(editor_client, live)
    revision = pending_of(live)
    assert decide(moderator_client, revision, "approve").status_code == 302

    again = decide(moderator_client, revision, "approve")
    refused = decide(moderator_client, revision, "refuse", reason="Too late")

    assert again.status_code == 409 and refused.status_code == 409
    assert "already" in page_text(again)


def test_a_revision_whose_base_changed_since_is_stale(editor_client, moderator_client, live):
    attack(editor_client, live)
    revision = pending_of(live)
    db.session.get(Campaign, live.id).summary = "Changed behind the revision's back."
    db.session.commit()

    response = decide(moderator_client, revision, "approve")

    assert response.status_code == 409
    assert pending_of(live) is not None
    assert db.session.get(Campaign, live.id).title == "A grain mill for Ndiaganiao"


@pytest.mark.parametrize("how", ["unknown", "bad-version", "bad-decision"])
def test_bad_moderation_input_is_a_4xx(editor_client, moderator_client, live, how):
    attack(editor_client, live)
    revision = pending_of(live)
    if how == "unknown":
        assert moderator_client.get(url_for("moderation.revision", revision_id=revision.id + 999)).status_code == 404
        response = decide(moderator_client, type("R", (), {"id": revision.id + 999, "version": 1}), "approve")
        assert response.status_code == 404
        assert editor_client.get(url_for("manage.revision", slug=live.slug,
                                         revision_id=revision.id + 999)).status_code == 404
    elif how == "bad-version":
        response = moderator_client.post(url_for("moderation.revision", revision_id=revision.id),
                                         data={"decision": "approve", "version": "x"})
        assert response.status_code == 400
    else:
        response = decide(moderator_client, revision, "publish")
        assert response.status_code == 400
    assert pending_of(live) is not None


def test_a_revision_of_another_campaign_is_not_found_under_this_one(editor_client, live, org):
    other = CampaignFactory(organization=org, live=True, slug="other-mill")
    db.session.commit()
    attack(editor_client, live)
    revision = pending_of(live)

    assert editor_client.get(url_for("manage.revision", slug=other.slug, revision_id=revision.id)).status_code == 404


# -- typo fixes ----------------------------------------------------------------------------------
def test_a_typo_fix_goes_through_directly_and_is_in_the_history(app, editor_client, editor, live):
    fixed = STORY.replace("readnig", "reading")

    response = edit(editor_client, live, story_md=fixed)

    assert response.status_code == 302
    assert pending_of(live) is None
    stored = db.session.get(Campaign, live.id)
    assert stored.story_md == fixed and "reading" in stored.story_html
    assert "Thank you for reading." in public(app, live)
    entry = db.session.scalar(select(CampaignRevision).where(CampaignRevision.campaign_id == live.id))
    assert (entry.status, entry.proposed_by_id) == (RevisionStatus.DIRECT, editor.id)
    assert (entry.before["story_md"], entry.after["story_md"]) == (STORY, fixed)
    history = page_text(editor_client.get(url_for("manage.edit_campaign", slug=live.slug)))
    assert "minor correction" in history


@pytest.mark.parametrize("addition", [
    " http://x.io",          # a link
    " pay.example.net",      # a bare domain
    " a@b.co",               # an email address
    " +221 77 123 45 67",    # a phone number
    " SN08 SN01 0015 2000 0002 5320",  # an IBAN (longer than 20 characters: review anyway)
    " [here](/x)",           # a Markdown link
])
def test_a_small_edit_that_adds_a_way_to_pay_or_reach_someone_goes_to_review(app, editor_client, live, addition):
    response = edit(editor_client, live, story_md=STORY + addition)

    assert response.status_code == 302
    assert pending_of(live) is not None
    assert db.session.get(Campaign, live.id).story_md == STORY


def test_any_title_change_goes_to_review(editor_client, live):
    edit(editor_client, live, title="A grain mill for Ndiaganiao!")

    assert pending_of(live) is not None
    assert db.session.get(Campaign, live.id).title == "A grain mill for Ndiaganiao"


def test_a_tier_change_goes_to_review_and_pledges_keep_the_public_terms(app, editor_client, live):
    tier = live.tiers[0]
    response = editor_client.post(url_for("manage.edit_tier", slug=live.slug, tier_id=tier.id),
                                  data={"title": "A bag of flour", "minimum": "1000"})

    assert response.status_code == 302
    assert pending_of(live).after["tiers"][0]["minimum_amount"] == 1_000
    db.session.expire_all()
    assert db.session.get(RewardTier, tier.id).minimum_amount == 5_000


def test_the_minor_edit_rule():
    before = {"title": "T", "summary": "S" * 100, "story_md": "x" * 2000, "cover_key": None, "category": "water",
              "country": "SN", "region": None, "tiers": []}
    assert diffing.is_minor(before, {**before, "story_md": "y" + "x" * 1999})
    assert diffing.is_minor(before, {**before, "story_md": "x" * 1980})  # 20 characters
    assert not diffing.is_minor(before, {**before, "story_md": "x" * 1979})  # 21
    small = {**before, "story_md": "x" * 200}
    assert diffing.is_minor(small, {**small, "story_md": "x" * 194})  # 6 <= 2% of 300
    assert not diffing.is_minor(small, {**small, "story_md": "x" * 193})  # 7 > 2% of 300
    assert not diffing.is_minor(before, {**before, "title": "U"})
    assert not diffing.is_minor(before, {**before, "cover_key": "covers/new.jpg"})
    assert diffing.edit_distance("kitten", "sitting", limit=20) == 3
    far = "a" * 5000
    assert diffing.edit_distance(far, "b" + far[1:2500] + "c" + far[2501:], limit=20) == 2


# -- a new cover waits too; tier removals go through ---------------------------------------------
def test_a_new_cover_waits_for_review_and_the_moderator_sees_both(app, editor_client, moderator_client, live):
    from tests.test_permissions import png_bytes

    data = campaign_form(title=live.title, summary=live.summary, story_md=live.story_md, region="")
    data["cover"] = (io.BytesIO(png_bytes()), "cover.png")
    response = editor_client.post(url_for("manage.edit_campaign", slug=live.slug), data=data,
                                  content_type="multipart/form-data")

    assert response.status_code == 302
    revision = pending_of(live)
    assert revision.after["cover_key"] and db.session.get(Campaign, live.id).cover_key is None
    html = moderator_client.get(url_for("moderation.revision", revision_id=revision.id)).get_data(as_text=True)
    assert "New cover" in html


def test_removing_an_unchosen_tier_goes_through_and_is_recorded(editor_client, live):
    tier = live.tiers[0]

    response = editor_client.post(url_for("manage.delete_tier", slug=live.slug, tier_id=tier.id))

    assert response.status_code == 302
    assert count(RewardTier, RewardTier.campaign_id == live.id) == 0
    entry = db.session.scalar(select(CampaignRevision).where(CampaignRevision.campaign_id == live.id))
    assert entry.status == RevisionStatus.DIRECT and entry.before["tiers"][0]["title"] == "A bag of flour"


# -- who may do what ---------------------------------------------------------------------------
def test_nobody_decides_a_revision_they_or_their_organization_proposed(app, live, org, moderator_client):
    admin_editor = UserFactory(verified=True, admin=True)
    moderator_editor = UserFactory(verified=True, moderator=True)
    MembershipFactory(organization=org, user=admin_editor, role=OrgRole.EDITOR)
    MembershipFactory(organization=org, user=moderator_editor, role=OrgRole.EDITOR)
    db.session.commit()
    admin_client = app.test_client()
    sign_in(admin_client, admin_editor)
    attack(admin_client, live)
    revision = pending_of(live)
    other_client = app.test_client()
    sign_in(other_client, moderator_editor)

    assert decide(admin_client, revision, "approve").status_code == 403
    assert decide(other_client, revision, "approve").status_code == 403
    assert pending_of(live) is not None
    assert db.session.get(Campaign, live.id).title == "A grain mill for Ndiaganiao"
    assert decide(moderator_client, revision, "approve").status_code == 302


def test_only_the_campaigns_editors_propose_and_only_moderators_decide(app, live, editor_client, moderator_client):
    outsider = UserFactory(verified=True)
    db.session.commit()
    outsider_client = app.test_client()
    sign_in(outsider_client, outsider)

    assert edit(outsider_client, live, title=ATTACK_TITLE).status_code == 403
    assert edit(moderator_client, live, title=ATTACK_TITLE).status_code == 403
    assert add_tier(moderator_client, live).status_code == 403
    assert pending_of(live) is None

    attack(editor_client, live)
    revision = pending_of(live)
    assert decide(editor_client, revision, "approve").status_code == 403
    assert decide(outsider_client, revision, "approve").status_code == 403
    assert pending_of(live) is not None


def test_the_service_refuses_a_decision_from_a_non_moderator(live, editor, owner):
    revisions.propose(live, editor, {**revisions.working_copy(live), "title": "New"})
    revision = pending_of(live)
    from webapp.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        revisions.decide(revision, owner, approve=True, version=revision.version)


def test_an_organizer_withdraws_the_pending_revision(app, editor_client, moderator_client, live):
    attack(editor_client, live)
    revision = pending_of(live)

    response = editor_client.post(url_for("manage.withdraw_revision", slug=live.slug))

    assert response.status_code == 302
    assert db.session.get(CampaignRevision, revision.id).status == RevisionStatus.WITHDRAWN
    assert decide(moderator_client, revision, "approve").status_code == 409
    assert editor_client.post(url_for("manage.withdraw_revision", slug=live.slug)).status_code == 409


# -- pledging never sees a pending tier --------------------------------------------------------
def test_a_pending_tier_cannot_be_chosen_when_pledging(app, editor_client, live):
    attack(editor_client, live)
    existing = {t.id for t in db.session.scalars(select(RewardTier))}
    guest = app.test_client()

    page = page_text(guest.get(url_for("payments.pledge", slug=live.slug)))
    response = guest.post(url_for("payments.pledge", slug=live.slug), data={
        "amount": "30000", "pay_currency": "XOF", "client_token": "a-unique-client-token-123",
        "email": "guest@example.org", "tier": str(max(existing) + 1), "display_name": "", "message": ""})

    assert "A visit of the mill" not in page and "A bag of flour" in page
    assert response.status_code == 400
    from webapp.payments.models import Pledge
    assert committed_count(Pledge) == 0


# -- approved, not yet live --------------------------------------------------------------------
def test_an_approved_campaign_waiting_for_its_start_is_edited_through_review(editor_client, org):
    from datetime import timedelta

    from webapp.clock import utcnow
    starts = utcnow() + timedelta(days=3)
    campaign = CampaignFactory(organization=org, status=CampaignStatus.APPROVED, starts_at=starts,
                               ends_at=starts + timedelta(days=20), story_md=STORY)
    db.session.commit()

    response = edit(editor_client, campaign, title=ATTACK_TITLE)

    assert response.status_code == 302
    assert pending_of(campaign) is not None
    assert db.session.get(Campaign, campaign.id).title != ATTACK_TITLE


def test_approving_a_change_to_a_tier_backers_chose_meanwhile_is_a_clear_conflict(app, editor_client,
                                                                                  moderator_client, live):
    from tests.test_permissions import _pledge
    from webapp.payments.models import PledgeStatus

    tier = live.tiers[0]
    editor_client.post(url_for("manage.edit_tier", slug=live.slug, tier_id=tier.id),
                       data={"title": "Half a bag of flour", "minimum": "5000"})
    revision = pending_of(live)
    db.session.add(_pledge(live, None, PledgeStatus.COMMITTED, 1, tier_id=tier.id))
    db.session.commit()

    response = decide(moderator_client, revision, "approve")

    assert response.status_code == 409
    assert "chosen" in page_text(response)
    assert pending_of(live) is not None
    assert db.session.get(RewardTier, tier.id).title == "A bag of flour"


def test_editing_back_to_the_approved_version_withdraws_the_pending_revision(editor_client, live):
    edit(editor_client, live, title="A grain mill and a well")
    revision = pending_of(live)

    response = edit(editor_client, live, title="A grain mill for Ndiaganiao")

    assert response.status_code == 302
    assert pending_of(live) is None
    assert db.session.get(CampaignRevision, revision.id).status == RevisionStatus.WITHDRAWN


def test_moderators_read_the_whole_history_of_a_campaigns_changes(editor_client, moderator_client, live):
    edit(editor_client, live, story_md=STORY.replace("readnig", "reading"))  # direct
    attack(editor_client, live)
    revision = pending_of(live)

    page = moderator_client.get(url_for("moderation.revision", revision_id=revision.id))

    text = page_text(page)
    assert "minor correction, published at once" in text and "waiting for review" in text
    first = db.session.scalar(select(CampaignRevision).where(CampaignRevision.status == RevisionStatus.DIRECT))
    assert url_for("moderation.revision", revision_id=first.id) in page.get_data(as_text=True)
    assert moderator_client.get(url_for("manage.revision", slug=live.slug, revision_id=first.id)).status_code == 200
