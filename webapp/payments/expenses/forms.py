"""Forms for writing an expense, deciding on it and recording its payment."""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from webapp.forms import BaseForm, MoneyField, currency_choices
from webapp.payments.expenses.labels import METHOD_LABELS, PAYEE_LABELS


class ExpenseForm(BaseForm):
    budget_line = SelectField(_l("Budget line"), coerce=int, validate_choice=True)
    amount = MoneyField(_l("Amount"), validators=[DataRequired()], currency_field=None)
    description = StringField(_l("What was bought or paid"), validators=[DataRequired(), Length(max=300)])
    spent_on = DateField(_l("Date of the invoice"), validators=[DataRequired()])
    payee_kind = SelectField(_l("Paid to"), choices=[(k.value, label) for k, label in PAYEE_LABELS.items()])
    payee_details = TextAreaField(_l("Payee's name and how to pay them (private: only your host sees it)"),
                                  validators=[Optional(), Length(max=1000)])
    receipt = FileField(_l("Receipt or invoice (PDF, JPEG or PNG, at most 5 MB)"))

    def __init__(self, *args, currency: str, lines: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.amount.fixed_currency = currency
        self.budget_line.choices = [(line.id, line.title) for line in lines]

    def validate_amount(self, field):
        if field.money is not None and field.money.amount <= 0:
            raise ValidationError(_l("The amount must be greater than zero."))

    def validate_spent_on(self, field):
        if field.data and field.data > date.today():
            raise ValidationError(_l("The date of an expense cannot be in the future."))


class ReceiptForm(BaseForm):
    receipt = FileField(_l("Another receipt (PDF, JPEG or PNG, at most 5 MB)"))


class DecisionForm(BaseForm):
    decision = SelectField(_l("Decision"), choices=[("approve", _l("Approve")), ("changes", _l("Ask for changes")),
                                                    ("reject", _l("Reject"))])
    reason = TextAreaField(_l("Reason (required to ask for changes or reject)"), validators=[Optional(), Length(max=2000)])


class PaymentForm(BaseForm):
    method = SelectField(_l("Paid by"), choices=[(m.value, label) for m, label in METHOD_LABELS.items()])
    reference = StringField(_l("Reference (bank or operator)"), validators=[DataRequired(), Length(max=120)])
    paid_on = DateField(_l("Date paid"), validators=[DataRequired()])
    currency_paid = SelectField(_l("Currency paid"), validators=[DataRequired()])
    amount_paid = MoneyField(_l("Amount paid"), validators=[DataRequired()], currency_field="currency_paid")
    rate = StringField(_l("Rate used (units paid for one unit of the campaign's currency)"),
                       validators=[DataRequired(), Length(max=30)], default="1")
    proof = FileField(_l("Proof of payment (PDF, JPEG or PNG, at most 5 MB)"))

    def __init__(self, *args, currencies: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        supported = [c for c, _label in currency_choices()]
        self.currency_paid.choices = [(c, c) for c in dict.fromkeys([*currencies, *supported])]

    def validate_paid_on(self, field):
        if field.data and field.data > date.today():
            raise ValidationError(_l("The payment date cannot be in the future."))
