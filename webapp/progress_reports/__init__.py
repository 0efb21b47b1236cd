"""Progress reports: what an organization did with the money, posted on its campaign and emailed to its backers."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the routes, and what the campaign page reads of reports (campaigns cannot import this domain)."""
    from webapp.progress_reports import services
    from webapp.progress_reports.views import blueprint, manage

    app.register_blueprint(blueprint)
    app.register_blueprint(manage)

    @app.context_processor
    def progress_report_helpers() -> dict:
        return {"progress_reports_of": services.reports_of, "report_overdue_since": services.overdue_since}
