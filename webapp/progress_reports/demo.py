"""Demo data: progress reports on the Lyon bakery's oven and on the Ganvié school kitchen (no email is sent for them)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from webapp.campaigns.models import Campaign
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.markup import render_markdown
from webapp.organizations.models import Membership
from webapp.payments import demo
from webapp.payments.expenses.models import Expense, ExpenseState
from webapp.progress_reports.models import ProgressReport

#: the oven's backers: (days before the deadline, euro cents); 20,400 EUR of its 20,000, so that the page that says
#: it reached its goal shows the money that did
OVEN_GIFTS = [(28, 500_000), (21, 400_000), (15, 350_000), (9, 300_000), (4, 250_000), (1, 240_000)]

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
    _oven_backers(campaign)
    db.session.add(ProgressReport(campaign_id=campaign.id, author_id=author, title="The new oven bakes",
                                  body_md=REPORT, body_html=render_markdown(REPORT),
                                  fanned_out_at=utcnow()))  # demo backers get no email
    db.session.flush()
    return 1


def _oven_backers(campaign: Campaign) -> None:
    """The succeeded oven's paid pledges and their charges in the ledger, as a real close leaves them."""
    closed = campaign.ends_at
    demo.paid_pledges(campaign, "oven", [(amount, closed - timedelta(days=days)) for days, amount in OVEN_GIFTS],
                      lambda n: (f"voisin{n + 1}@lyon.example", "fr", f"Voisin {n + 1}"))


KITCHEN_REPORT = """The kitchen of the Ganvié school cooks on its new stoves.

- **Stoves and pots**: bought in Cotonou and carried across the lagoon by pirogue; they burn half the wood.
- **Water tank**: the supplier's invoice is with our host; the tank arrives next month.

The cook started in the first week of term. Thank you to everyone who gave.
"""


def load_kitchen_report() -> int:
    """The Benin campaign's report, linking the expenses paid so far (after the hosts' demo has paid them)."""
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == "ganvie-school-kitchen"))
    if campaign is None or db.session.scalar(select(ProgressReport.id).where(ProgressReport.campaign_id == campaign.id)):
        return 0
    author = db.session.scalar(select(Membership.user_id).where(Membership.organization_id == campaign.organization_id))
    paid = list(db.session.scalars(select(Expense).where(Expense.campaign_id == campaign.id,
                                                         Expense.state == ExpenseState.PAID)))
    db.session.add(ProgressReport(campaign_id=campaign.id, author_id=author, title="The school kitchen cooks",
                                  body_md=KITCHEN_REPORT, body_html=render_markdown(KITCHEN_REPORT),
                                  expenses=paid, fanned_out_at=utcnow()))  # demo backers get no email
    db.session.flush()
    return 1
