"""Disaster mutual aid: events, solidarity calls, offers and requests matched, the coordinator's page."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from webapp.mutual_aid.settings import init_settings
    from webapp.mutual_aid.views import blueprint

    init_settings(app)
    app.register_blueprint(blueprint)
    from webapp.mutual_aid.services.commitments import method_saved
    from webapp.payments.pledging.saved_methods import on_method_saved

    on_method_saved("commitment:", method_saved)
