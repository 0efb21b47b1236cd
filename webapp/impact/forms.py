"""Forms: declaring an indicator, listing a beneficiary, a report's values, and the confirmation page's answer."""
from __future__ import annotations

from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from webapp.forms import BaseForm, strip
from webapp.impact import catalog, sdg
from webapp.impact.models import IndicatorSource, Verdict

SOURCE_LABELS = {IndicatorSource.SDG: _l("A target of the Sustainable Development Goals"),
                 IndicatorSource.CATALOG: _l("A common outcome of the social and solidarity economy"),
                 IndicatorSource.CUSTOM: _l("Our own indicator")}


def sdg_choices(language: str) -> list[tuple[str, str]]:
    lang = sdg.language_of(language)
    choices = [("", _l("— choose a target —"))]
    for goal in sdg.goals():
        for target in goal.targets:
            title = target.title(lang)
            choices.append((target.code, f"{target.code} · {goal.short(lang)} — "
                                         f"{title[:90] + '…' if len(title) > 90 else title}"))
    return choices


class IndicatorForm(BaseForm):
    source = RadioField(_l("What the indicator follows"), choices=[(s.value, label) for s, label in SOURCE_LABELS.items()],
                        default=IndicatorSource.SDG.value)
    sdg_target = SelectField(_l("SDG target"), validate_choice=False)
    catalog_key = SelectField(_l("Common outcome"), validate_choice=False)
    title = StringField(_l("In your words (optional for a target or an outcome)"), filters=[strip],
                        validators=[Length(max=160)])
    unit = StringField(_l("Unit"), filters=[strip], validators=[Length(max=40)])
    baseline = StringField(_l("Baseline (where it starts)"), validators=[DataRequired(), Length(max=30)])
    target = StringField(_l("Target"), validators=[DataRequired(), Length(max=30)])
    target_date = DateField(_l("Target date"), validators=[DataRequired()])

    def __init__(self, *args, language: str = "en", **kwargs):
        super().__init__(*args, **kwargs)
        self.sdg_target.choices = sdg_choices(language)
        self.catalog_key.choices = [("", _l("— choose an outcome —"))] + [(o.key, o.title) for o in catalog.OUTCOMES]


def language_choices() -> list[tuple[str, str]]:
    from babel import Locale

    return [(code, Locale.parse(code).get_display_name(code).capitalize()) for code in current_app.config["LANGUAGES"]]


class BeneficiaryForm(BaseForm):
    phone = StringField(_l("Phone number (international, for SMS)"), filters=[strip], validators=[Length(max=30)])
    email = StringField(_l("Email address"), filters=[strip],
                        validators=[Optional(), Length(max=254), Email(check_deliverability=False)])
    locale = SelectField(_l("Language of the messages"))
    consent = BooleanField(_l("This person agreed to be contacted to confirm what we report"))
    consent_on = DateField(_l("Date of their consent"), validators=[DataRequired()], default=date.today)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.locale.choices = language_choices()


class ActionForm(BaseForm):
    """A button that changes something: only the CSRF token (the values form reads its fields per indicator)."""


class ConfirmForm(BaseForm):
    verdict = RadioField(_l("Your answer"), choices=[(Verdict.CONFIRM.value, _l("Yes, it is true")),
                                                     (Verdict.DOUBT.value, _l("I doubt it")),
                                                     (Verdict.COMMENT.value, _l("Only a comment"))],
                         validators=[DataRequired(_l("Choose your answer."))])
    comment = TextAreaField(_l("Comment (optional)"), validators=[Length(max=500)])
    signed_name = StringField(_l("Your name, if you want it shown beside your comment (optional)"), filters=[strip],
                              validators=[Length(max=80)])
