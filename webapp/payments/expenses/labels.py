"""Names people read for expense states, payee kinds and payment methods, in their language."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from webapp.payments.expenses.models import ExpenseState, PayeeKind, PaymentMethod

STATE_LABELS = {
    ExpenseState.DRAFT: _l("Draft"),
    ExpenseState.SUBMITTED: _l("Awaiting approval"),
    ExpenseState.CHANGES_REQUESTED: _l("Changes requested"),
    ExpenseState.REJECTED: _l("Rejected"),
    ExpenseState.APPROVED: _l("Approved, to be paid"),
    ExpenseState.PAID: _l("Paid"),
}

PAYEE_LABELS = {
    PayeeKind.SUPPLIER: _l("Supplier"),
    PayeeKind.STAFF: _l("Staff"),
    PayeeKind.MEMBER: _l("Member"),
    PayeeKind.OTHER: _l("Other"),
}

METHOD_LABELS = {
    PaymentMethod.BANK_TRANSFER: _l("Bank transfer"),
    PaymentMethod.MOBILE_MONEY: _l("Mobile money"),
    PaymentMethod.CASH: _l("Cash"),
    PaymentMethod.OTHER: _l("Other"),
}

ACTION_LABELS = {
    "submit": _l("Submitted"),
    "approve": _l("Approved"),
    "request_changes": _l("Changes requested"),
    "reject": _l("Rejected"),
    "pay": _l("Paid"),
}


def labels() -> dict:
    """For templates: expense_state(s), payee_kind(k), payment_method(m), expense_action(a)."""
    return {"expense_state": lambda s: STATE_LABELS.get(s, s), "payee_kind": lambda k: PAYEE_LABELS.get(k, k),
            "payment_method": lambda m: METHOD_LABELS.get(m, m), "expense_action": lambda a: ACTION_LABELS.get(a, a)}
