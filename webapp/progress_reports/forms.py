"""The form an organization's editor posts a progress report with, and the unsubscribe confirmation."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from webapp.forms import BaseForm


class ReportForm(BaseForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    body = TextAreaField(_l("What was done, what the money paid for, what comes next"),
                         validators=[DataRequired(), Length(max=20_000)])
    photos = MultipleFileField(_l("Photos (JPEG, PNG or WebP, at most 5 MB each)"))

    def uploads(self) -> list:
        """The files actually chosen (a browser sends one empty part when none is)."""
        return [f for f in (self.photos.data or []) if getattr(f, "filename", "")]


class UnsubscribeForm(BaseForm):
    pass
