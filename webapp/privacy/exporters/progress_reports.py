"""The progress reports' part: the report emails sent to the member's address, and the campaigns they opted out of."""
from __future__ import annotations

from sqlalchemy import select

from webapp.accounts.models import User
from webapp.campaigns.models import Campaign
from webapp.extensions import db
from webapp.privacy.registry import exporter, row
from webapp.progress_reports.models import ProgressReport, ReportDelivery, ReportUnsubscribe


@exporter("progress_reports")
def export_progress_reports(user: User) -> dict[str, list]:
    address = (user.email or "").strip().lower()
    deliveries = db.session.execute(
        select(ReportDelivery, ProgressReport).join(ProgressReport, ProgressReport.id == ReportDelivery.report_id)
        .where(ReportDelivery.email == address).order_by(ReportDelivery.id))
    opt_outs = db.session.execute(
        select(ReportUnsubscribe, Campaign).join(Campaign, Campaign.id == ReportUnsubscribe.campaign_id)
        .where(ReportUnsubscribe.email == address).order_by(ReportUnsubscribe.id))
    return {
        "progress_report_emails": [row(report=r.title, email=d.email, language=d.locale, state=d.state,
                                       sent_at=d.sent_at) for d, r in deliveries],
        "progress_report_opt_outs": [row(campaign=c.title, campaign_slug=c.slug, email=u.email, at=u.at)
                                     for u, c in opt_outs],
    }
