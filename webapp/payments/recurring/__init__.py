"""Recurring support: monthly or yearly gifts to an organization (or an ongoing campaign), renewed by our own scheduler."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from webapp.payments.pledging.saved_methods import on_method_saved
    from webapp.payments.recurring.services import CARD_OWNER, card_saved
    from webapp.payments.recurring.views import blueprint

    app.register_blueprint(blueprint)
    on_method_saved(CARD_OWNER, card_saved)
