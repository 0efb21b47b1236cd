"""Payments: pledges and the money around them, one sub-package per sub-feature (README, Layout)."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Plug payments into the lower domains: campaign totals now come from confirmed pledges."""
    from webapp.campaigns.progress import install_reader
    from webapp.payments import display, minimums
    from webapp.payments.expenses.labels import labels as expense_labels
    from webapp.payments.expenses.views import blueprint as expenses
    from webapp.payments.hosts.views import blueprint as hosts
    from webapp.payments.commands import campaigns_group, fx_group, ledger_group
    from webapp.payments import webhooks
    from webapp.payments.matching.views import blueprint as funds
    from webapp.payments.providers import sandbox as sandbox_provider
    from webapp.payments.totals import PledgeTotals
    from webapp.payments.views.backer import blueprint
    from webapp.payments.views.organizer import blueprint as money

    minimums.check_settings(app.config)  # a wrong settlement currency stops the start, not a pledge
    # Sandbox events reach the webhook's unit of work after the caller's commit, as Stripe's would.
    sandbox_provider.install(app, webhooks.receive)
    install_reader(app, PledgeTotals())
    display.register(app)
    app.register_blueprint(blueprint)
    app.register_blueprint(money)
    app.register_blueprint(funds)
    app.register_blueprint(expenses)
    app.register_blueprint(hosts)
    app.context_processor(expense_labels)
    app.cli.add_command(fx_group)
    app.cli.add_command(campaigns_group)
    app.cli.add_command(ledger_group)
    from webapp.payments.recurring import init_app as init_recurring

    init_recurring(app)
    if app.config["PAYMENT_PROVIDER"] == "sandbox":
        from webapp.payments.views.sandbox import blueprint as sandbox

        app.register_blueprint(sandbox)
