"""The forms of memberships: a class, cash dues, a message to the members."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from webapp.forms import BaseForm, MoneyField, currency_choices


class ClassForm(BaseForm):
    name = StringField(_l("Name of the class"), validators=[DataRequired(), Length(max=80)])
    dues = MoneyField(_l("Dues (leave empty for a free membership)"), validators=[Optional()])
    currency = SelectField(_l("Currency"), validate_choice=True)
    interval = RadioField(_l("Dues are paid"), choices=[("monthly", _l("Every month")), ("yearly", _l("Every year"))],
                          default="yearly", validate_choice=True)
    admission = RadioField(_l("Who may join"), choices=[("open", _l("Anyone")),
                                                        ("approval", _l("Those an editor approves"))],
                           default="open", validate_choice=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency.choices = currency_choices()


class CashForm(BaseForm):
    amount = MoneyField(_l("Amount received in cash"), validators=[DataRequired()])
    currency = SelectField(_l("Currency"), validate_choice=True)
    paid_on = DateField(_l("Paid on"), validators=[DataRequired()])
    covers_until = DateField(_l("Covers until"), validators=[DataRequired()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency.choices = currency_choices()


class MessageForm(BaseForm):
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=150)])
    body = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=5000)])


class ContactForm(BaseForm):
    phone = StringField(_l("Mobile number for SMS (international, +229 97 12 34 56)"),
                        validators=[Optional(), Length(max=30)])
    channel = RadioField(_l("Vote links and reminders by"), default="email", validate_choice=True,
                         choices=[("email", _l("Email")), ("sms", _l("SMS")), ("both", _l("Email and SMS"))])
    consent = BooleanField(_l("The member agrees to get messages from the organization on this number"))
