"""An organizer removes a campaign's translation (issue 11): after a confirmation page, by POST; at once, the public
translation and any change of it waiting for review; its readers get the original."""
from __future__ import annotations

from flask import url_for

from tests.campaigns.helpers import page_text
from tests.factories import CampaignFactory
from webapp.campaigns import revisions
from webapp.campaigns.models import CampaignRevision, CampaignTranslation, RevisionStatus
from webapp.extensions import db

R = RevisionStatus


def _campaign(org, **state):
    campaign = CampaignFactory(organization=org, language="en", title="A grain mill", **state)
    db.session.add(CampaignTranslation(campaign_id=campaign.id, language="fr", title="Un moulin à grain",
                                       summary="Moudre", story_md="Histoire", story_html="<p>Histoire</p>"))
    db.session.commit()
    return campaign


def _remove(client, campaign, lang="fr"):
    return client.post(url_for("manage.remove_translation", slug=campaign.slug, language=lang))


def _rows(campaign):
    return db.session.query(CampaignTranslation).filter_by(campaign_id=campaign.id).count()


def test_removal_asks_for_a_confirmation_then_removes_a_drafts_translation(app, org, editor_client):
    campaign = _campaign(org, draft=True)
    form = editor_client.get(url_for("manage.edit_translation", slug=campaign.slug, language="fr"))
    confirm_url = url_for("manage.remove_translation", slug=campaign.slug, language="fr")
    assert confirm_url in form.get_data(as_text=True)
    confirmation = editor_client.get(confirm_url)
    assert confirmation.status_code == 200 and "cannot be undone" in page_text(confirmation)
    assert 'method="post"' in confirmation.get_data(as_text=True) and _rows(campaign) == 1  # a GET removes nothing
    response = _remove(editor_client, campaign)
    assert response.status_code == 303 and response.location.endswith(url_for("manage.edit_campaign", slug=campaign.slug))
    assert _rows(campaign) == 0
    assert _remove(editor_client, campaign).status_code == 404  # nothing left to remove
    assert editor_client.get(confirm_url).status_code == 404


def test_removal_needs_the_csrf_token(app, org, editor):
    from tests.campaigns.helpers import sign_in

    campaign = _campaign(org, draft=True)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        client = app.test_client()
        sign_in(client, editor)
        assert _remove(client, campaign).status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert _rows(campaign) == 1


def test_a_live_campaigns_translation_goes_at_once_and_the_history_keeps_it(app, org, editor_client):
    campaign = _campaign(org, live=True)
    assert _remove(editor_client, campaign).status_code == 303
    assert _rows(campaign) == 0
    revision = db.session.query(CampaignRevision).filter_by(campaign_id=campaign.id).one()
    assert revision.status == R.DIRECT and "fr" in revision.before["translations"] and "translations" not in revision.after
    french = app.test_client().get(url_for("campaigns.show", slug=campaign.slug), headers={"Accept-Language": "fr"})
    assert "A grain mill" in page_text(french) and "Un moulin" not in page_text(french)


def test_a_pending_change_loses_the_removed_translation_and_a_decision_on_the_old_version_is_refused(
        app, org, editor, editor_client):
    campaign = _campaign(org, live=True)
    proposal = revisions.working_copy(campaign)
    proposal["title"] = "A bigger grain mill"
    proposal["translations"]["fr"]["title"] = "Un plus grand moulin"
    assert revisions.propose(campaign, editor, proposal) == revisions.PENDING
    db.session.commit()
    pending = revisions.pending_revision(campaign)
    assert _remove(editor_client, campaign).status_code == 303
    db.session.expire_all()
    pending = db.session.get(CampaignRevision, pending.id)
    assert pending.status == R.PENDING and pending.version == 2
    assert "translations" not in pending.after and "translations" not in pending.before
    assert pending.before == revisions.snapshot(campaign)  # its base still matches: a moderator can approve it
    assert pending.after["title"] == "A bigger grain mill"


def test_a_pending_change_of_only_that_translation_is_withdrawn(app, org, editor, editor_client):
    campaign = _campaign(org, live=True)
    proposal = revisions.working_copy(campaign)
    proposal["translations"]["es"] = {"title": "Un molino", "summary": "Moler", "story_md": "", "tiers": {}}
    revisions.propose(campaign, editor, proposal)
    db.session.commit()
    pending = revisions.pending_revision(campaign)
    # the Spanish one exists only in the proposal: removing it withdraws the proposal; the French stays
    assert _remove(editor_client, campaign, "es").status_code == 303
    db.session.expire_all()
    assert db.session.get(CampaignRevision, pending.id).status == R.WITHDRAWN and _rows(campaign) == 1


def test_a_finished_campaigns_translation_cannot_be_removed(app, org, editor_client):
    campaign = _campaign(org, live=True)
    campaign.status = campaign.status.SUCCEEDED
    db.session.commit()
    response = _remove(editor_client, campaign)
    assert response.status_code == 409 and "cannot be edited now" in page_text(response)
    assert _rows(campaign) == 1
