"""Names people read for categories, funding models and states, in their language."""
from __future__ import annotations

from flask_babel import gettext as _, lazy_gettext as _l

from webapp.campaigns.models import Campaign, Category, FundingModel
from webapp.i18n import format_day, money

CATEGORY_LABELS = {
    Category.AGRICULTURE: _l("Agriculture and food"),
    Category.EDUCATION: _l("Education"),
    Category.HEALTH: _l("Health"),
    Category.ENVIRONMENT: _l("Environment"),
    Category.HOUSING: _l("Housing"),
    Category.CULTURE: _l("Culture"),
    Category.TOURISM: _l("Community tourism"),
    Category.CRAFTS: _l("Crafts and trades"),
    Category.WATER: _l("Water and sanitation"),
    Category.EMERGENCY: _l("Emergency relief"),
    Category.COMMUNITY: _l("Community life"),
}

FUNDING_MODEL_LABELS = {
    FundingModel.ALL_OR_NOTHING: _l("All or nothing"),
    FundingModel.KEEP_IT_ALL: _l("Keep it all"),
    FundingModel.MINIMUM_OPTIMUM: _l("Minimum and optimum"),
}

FUNDING_MODEL_HELP = {
    FundingModel.ALL_OR_NOTHING: _l("Backers are charged only if the goal is reached by the deadline."),
    FundingModel.KEEP_IT_ALL: _l("Backers are charged when they pledge; the organization keeps what is raised."),
    FundingModel.MINIMUM_OPTIMUM: _l("The campaign succeeds once the minimum is reached; the optimum is the stretch target."),
}


def charge_terms(campaign: Campaign) -> str:
    """When a backer of this campaign is charged, in one sentence: the minimum decides where there is one."""
    when = format_day(campaign.end_date, "long")
    if campaign.funding_model == FundingModel.MINIMUM_OPTIMUM and campaign.minimum is not None:
        return _("You will be charged only if the campaign reaches its minimum of %(minimum)s on %(date)s.",
                 minimum=money(campaign.minimum), date=when)
    return _("You will be charged only if the campaign reaches its goal on %(date)s.", date=when)
