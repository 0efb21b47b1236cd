"""The form an organization's editor posts a progress report with, and the unsubscribe confirmation."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from wtforms import SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from webapp.forms import BaseForm
from webapp.ids import parse_id

NOT_LINKABLE = _l("Only paid expenses of this campaign that no earlier report lists can be linked.")


class ExpenseIdsField(SelectMultipleField):
    """Ticked expense ids; which ones may be linked is the view's and the service's to say (the campaign's own)."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, validate_choice=False, **kwargs)

    def process_formdata(self, valuelist):
        ids = [parse_id(value) for value in valuelist]
        if None in ids:
            self.data = []
            raise ValueError(NOT_LINKABLE)
        self.data = list(dict.fromkeys(ids))


class ReportForm(BaseForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    body = TextAreaField(_l("What was done, what the money paid for, what comes next"),
                         validators=[DataRequired(), Length(max=20_000)])
    photos = MultipleFileField(_l("Photos (JPEG, PNG or WebP, at most 5 MB each)"))
    expenses = ExpenseIdsField(_l("Expenses paid since the last report"))

    def uploads(self) -> list:
        """The files actually chosen (a browser sends one empty part when none is)."""
        return [f for f in (self.photos.data or []) if getattr(f, "filename", "")]


class UnsubscribeForm(BaseForm):
    pass
