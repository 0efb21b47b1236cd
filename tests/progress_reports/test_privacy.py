"""A member's report emails and opt-outs are in their data download, and go with their account."""
from __future__ import annotations

from sqlalchemy import select

from webapp.extensions import db
from webapp.privacy.models import ErasureReason
from webapp.privacy.services import erasure, export
from webapp.progress_reports import delivery, services
from webapp.progress_reports.models import ReportDelivery, ReportUnsubscribe


def test_the_export_lists_the_report_emails_and_opt_outs_and_erasure_removes_them(campaign, editor, backers):
    awa = backers["awa"]
    report = services.post_report(campaign, editor, "Seeds bought", "Text", [])
    delivery.fan_out(report.id)
    services.unsubscribe(campaign, awa.email)
    db.session.flush()

    records = export.gather(awa).records
    assert [r["report"] for r in records["progress_report_emails"]] == ["Seeds bought"]
    assert [r["campaign_slug"] for r in records["progress_report_opt_outs"]] == ["mill"]

    erasure.erase_account(awa, ErasureReason.MEMBER, tell_member=False)

    for model in (ReportDelivery, ReportUnsubscribe):
        assert db.session.scalar(select(model.id).where(model.email == "awa@example.org")) is None
    assert db.session.scalar(select(ReportDelivery.id).where(ReportDelivery.email == "guest@example.net"))
