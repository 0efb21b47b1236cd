"""The pages: an organization submits an expense with a receipt, the host approves and pays, the public sees it."""
from __future__ import annotations

import io
from datetime import date, timedelta

from tests.campaigns.helpers import sign_in
from tests.payments.expenses.helpers import PDF, expense, png, world
from webapp.extensions import db
from webapp.payments.expenses.models import Expense, ExpenseState
from webapp.payments.hosts import services as hosts
from webapp.payments.hosts.models import PayoutRouteKind, RouteStatus


def test_from_a_draft_to_a_paid_expense_on_the_public_page(app, client):
    w = world(route="host", raised=1_000_000)
    db.session.commit()
    sign_in(client, w.editor)
    page = client.get(f"/manage/campaigns/{w.campaign.slug}/expenses")
    assert page.status_code == 200
    response = client.post(f"/manage/campaigns/{w.campaign.slug}/expenses", data={
        "budget_line": str(w.mill.id), "amount": "250000", "description": "Motor for the mill",
        "spent_on": (date.today() - timedelta(days=2)).isoformat(), "payee_kind": "supplier",
        "payee_details": "Moulins du Zou, +229 97 00 00 00", "receipt": (io.BytesIO(PDF), "invoice.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    e = db.session.query(Expense).one()
    assert client.post(f"/manage/expenses/{e.id}/submit").status_code == 302
    # the submitter cannot decide, even by posting
    assert client.post(f"/manage/expenses/{e.id}/decision", data={"decision": "approve"}).status_code == 403
    client.post("/logout")
    sign_in(client, w.host_editor)
    assert client.post(f"/manage/expenses/{e.id}/decision", data={"decision": "approve"}).status_code == 302
    dashboard = client.get(f"/hosts/{w.host.organization.slug}").get_data(as_text=True)
    assert "Motor for the mill" in dashboard
    response = client.post(f"/manage/expenses/{e.id}/payment", data={
        "method": "mobile_money", "reference": "MTN-778", "paid_on": date.today().isoformat(), "currency_paid": "XOF",
        "amount_paid": "250000", "rate": "1", "proof": (io.BytesIO(png()), "proof.png")},
        content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Expense, e.id).state == ExpenseState.PAID
    client.post("/logout")
    public = client.get(f"/campaigns/{w.campaign.slug}/transparency").get_data(as_text=True)
    assert "Motor for the mill" in public and "Receipt checked by the host" in public
    assert "Moulins du Zou" not in public and "+229" not in public and "/receipts/" not in public
    assert "private/" not in public


def test_a_bad_upload_is_refused_with_a_reason_not_a_500(app, client):
    w = world(route="host")
    e = expense(w, 10_000, submit=False)
    db.session.commit()
    sign_in(client, w.editor)
    response = client.post(f"/manage/expenses/{e.id}/receipts", data={"receipt": (io.BytesIO(b"MZ..."), "x.exe")},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and "PDF, JPEG or PNG" in response.get_data(as_text=True)


def test_a_payment_with_a_rate_that_is_not_a_number_is_refused(app, client):
    w = world(route="host")
    e = expense(w, 10_000)
    db.session.commit()
    sign_in(client, w.host_owner)
    client.post(f"/manage/expenses/{e.id}/decision", data={"decision": "approve"})
    response = client.post(f"/manage/expenses/{e.id}/payment", data={
        "method": "cash", "reference": "R1", "paid_on": date.today().isoformat(), "currency_paid": "XOF",
        "amount_paid": "10000", "rate": "abc"})
    assert response.status_code == 400


def test_the_payout_page_offers_only_what_the_country_allows(app, client):
    w = world(route="host")
    db.session.commit()
    sign_in(client, w.owner)
    page = client.get(f"/manage/organizations/{w.org.slug}/payout").get_data(as_text=True)
    assert "Stripe cannot transfer" in page and 'value="connect"' not in page
    assert client.post(f"/manage/organizations/{w.org.slug}/payout", data={"route": "connect"}).status_code == 400


def test_the_host_accepts_an_organization_from_its_dashboard(app, client):
    w = world(route="host")
    hosts.route_of(w.org).status = RouteStatus.REQUESTED
    db.session.commit()
    sign_in(client, w.host_owner)
    route = hosts.route_of(w.org)
    assert w.org.name in client.get(f"/hosts/{w.host.organization.slug}").get_data(as_text=True)
    assert client.post(f"/hosts/{w.host.organization.slug}/requests/{route.id}", data={"decision": "accept"}).status_code == 302
    db.session.expire_all()
    assert hosts.route_of(w.org).status == RouteStatus.ACCEPTED and hosts.route_of(w.org).kind == PayoutRouteKind.HOST


def test_exports_neutralize_formulas(app, client):
    w = world(route="host")
    e = expense(w, 10_000)
    e.description = "=HYPERLINK(\"http://evil\")"
    db.session.commit()
    sign_in(client, w.owner)
    text = client.get(f"/manage/organizations/{w.org.slug}/export/expenses.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
    client.post("/logout")
    sign_in(client, w.host_editor)
    for kind in ("expenses", "payments", "ledger"):
        response = client.get(f"/hosts/{w.host.organization.slug}/export/{kind}.csv")
        assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "host_hold" in client.get(f"/hosts/{w.host.organization.slug}/export/ledger.csv").get_data(as_text=True)


def test_my_pledges_shows_what_each_campaign_spent(app, client):
    from tests.factories import PledgeFactory

    w = world(route="host")
    e = expense(w, 10_000)
    from tests.payments.expenses.helpers import payment
    from webapp.payments.expenses import services as expenses

    expenses.approve(e, w.host_owner)
    expenses.record_payment(e, w.host_owner, payment(e), None)
    PledgeFactory(campaign=w.campaign, user=w.outsider, email=w.outsider.email)
    db.session.commit()
    sign_in(client, w.outsider)
    page = client.get("/pledges/mine").get_data(as_text=True)
    assert "Spent so far" in page and "10" in page


def test_an_expense_sent_back_is_corrected_and_submitted_again(app, client):
    from webapp.payments.expenses import services as expenses

    w = world(route="host")
    e = expense(w, 10_000)
    expenses.send_back(e, w.host_owner, "The invoice says 12 000.")
    db.session.commit()
    sign_in(client, w.editor)
    assert "The invoice says 12 000." in client.get(f"/manage/expenses/{e.id}").get_data(as_text=True)
    response = client.post(f"/manage/expenses/{e.id}/edit", data={
        "budget_line": str(w.mill.id), "amount": "12000", "description": "Mill motor, corrected",
        "spent_on": date.today().isoformat(), "payee_kind": "supplier", "payee_details": ""})
    assert response.status_code == 302
    assert client.post(f"/manage/expenses/{e.id}/submit").status_code == 302
    db.session.expire_all()
    fresh = db.session.get(Expense, e.id)
    assert (fresh.amount, fresh.description, fresh.state) == (12_000, "Mill motor, corrected", ExpenseState.SUBMITTED)
    # once submitted, it no longer changes
    assert client.post(f"/manage/expenses/{e.id}/edit", data={
        "budget_line": str(w.mill.id), "amount": "1", "description": "x", "spent_on": date.today().isoformat(),
        "payee_kind": "supplier"}).status_code == 409
