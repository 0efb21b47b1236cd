"""Demo data: a progress report on the Lyon bakery's succeeded oven campaign (no email is sent for it)."""
from __future__ import annotations

from sqlalchemy import select

from webapp.campaigns.models import Campaign
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.markup import render_markdown
from webapp.organizations.models import Membership
from webapp.progress_reports.models import ProgressReport

REPORT = """The oven is built and has baked its first month of bread.

- **Oven and chimney**: delivered and installed in the second week.
- **Training**: two days with the builder for the four bakers.
- **Wood**: we now burn about half of what the old oven needed, from a forest 20 km away.

Next: a thank-you loaf for every backer who passes by the bakery.
"""


def load_progress_reports() -> int:
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == "pain-partage-oven"))
    if campaign is None or db.session.scalar(select(ProgressReport.id).where(ProgressReport.campaign_id == campaign.id)):
        return 0
    author = db.session.scalar(select(Membership.user_id).where(Membership.organization_id == campaign.organization_id))
    db.session.add(ProgressReport(campaign_id=campaign.id, author_id=author, title="The new oven bakes",
                                  body_md=REPORT, body_html=render_markdown(REPORT),
                                  fanned_out_at=utcnow()))  # demo backers get no email
    db.session.flush()
    return 1
