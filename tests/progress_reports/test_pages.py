"""Posting a report with photos, its page and the campaign's list, and the notice of a campaign that never reported."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from flask import url_for
from PIL import Image
from sqlalchemy import select

from tests.campaigns.helpers import sign_in
from tests.factories import CampaignFactory, CampaignTransitionFactory, UserFactory
from webapp.campaigns.models import CampaignStatus
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.progress_reports import services
from webapp.progress_reports.models import ProgressReport
from webapp.storage import get_storage


def image(fmt="PNG", size=(40, 30)) -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(out, format=fmt)
    out.seek(0)
    return out


def form(*photos, title="The mill is running", body="We bought the **mill**.<script>alert(1)</script>"):
    return {"title": title, "body": body, "photos": [(p, f"photo{n}.png") for n, p in enumerate(photos)]}


def test_an_editor_posts_a_report_with_photos_re_encoded_as_jpeg(editor_client, campaign):
    response = editor_client.post(url_for("manage_reports.new", slug="mill"), data=form(image(), image("JPEG")),
                                  content_type="multipart/form-data")

    assert response.status_code == 302
    report = db.session.scalar(select(ProgressReport))
    assert [p.position for p in report.photos] == [0, 1]
    for photo in report.photos:
        assert get_storage().read(photo.key)[:3] == b"\xff\xd8\xff"  # JPEG, whatever was sent
    page = editor_client.get(response.location).get_data(as_text=True)
    assert "<strong>mill</strong>" in page and "<script>alert" not in page
    assert page.count('src="/uploads/reports/') == 2


def test_the_campaign_page_lists_its_reports_with_a_link_to_each(app, editor, campaign):
    report = services.post_report(campaign, editor, "Seeds bought", "Text", [])
    db.session.commit()

    page = app.test_client().get(url_for("campaigns.show", slug="mill")).get_data(as_text=True)

    assert "Seeds bought" in page
    assert url_for("progress_reports.show", slug="mill", report_id=report.id) in page


def test_a_file_that_is_not_an_image_is_refused_with_a_message(editor_client, campaign):
    response = editor_client.post(url_for("manage_reports.new", slug="mill"),
                                  data=form(io.BytesIO(b"%PDF-1.4 not a photo")), content_type="multipart/form-data")

    assert response.status_code == 400
    assert "not an image we can read" in response.get_data(as_text=True)
    assert db.session.scalar(select(ProgressReport)) is None


def test_more_photos_than_allowed_are_refused(editor_client, campaign):
    most = services.setting("PROGRESS_REPORT_MAX_PHOTOS")
    response = editor_client.post(url_for("manage_reports.new", slug="mill"),
                                  data=form(*[image() for _ in range(most + 1)]), content_type="multipart/form-data")

    assert response.status_code == 400
    assert f"At most {most} photos" in response.get_data(as_text=True)
    assert db.session.scalar(select(ProgressReport)) is None


def test_an_empty_title_or_text_is_refused_beside_the_field(editor_client, campaign):
    response = editor_client.post(url_for("manage_reports.new", slug="mill"), data={"title": "", "body": ""})

    assert response.status_code == 400
    assert db.session.scalar(select(ProgressReport)) is None


@pytest.mark.parametrize("status", [CampaignStatus.DRAFT, CampaignStatus.FAILED, CampaignStatus.SUBMITTED])
def test_a_campaign_that_raised_nothing_to_report_on_refuses_a_report(app, org, editor, status):
    CampaignFactory(organization=org, slug="other", status=status)
    db.session.commit()
    client = app.test_client()
    sign_in(client, editor)

    response = client.post(url_for("manage_reports.new", slug="other"), data={"title": "T", "body": "B"})

    assert response.status_code == 409
    assert db.session.scalar(select(ProgressReport)) is None


def test_only_the_organizations_editors_may_post(app, campaign):
    stranger = UserFactory(verified=True)
    db.session.commit()
    client = app.test_client()
    sign_in(client, stranger)

    assert client.post(url_for("manage_reports.new", slug="mill"), data={"title": "T", "body": "B"}).status_code == 403
    assert db.session.scalar(select(ProgressReport)) is None


def _succeeded(org, days_ago: int):
    campaign = CampaignFactory(succeeded=True, organization=org, slug=f"done-{days_ago}",
                               starts_at=utcnow() - timedelta(days=days_ago + 30),
                               ends_at=utcnow() - timedelta(days=days_ago))
    CampaignTransitionFactory(campaign=campaign, from_status=CampaignStatus.LIVE, to_status=CampaignStatus.SUCCEEDED,
                              at=utcnow() - timedelta(days=days_ago))
    return campaign


def test_a_campaign_that_succeeded_over_90_days_ago_without_a_report_says_so(app, org):
    campaign = _succeeded(org, 100)
    db.session.commit()
    day = (utcnow() - timedelta(days=100)).date()

    page = app.test_client().get(url_for("campaigns.show", slug=campaign.slug)).get_data(as_text=True)

    assert "No progress report since the campaign succeeded on" in page
    assert services.overdue_since(campaign) == day


def test_the_notice_is_not_shown_before_90_days_nor_once_a_report_is_posted(app, org, editor):
    recent, old = _succeeded(org, 30), _succeeded(org, 100)
    services.post_report(old, editor, "At last", "Text", [])
    db.session.commit()

    for campaign in (recent, old):
        page = app.test_client().get(url_for("campaigns.show", slug=campaign.slug)).get_data(as_text=True)
        assert "No progress report since" not in page


def test_the_notice_reads_in_french(app, org):
    campaign = _succeeded(org, 100)
    db.session.commit()

    page = app.test_client().get(url_for("campaigns.show", slug=campaign.slug),
                                 headers={"Accept-Language": "fr"}).get_data(as_text=True)

    assert "Aucun rapport d’avancement depuis la réussite de la campagne le" in page


def test_a_report_of_another_campaign_is_not_found(app, org, editor, campaign):
    other = CampaignFactory(succeeded=True, organization=org, slug="well")
    report = services.post_report(other, editor, "Well", "Text", [])
    db.session.commit()

    assert app.test_client().get(url_for("progress_reports.show", slug="mill", report_id=report.id)).status_code == 404
