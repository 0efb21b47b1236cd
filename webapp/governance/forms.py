"""The forms of pooled funds: a fund, money set apart, a round, a proposal, a receipt."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateTimeLocalField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from webapp.forms import BaseForm, MoneyField, currency_choices


class FundForm(BaseForm):
    name = StringField(_l("Name of the fund"), validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(_l("What it is for"), validators=[Optional(), Length(max=5000)])
    currency = SelectField(_l("Currency"), validate_choice=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency.choices = currency_choices()


class AssignForm(BaseForm):
    amount = MoneyField(_l("Amount to set apart from the organization's money"), validators=[DataRequired()],
                        currency_field=None)


class MatchAssignForm(BaseForm):
    match_fund = SelectField(_l("Your match fund"), coerce=int, validate_choice=True)
    amount = MoneyField(_l("Amount to assign from its budget"), validators=[DataRequired()], currency_field=None)

    def __init__(self, *args, match_funds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.match_fund.choices = [(f.id, f"{f.name} ({f.institution})") for f in match_funds]


class GivingCampaignForm(BaseForm):
    campaign = SelectField(_l("Campaign"), coerce=int, validate_choice=True)

    def __init__(self, *args, campaigns=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign.choices = [(c.id, c.title) for c in campaigns]


class RoundForm(BaseForm):
    title = StringField(_l("Title of the round"), validators=[DataRequired(), Length(max=150)])
    budget = MoneyField(_l("Amount to allocate"), validators=[DataRequired()], currency_field=None)
    rule = RadioField(_l("How the result is computed"), default="greedy", validate_choice=True,
                      choices=[("greedy", _l("Most votes first, while the budget lasts")),
                               ("equal_shares", _l("Equal shares: every voter controls an equal part of the budget"))])
    proposals_close_at = DateTimeLocalField(_l("Proposals close (UTC)"), validators=[DataRequired()],
                                            format="%Y-%m-%dT%H:%M")
    voting_closes_at = DateTimeLocalField(_l("Voting closes (UTC)"), validators=[DataRequired()],
                                          format="%Y-%m-%dT%H:%M")
    min_projects = IntegerField(_l("Minimum number of projects on a ballot"), default=1,
                                validators=[DataRequired(), NumberRange(min=1, max=100)])
    max_projects = IntegerField(_l("Maximum number of projects on a ballot (empty: no maximum)"),
                                validators=[Optional(), NumberRange(min=1, max=100)])
    min_share_percent = IntegerField(_l("Minimum share of the budget a ballot uses (%)"), default=0,
                                     validators=[Optional(), NumberRange(min=0, max=100)])
    quorum_percent = IntegerField(_l("Quorum: share of the roll that must vote (%)"), default=0,
                                  validators=[Optional(), NumberRange(min=0, max=100)])
    reminder_hours = IntegerField(_l("Remind those who have not voted, hours before close (empty: no reminder)"),
                                  default=24, validators=[Optional(), NumberRange(min=1, max=720)])


class ProposalForm(BaseForm):
    title = StringField(_l("Title of the proposal"), validators=[DataRequired(), Length(max=150)])
    description = TextAreaField(_l("What it would do"), validators=[Optional(), Length(max=5000)])
    amount = MoneyField(_l("Amount asked"), validators=[DataRequired()], currency_field=None)
    campaign = SelectField(_l("Campaign that receives the grant"), validate_choice=True, coerce=str)


class ReceiptForm(BaseForm):
    receipt = StringField(_l("Receipt code"), validators=[DataRequired(), Length(max=40)])
