"""Routes for expenses: the organization writes and submits them, its host (or a second officer) decides and pays,
and receipts and proofs open only for those who may read them."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from webapp.errorpages import refused
from webapp.campaigns import budget
from webapp.campaigns import services as campaigns
from webapp.campaigns.models import Campaign
from webapp.errors import DomainError, InvalidUpload
from webapp.extensions import db
from webapp.organizations import services as organizations
from webapp.organizations.models import Organization
from webapp.payments.expenses import exports
from webapp.payments.expenses import services as expenses
from webapp.payments.expenses.forms import DecisionForm, ExpenseForm, PaymentForm, ReceiptForm
from webapp.payments.expenses.models import Expense, PayeeKind, PaymentMethod
from webapp.payments.hosts import services as hosts
from webapp.storage import get_storage

blueprint = Blueprint("expenses", __name__)


def _campaign(slug: str) -> Campaign:
    campaign = campaigns.campaign_by_slug(slug)
    if campaign is None:
        abort(404)
    return campaign


def _expense(expense_id: int) -> Expense:
    expense = db.session.get(Expense, expense_id)
    if expense is None:
        abort(404)
    if not expenses.can_see_private(current_user, expense.campaign):
        abort(403)
    return expense


def _upload(field) -> bytes | None:
    data = field.data
    if data is None or not hasattr(data, "read"):
        return None
    content = data.read(current_app.config["RECEIPT_MAX_BYTES"] + 1)
    return content or None


def _refused(exc: DomainError, code: int = 400):
    return refused(exc, code)


def _details(form: ExpenseForm) -> expenses.ExpenseDetails:
    return expenses.ExpenseDetails(budget_line_id=form.budget_line.data, amount=form.amount.money,
                                   description=form.description.data, spent_on=form.spent_on.data,
                                   payee_kind=PayeeKind(form.payee_kind.data), payee_details=form.payee_details.data or "")


def _list_page(campaign: Campaign, form: ExpenseForm, status: int = 200):
    return render_template("expenses/index.html", campaign=campaign, form=form,
                           expenses=expenses.expenses_of(campaign), held=expenses.held(campaign),
                           available=expenses.available(campaign), can_write=expenses.is_officer(current_user, campaign),
                           host=expenses.host_of(campaign), route=expenses.route_kind(campaign)), status


@blueprint.route("/manage/campaigns/<slug>/expenses", methods=["GET", "POST"])
@login_required
def index(slug: str):
    campaign = _campaign(slug)
    if not expenses.can_see_private(current_user, campaign):
        abort(403)
    form = ExpenseForm(currency=campaign.currency, lines=budget.lines_of(campaign))
    if request.method == "GET":
        return _list_page(campaign, form)
    if not expenses.is_officer(current_user, campaign):
        abort(403)
    if not form.validate():
        return _list_page(campaign, form, 400)
    try:
        expense = expenses.create_expense(campaign, current_user, _details(form))
        receipt = _upload(form.receipt)
        if receipt:
            expenses.add_receipt(expense, current_user, receipt)
        db.session.commit()
    except InvalidUpload as exc:
        db.session.rollback()
        form.receipt.errors = [str(exc)]
        return _list_page(campaign, form, 400)
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _list_page(campaign, form, 400)
    flash(_("Expense saved as a draft. Add its receipts, then submit it."), "success")
    return redirect(url_for("expenses.show", expense_id=expense.id))


def _show_page(expense: Expense, status: int = 200, **forms):
    campaign = expense.campaign
    payment_form = forms.get("payment_form") or PaymentForm(currencies=[campaign.currency])
    edit_form = forms.get("edit_form") or ExpenseForm(
        formdata=None, currency=campaign.currency, lines=budget.lines_of(campaign),
        data={"budget_line": expense.budget_line_id, "amount": expense.money, "description": expense.description,
              "spent_on": expense.spent_on, "payee_kind": expense.payee_kind.value,
              "payee_details": expense.payee_details})
    return render_template(
        "expenses/show.html", expense=expense, campaign=campaign, history=expenses.history(expense),
        payment=expenses.payment_of(expense), receipt_form=forms.get("receipt_form") or ReceiptForm(),
        decision_form=forms.get("decision_form") or DecisionForm(), payment_form=payment_form, edit_form=edit_form,
        can_write=expenses.is_officer(current_user, campaign) and expense.state in expenses.EDITABLE,
        can_decide=expenses.may_approve(current_user, expense) and expense.state == expenses.E.SUBMITTED,
        submitted_it=current_user.id in expenses._submitters(expense),
        can_pay=expenses.may_pay(current_user, expense) and expense.state == expenses.E.APPROVED,
        host=expenses.host_of(expense), fee=expenses.fee_on(expense),
        second_needed=expenses.second_approval_needed(expense.money)), status


@blueprint.route("/manage/expenses/<int:expense_id>")
@login_required
def show(expense_id: int):
    return _show_page(_expense(expense_id))


@blueprint.route("/manage/expenses/<int:expense_id>/edit", methods=["POST"])
@login_required
def edit(expense_id: int):
    """A draft, or an expense sent back for changes: its editors correct it (then submit it again)."""
    expense = _expense(expense_id)
    if not expenses.is_officer(current_user, expense.campaign):
        abort(403)
    form = ExpenseForm(currency=expense.campaign.currency, lines=budget.lines_of(expense.campaign))
    if not form.validate():
        return _show_page(expense, 400, edit_form=form)
    try:
        expenses.update_expense(expense, current_user, _details(form))
        db.session.commit()
    except DomainError as exc:
        return _refused(exc, 409)
    flash(_("Saved."), "success")
    return redirect(url_for("expenses.show", expense_id=expense.id))


@blueprint.route("/manage/expenses/<int:expense_id>/receipts", methods=["POST"])
@login_required
def add_receipt(expense_id: int):
    expense = _expense(expense_id)
    if not expenses.is_officer(current_user, expense.campaign):
        abort(403)
    form = ReceiptForm()
    data = _upload(form.receipt)
    try:
        if not data:
            raise InvalidUpload(_("Choose a file to upload."))
        expenses.add_receipt(expense, current_user, data)
        db.session.commit()
    except InvalidUpload as exc:
        db.session.rollback()
        form.receipt.errors = [str(exc)]
        return _show_page(expense, 400, receipt_form=form)
    except DomainError as exc:
        return _refused(exc, 409)
    flash(_("Receipt added."), "success")
    return redirect(url_for("expenses.show", expense_id=expense.id))


@blueprint.route("/manage/expenses/<int:expense_id>/submit", methods=["POST"])
@login_required
def submit(expense_id: int):
    expense = _expense(expense_id)
    if not expenses.is_officer(current_user, expense.campaign):
        abort(403)
    try:
        expenses.submit(expense, current_user)
        db.session.commit()
    except DomainError as exc:
        return _refused(exc, 409)
    flash(_("Submitted: someone other than you approves it."), "success")
    return redirect(url_for("expenses.show", expense_id=expense.id))


@blueprint.route("/manage/expenses/<int:expense_id>/decision", methods=["POST"])
@login_required
def decide(expense_id: int):
    expense = _expense(expense_id)
    if not expenses.is_approver(current_user, expense):
        abort(403)
    form = DecisionForm()
    if not form.validate():
        return _show_page(expense, 400, decision_form=form)
    try:
        if form.decision.data == "approve":
            done = expenses.approve(expense, current_user)
            message = _("Approved.") if done else _("Your approval is recorded: a second approver is needed.")
        else:
            expenses.send_back(expense, current_user, form.reason.data or "", reject=form.decision.data == "reject")
            message = _("Sent back to the organization with your reason.")
        db.session.commit()
    except expenses.SelfApproval as exc:
        return _refused(exc, 403)
    except DomainError as exc:
        return _refused(exc, 409)
    flash(message, "success")
    return redirect(url_for("expenses.show", expense_id=expense.id))


@blueprint.route("/manage/expenses/<int:expense_id>/payment", methods=["POST"])
@login_required
def pay(expense_id: int):
    expense = _expense(expense_id)
    if not expenses.may_pay(current_user, expense):
        abort(403)
    host = expenses.host_of(expense)
    form = PaymentForm(currencies=[expense.campaign.currency, *(host.currencies if host else [])])
    if not form.validate():
        return _show_page(expense, 400, payment_form=form)
    try:
        rate = Decimal(form.rate.data.strip().replace(",", "."))
    except InvalidOperation:
        form.rate.errors = [_("The rate is a number, such as 655.957.")]
        return _show_page(expense, 400, payment_form=form)
    try:
        expenses.record_payment(expense, current_user, expenses.PaymentDetails(
            method=PaymentMethod(form.method.data), reference=form.reference.data, paid_on=form.paid_on.data,
            amount_paid=form.amount_paid.money, rate=rate), _upload(form.proof))
        db.session.commit()
    except InvalidUpload as exc:
        db.session.rollback()
        form.proof.errors = [str(exc)]
        return _show_page(expense, 400, payment_form=form)
    except DomainError as exc:
        return _refused(exc, 409 if not isinstance(exc, expenses.PermissionDenied) else 403)
    flash(_("Payment recorded: the expense is paid, and shows so on the campaign's public page."), "success")
    return redirect(url_for("expenses.show", expense_id=expense.id))


def _private_file(key: str, content_type: str) -> Response:
    try:
        data = get_storage().read(key)
    except (OSError, ValueError):
        abort(404)
    response = Response(data, mimetype=content_type)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "attachment" if content_type == "application/pdf" else "inline"
    return response


@blueprint.route("/manage/expenses/<int:expense_id>/receipts/<int:receipt_id>")
@login_required
def receipt(expense_id: int, receipt_id: int):
    expense = _expense(expense_id)
    found = next((r for r in expense.receipts if r.id == receipt_id), None)
    if found is None:
        abort(404)
    return _private_file(found.storage_key, found.content_type)


@blueprint.route("/manage/expenses/<int:expense_id>/proof")
@login_required
def proof(expense_id: int):
    expense = _expense(expense_id)
    payment = expenses.payment_of(expense)
    if payment is None or not payment.proof_key:
        abort(404)
    return _private_file(payment.proof_key, payment.proof_content_type or "application/octet-stream")


def csv_response(text: str, name: str) -> Response:
    response = Response(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blueprint.route("/manage/organizations/<slug>/export/<kind>.csv")
@login_required
def organization_export(slug: str, kind: str):
    org = db.session.scalar(select(Organization).where(Organization.slug == slug))
    if org is None or kind not in exports.KINDS:
        abort(404)
    if not (current_user.is_admin or organizations.can_edit(current_user, org)):
        abort(403)
    host = hosts.host_for(org)
    accounts = [hosts.holding_account(host.id, org.id)] if host else []
    return csv_response(exports.export(kind, [org.id], accounts), f"{org.slug}-{kind}.csv")
