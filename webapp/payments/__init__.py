"""Payments: pledges, exchange rates, the payment providers and their webhooks."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Plug payments into the lower domains: campaign totals now come from confirmed pledges."""
    from webapp.campaigns.progress import install_reader
    from webapp.payments import display
    from webapp.payments.commands import campaigns_group, fx_group, ledger_group
    from webapp.payments.services import PledgeTotals
    from webapp.payments.fund_views import blueprint as funds
    from webapp.payments.organizer_views import blueprint as money
    from webapp.payments.views import blueprint

    install_reader(app, PledgeTotals())
    display.register(app)
    app.register_blueprint(blueprint)
    app.register_blueprint(money)
    app.register_blueprint(funds)
    app.cli.add_command(fx_group)
    app.cli.add_command(campaigns_group)
    app.cli.add_command(ledger_group)
    if app.config["PAYMENT_PROVIDER"] == "sandbox":
        from webapp.payments.sandbox import blueprint as sandbox

        app.register_blueprint(sandbox)
