"""A report links the expenses paid since the last one: offered and preselected, only the campaign's own, shown
on the report's page and in its email as the transparency page shows them, never a receipt, payee or bank detail."""
from __future__ import annotations

from datetime import date

import pytest
from flask import url_for
from sqlalchemy import func, select

from tests.factories import BudgetLineFactory, CampaignFactory
from webapp.errors import DomainError
from webapp.extensions import db
from webapp.payments.expenses.models import Expense, ExpenseReceipt, ExpenseState, PayeeKind
from webapp.progress_reports import delivery, services
from webapp.progress_reports.models import ProgressReport, ReportDelivery, progress_report_expenses

SECRET = "Moulins du Zou, IBAN BJ66 0001 2345, Cotonou rue 12"


def spend(campaign, editor, description, *, state=ExpenseState.PAID, amount=150_000, line=None, checked=True):
    line = line or BudgetLineFactory(campaign=campaign, title="Grain mill", amount=1_200_000)
    e = Expense(campaign_id=campaign.id, budget_line_id=line.id, amount=amount, description=description,
                spent_on=date(2026, 11, 3), payee_kind=PayeeKind.SUPPLIER, payee_details=SECRET, state=state,
                created_by_id=editor.id, checked_by_host=checked)
    db.session.add(e)
    db.session.flush()
    db.session.add(ExpenseReceipt(expense_id=e.id, storage_key="private/receipts/motor-invoice.pdf",
                                  content_type="application/pdf", size=120, uploaded_by_id=editor.id))
    db.session.flush()
    return e


def post(client, ids, title="The mill is running"):
    return client.post(url_for("manage_reports.new", slug="mill"),
                       data={"title": title, "body": "We bought the mill.", "expenses": [str(i) for i in ids]})


def linked(report_id) -> list[int]:
    return sorted(db.session.scalars(select(progress_report_expenses.c.expense_id)
                                     .where(progress_report_expenses.c.report_id == report_id)))


def test_the_form_offers_the_paid_expenses_no_report_lists_yet_preselected(editor_client, campaign, editor):
    motor = spend(campaign, editor, "Mill motor")
    wage = spend(campaign, editor, "Miller's wage, October")
    earlier = spend(campaign, editor, "Seeds bought in September")
    waiting = spend(campaign, editor, "Roof sheets", state=ExpenseState.APPROVED)
    other = spend(CampaignFactory(succeeded=True, organization=campaign.organization), editor, "Another campaign's")
    first = services.post_report(campaign, editor, "September", "Seeds.", [], expense_ids=[earlier.id])
    db.session.commit()

    page = editor_client.get(url_for("manage_reports.new", slug="mill")).get_data(as_text=True)

    for e in (motor, wage):
        assert f'name="expenses" value="{e.id}" checked' in page
    for e in (earlier, waiting, other):
        assert f'value="{e.id}"' not in page
    assert "Mill motor" in page and SECRET not in page
    assert linked(first.id) == [earlier.id]


def test_posting_links_the_ticked_expenses_to_the_report(editor_client, campaign, editor):
    motor, wage = spend(campaign, editor, "Mill motor"), spend(campaign, editor, "Miller's wage")
    db.session.commit()

    response = post(editor_client, [motor.id])

    assert response.status_code == 302
    report = db.session.scalar(select(ProgressReport))
    assert linked(report.id) == [motor.id]
    # the next report is offered only what this one did not list
    assert [e.id for e in services.linkable_expenses(campaign)] == [wage.id]


@pytest.mark.parametrize("forged", ["other_campaign", "not_paid", "already_linked", "unknown", "not_a_number"])
def test_a_forged_expense_id_is_refused_with_a_message_and_nothing_is_saved(editor_client, campaign, editor, forged):
    motor = spend(campaign, editor, "Mill motor")
    ids = {
        "other_campaign": lambda: spend(CampaignFactory(succeeded=True), editor, "Elsewhere").id,
        "not_paid": lambda: spend(campaign, editor, "Roof", state=ExpenseState.SUBMITTED).id,
        "already_linked": lambda: services.post_report(campaign, editor, "Before", "x", [],
                                                       expense_ids=[spend(campaign, editor, "Seeds").id]).expenses[0].id,
        "unknown": lambda: 987654,
        "not_a_number": lambda: "1 OR 1=1",
    }
    bad = ids[forged]()
    db.session.commit()
    reports_before = db.session.scalar(select(func.count()).select_from(ProgressReport))

    response = post(editor_client, [motor.id, bad])

    assert 400 <= response.status_code < 500
    assert "Only paid expenses of this campaign that no earlier report lists can be linked." \
        in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(ProgressReport)) == reports_before
    assert db.session.scalar(select(func.count()).select_from(progress_report_expenses)
                             .where(progress_report_expenses.c.expense_id == motor.id)) == 0
    assert motor.id in [e.id for e in services.linkable_expenses(campaign)]


def test_the_service_refuses_another_campaigns_expense(campaign, editor):
    elsewhere = spend(CampaignFactory(succeeded=True), editor, "Elsewhere")

    with pytest.raises(DomainError):
        services.post_report(campaign, editor, "Title", "Text", [], expense_ids=[elsewhere.id])


def test_the_report_page_lists_its_expenses_without_private_data(app, campaign, editor):
    motor = spend(campaign, editor, "Mill motor", amount=150_000)
    unchecked = spend(campaign, editor, "Miller's wage", checked=False)
    report = services.post_report(campaign, editor, "The mill runs", "Text", [], expense_ids=[motor.id, unchecked.id])
    db.session.commit()

    page = app.test_client().get(url_for("progress_reports.show", slug="mill", report_id=report.id)).get_data(
        as_text=True)

    assert "Mill motor" in page and "Miller&#39;s wage" in page and "Grain mill" in page
    assert "Supplier" in page and page.count("Receipt checked by the host") == 1
    assert "150,000" in page or "150 000" in page or "150000" in page
    assert SECRET not in page and "IBAN" not in page and "motor-invoice" not in page and "private/" not in page


def test_the_report_email_lists_its_expenses_without_private_data(campaign, editor):
    motor = spend(campaign, editor, "Mill motor")
    report = services.post_report(campaign, editor, "The mill runs", "Text", [], expense_ids=[motor.id])
    db.session.flush()

    text = delivery.report_email(report, ReportDelivery(report_id=report.id, email="a@example.org", locale="en")).text
    french = delivery.report_email(report, ReportDelivery(report_id=report.id, email="a@example.org", locale="fr")).text

    assert "Mill motor" in text and "Grain mill" in text and "Supplier" in text
    assert "Receipt checked by the host" in text
    assert "Justificatif vérifié par l’hôte" in french and "Fournisseur" in french
    for body in (text, french):
        assert SECRET not in body and "IBAN" not in body and "motor-invoice" not in body


def test_deleting_a_report_deletes_its_links_and_keeps_the_expenses(campaign, editor):
    motor = spend(campaign, editor, "Mill motor")
    report = services.post_report(campaign, editor, "The mill runs", "Text", [], expense_ids=[motor.id])
    db.session.flush()

    db.session.delete(report)
    db.session.flush()

    assert db.session.scalar(select(func.count()).select_from(progress_report_expenses)) == 0
    assert db.session.get(Expense, motor.id) is not None
