"""Demo data: the Ganvié school kitchen's indicators, its report's values, and the people asked to confirm them.

Two values were put to the people concerned (their links count as sent; no message leaves from the demo):
they await answers. The third is not asked yet, so that the organizer can ask from the values page and see
the SMS go out (to the log, in `make run`).
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select, update

from webapp.campaigns.models import Campaign
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.impact.models import Beneficiary, ConfirmationRequest, Indicator, IndicatorSource, IndicatorValue
from webapp.impact.services import confirmations
from webapp.progress_reports.models import ProgressReport

SLUG = "ganvie-school-kitchen"
#: (source, SDG target, catalog key, own title, unit, baseline, target, value reported, asked already)
INDICATORS = [
    (IndicatorSource.SDG, "2.1", None, "Pupils who get a hot meal each school day", "pupils", "0", "300", "240", True),
    (IndicatorSource.CATALOG, None, "jobs_created", None, "jobs", "0", "2", "1", True),
    (IndicatorSource.CUSTOM, None, None, "Firewood burned each week", "kg", "300", "150", "170", False),
]
#: parents of pupils, listed by the association with their consent (demo numbers of the Benin plan, never dialled)
BENEFICIARIES = [("+22997000101", None, "fr"), ("+22997000102", None, "fr"), (None, "parent.ganvie@example.org", "fr")]


def load_impact() -> int:
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == SLUG))
    if campaign is None or db.session.scalar(select(Indicator.id).where(Indicator.campaign_id == campaign.id)):
        return 0
    report = db.session.scalar(select(ProgressReport).where(ProgressReport.campaign_id == campaign.id)
                               .order_by(ProgressReport.id))
    if report is None:
        return 0
    today = date.today()
    for phone, email, locale in BENEFICIARIES:
        db.session.add(Beneficiary(campaign_id=campaign.id, phone=phone, email=email, locale=locale,
                                   consent_on=today - timedelta(days=20)))
    added = 0
    for source, target, key, title, unit, baseline, goal_figure, reported, asked in INDICATORS:
        sdg_goal = int(target.split(".")[0]) if target else (8 if key == "jobs_created" else None)
        indicator = Indicator(campaign_id=campaign.id, source=source, sdg_goal=sdg_goal, sdg_target=target,
                              catalog_key=key, title=title, unit=unit, baseline=Decimal(baseline),
                              target=Decimal(goal_figure), target_date=today.replace(year=today.year + 1))
        db.session.add(indicator)
        db.session.flush()
        value = IndicatorValue(indicator_id=indicator.id, report_id=report.id, campaign_id=campaign.id,
                               value=Decimal(reported), measured_on=today - timedelta(days=3),
                               note="Counted by the cook and two parents" if source == IndicatorSource.SDG else None)
        db.session.add(value)
        db.session.flush()
        if asked:
            confirmations.ask(value)
            db.session.execute(update(ConfirmationRequest).where(ConfirmationRequest.value_id == value.id)
                               .values(sent_at=utcnow(), address=None))  # counted as sent: the demo mails nobody
        added += 1
    db.session.flush()
    return added
