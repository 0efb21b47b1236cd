"""The demo: a host for Benin and Morocco, and the Ganvié kitchen with two paid expenses and one awaiting approval."""
from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from webapp import demo
from webapp.campaigns.models import Campaign
from webapp.extensions import db
from webapp.ledger import services as ledger
from webapp.money import Money
from webapp.payments.expenses import services as expenses
from webapp.payments.hosts import services as hosts


def test_the_demo_has_a_host_and_a_benin_campaign_spending_through_it(app, client):
    demo.load_all()
    db.session.commit()
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == "ganvie-school-kitchen"))
    host = hosts.host_for(campaign.organization_id)
    assert host.organization.slug == "finances-solidaires"
    assert hosts.host_for(db.session.scalar(select(Campaign.organization_id).where(Campaign.slug == "solar-argan-press"))) == host
    states = Counter(e.state.value for e in expenses.expenses_of(campaign))
    assert states == {"paid": 2, "submitted": 1}
    assert all(e.receipts for e in expenses.expenses_of(campaign))
    fees = hosts.fee_for(host, Money(580_000, "XOF")) + hosts.fee_for(host, Money(450_000, "XOF"))
    assert expenses.held(campaign) == Money(1_620_000 - 1_030_000, "XOF") - fees
    assert sum(v for (_a, c), v in ledger.trial_balance().items() if c == "XOF") == 0
    page = client.get("/campaigns/ganvie-school-kitchen/transparency").get_data(as_text=True)
    assert "Water tank and filter" in page and "Receipt checked by the host" in page and "MoMo" not in page
    # its progress report links the two paid expenses, and shows them without a receipt or a payee's detail
    from webapp.progress_reports.models import ProgressReport

    report = db.session.scalar(select(ProgressReport).where(ProgressReport.campaign_id == campaign.id))
    assert sorted(e.state.value for e in report.expenses) == ["paid", "paid"]
    report_page = client.get(f"/campaigns/ganvie-school-kitchen/reports/{report.id}").get_data(as_text=True)
    assert "The school kitchen cooks" in report_page and "MoMo" not in report_page
    again = demo.load_all()
    assert again["hosts"] == 0 and again["progress reports on hosted campaigns"] == 0  # twice: nothing more
