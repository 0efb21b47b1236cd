"""Impact checked from below: a campaign's indicators, the values its reports give, and the people concerned confirming them."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the routes, what the campaign and transparency pages read of impact, and discovery's SDG filter
    (campaigns cannot import this domain: it hands campaigns a condition instead)."""
    from webapp.campaigns import services as campaigns
    from webapp.i18n import locale_code
    from webapp.impact import sdg
    from webapp.impact.services import display, indicators
    from webapp.impact.services.discovery import campaigns_serving_goal
    from webapp.impact.views import blueprint

    app.register_blueprint(blueprint)
    campaigns.register_discovery_filter("sdg", campaigns_serving_goal)

    @app.context_processor
    def impact_helpers() -> dict:
        return {"impact_of": lambda campaign: display.campaign_impact(campaign, locale_code()),
                "impact_figure": display.figure,
                "impact_unit": indicators.unit_of,
                "report_impact": lambda report: display.report_impact(report.id, locale_code()),
                "sdg_goal_options": lambda: [(g.number, g.short(sdg.language_of(locale_code()))) for g in sdg.goals()]}
