"""A report reaches every backer once, in their language, never one who unsubscribed, and never twice."""
from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from flask import url_for
from sqlalchemy import func, select

from tests.factories import CampaignFactory, PledgeFactory
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.progress_reports import delivery, services
from webapp.progress_reports.models import DeliveryState, ProgressReport, ReportDelivery
from webapp.progress_reports.tasks import fan_out, send_batch


def post(client, title="The mill is running", body="We bought the **mill**."):
    return client.post(url_for("manage_reports.new", slug="mill"), data={"title": title, "body": body})


def recipients(messages) -> list[str]:
    return sorted(m["To"] for m in messages)


def unsubscribe_link(message) -> str:
    return re.search(r"<(http[^>]+)>", message["List-Unsubscribe"]).group(1)


def path_of(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def test_each_backer_gets_one_email_whatever_their_number_of_pledges(editor_client, backers, smtp_server):
    response = post(editor_client)

    assert response.status_code == 302
    assert recipients(smtp_server.messages) == ["awa@example.org", "guest@example.net", "kofi@example.org"]
    assert db.session.scalar(select(func.count()).select_from(ReportDelivery)) == 3


def test_each_backer_reads_it_in_their_language(editor_client, backers, smtp_server):
    post(editor_client)

    by_address = {m["To"]: m for m in smtp_server.messages}
    # Awa chose French on her profile (her guest pledge in English does not count over it)
    assert "Coopérative de Ndiaganiao" in by_address["awa@example.org"]["Subject"]
    assert "publié un rapport" in smtp_server.text_of(by_address["awa@example.org"])
    # Kofi chose nothing: the language he pledged in
    assert "publié un rapport" in smtp_server.text_of(by_address["kofi@example.org"])
    assert "posted a progress report" in smtp_server.text_of(by_address["guest@example.net"])


def test_the_email_carries_the_report_and_absolute_links_from_public_url(app, editor_client, backers, smtp_server):
    post(editor_client)

    message = next(m for m in smtp_server.messages if m["To"] == "guest@example.net")
    text = smtp_server.text_of(message)
    base = app.config.get("PUBLIC_URL") or "http://"
    assert "The mill is running" in text and "We bought the **mill**." in text
    assert unsubscribe_link(message).startswith(base) and unsubscribe_link(message) in text
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    report = db.session.scalar(select(ProgressReport))
    assert url_for("progress_reports.show", slug="mill", report_id=report.id, _external=True) in text


def test_an_unsubscribed_backer_gets_no_further_report_of_that_campaign(app, editor_client, backers, smtp_server):
    post(editor_client)
    link = unsubscribe_link(next(m for m in smtp_server.messages if m["To"] == "awa@example.org"))
    visitor = app.test_client()  # no sign-in needed

    page = visitor.get(path_of(link))
    assert page.status_code == 200 and "Unsubscribe" in page.get_data(as_text=True)
    assert services.is_unsubscribed(1, "awa@example.org") is False  # opening the page changes nothing
    done = visitor.post(path_of(link))
    assert done.status_code == 302
    smtp_server.clear()

    post(editor_client, title="Second report")

    assert recipients(smtp_server.messages) == ["guest@example.net", "kofi@example.org"]


def test_the_one_click_post_of_mail_clients_unsubscribes(app, editor_client, backers, smtp_server):
    post(editor_client)
    link = unsubscribe_link(next(m for m in smtp_server.messages if m["To"] == "kofi@example.org"))

    response = app.test_client().post(path_of(link), data={"List-Unsubscribe": "One-Click"})

    assert response.status_code == 204
    campaign_id = db.session.scalar(select(ProgressReport.campaign_id))
    assert services.is_unsubscribed(campaign_id, "KOFI@example.org")


def test_unsubscribing_from_one_campaign_leaves_the_others(app, org, editor_client, backers, smtp_server):
    other = CampaignFactory(succeeded=True, organization=org, slug="well")
    PledgeFactory(campaign=other, user=backers["awa"])
    db.session.commit()
    post(editor_client)
    link = unsubscribe_link(next(m for m in smtp_server.messages if m["To"] == "awa@example.org"))
    app.test_client().post(path_of(link))
    smtp_server.clear()

    editor_client.post(url_for("manage_reports.new", slug="well"), data={"title": "Well", "body": "Dug."})

    assert recipients(smtp_server.messages) == ["awa@example.org"]


def test_an_unsubscribe_after_the_fan_out_is_honoured_at_sending(campaign, editor, backers, smtp_server):
    report = services.post_report(campaign, editor, "Report", "Text", [])
    db.session.commit()
    delivery.fan_out(report.id)
    db.session.commit()
    services.unsubscribe(campaign, "guest@example.net")
    db.session.commit()

    for ids in delivery.due_batches(report.id):
        send_batch(ids)

    assert recipients(smtp_server.messages) == ["awa@example.org", "kofi@example.org"]
    states = dict(db.session.execute(select(ReportDelivery.email, ReportDelivery.state)).all())
    assert states["guest@example.net"] == DeliveryState.SKIPPED


@pytest.mark.parametrize("token", ["", "not-a-token", "eyJjIjoxLCJlIjoiYUBiLmMifQ.forged"])
def test_an_invalid_unsubscribe_token_is_refused_and_changes_nothing(app, campaign, token):
    db.session.commit()
    response = app.test_client().post(f"/reports/unsubscribe/{token}x")

    assert response.status_code == 400
    assert services.is_unsubscribed(campaign.id, "a@b.c") is False


def test_a_rerun_of_every_job_sends_nothing_twice(campaign, editor, backers, smtp_server):
    report = services.post_report(campaign, editor, "Report", "Text", [])
    db.session.commit()

    from webapp.progress_reports.tasks import resume

    fan_out(report.id)  # writes the deliveries, then sends their batches (in-process here)
    fan_out(report.id)  # the same task delivered again
    send_batch(list(db.session.scalars(select(ReportDelivery.id))))  # a batch delivered again
    resume()  # the sweep

    assert recipients(smtp_server.messages) == ["awa@example.org", "guest@example.net", "kofi@example.org"]
    assert db.session.scalar(select(func.count()).select_from(ReportDelivery)) == 3


def test_a_delivery_claimed_by_a_live_worker_is_left_alone_and_a_dead_ones_is_taken_back(campaign, editor, backers,
                                                                                       smtp_server):
    report = services.post_report(campaign, editor, "Report", "Text", [])
    db.session.commit()
    delivery.fan_out(report.id)
    db.session.commit()
    ids = list(db.session.scalars(select(ReportDelivery.id).order_by(ReportDelivery.id)))
    assert delivery.claim(ids[0])  # another worker holds it
    db.session.commit()

    send_batch(ids)
    assert len(smtp_server.messages) == 2

    later = utcnow() + timedelta(seconds=services.setting("PROGRESS_REPORT_CLAIM_LEASE_SECONDS") + 1)
    assert delivery.due_batches(report.id, now=later) == [[ids[0]]]
    assert delivery.claim(ids[0], now=later)
    db.session.commit()
    assert delivery.send_claimed(ids[0]) == delivery.Outcome.SENT
    db.session.commit()
    assert len(smtp_server.messages) == 3
    assert delivery.due_batches(report.id, now=later) == []


def test_a_temporary_smtp_failure_is_queued_again_and_sent_once_later(app, campaign, editor, backers, smtp_server):
    report = services.post_report(campaign, editor, "Report", "Text", [])
    db.session.commit()
    delivery.fan_out(report.id)
    db.session.commit()
    port = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = 1  # nothing listens: connection refused
    try:
        for ids in delivery.due_batches(report.id):
            send_batch(ids)
    finally:
        app.config["MAIL_PORT"] = port
    assert smtp_server.messages == []
    assert set(db.session.scalars(select(ReportDelivery.state))) == {DeliveryState.QUEUED}

    for ids in delivery.due_batches(report.id):
        send_batch(ids)

    assert len(smtp_server.messages) == 3


def test_a_large_backer_list_is_written_in_batches_and_sent_outside_the_request(app, campaign, editor, smtp_server):
    for n in range(25):
        PledgeFactory(campaign=campaign, user=None, email=f"backer-{n}@example.net")
    app.config["PROGRESS_REPORT_BATCH_SIZE"] = 10
    try:
        report = services.post_report(campaign, editor, "Report", "Text", [])
        db.session.commit()
        assert delivery.fan_out(report.id) == 25
        db.session.commit()
        batches = delivery.due_batches(report.id)
    finally:
        app.config.pop("PROGRESS_REPORT_BATCH_SIZE")
    assert [len(b) for b in batches] == [10, 10, 5]


@pytest.mark.pg_only
def test_two_workers_sending_the_same_batch_at_once_send_each_email_once(app, campaign, editor, backers, smtp_server):
    from concurrent.futures import ThreadPoolExecutor

    from webapp import create_app
    from config import TestConfig

    report = services.post_report(campaign, editor, "Report", "Text", [])
    db.session.commit()
    delivery.fan_out(report.id)
    db.session.commit()
    ids = list(db.session.scalars(select(ReportDelivery.id)))
    worker = create_app(type("ReportWorkerConfig", (TestConfig,), {
        "MAIL_BACKEND": "smtp", "MAIL_SERVER": smtp_server.host, "MAIL_PORT": smtp_server.port,
        "MAIL_USE_TLS": False, "MAIL_USERNAME": None}))
    barrier = threading.Barrier(4)

    def work(_):
        with worker.app_context():
            barrier.wait()
            try:
                return send_batch.run(ids)
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(work, range(4)))
    with worker.app_context():
        db.engine.dispose()

    assert sum(r[delivery.Outcome.SENT] for r in results) == 3
    assert recipients(smtp_server.messages) == ["awa@example.org", "guest@example.net", "kofi@example.org"]
