"""Governance: pooled funds that an organization's members allocate by one member, one vote, in rounds.

Builds on webapp.membership (who is a member, and since when) and webapp.ledger (the fund's money).
"""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from webapp.governance.funds import gift_targets
    from webapp.governance.notices import init_sms
    from webapp.governance.views import blueprint
    from webapp.payments.recurring.services import on_fund_targets

    app.register_blueprint(blueprint)
    on_fund_targets("governance", gift_targets)  # a recurring gift may be directed to a pooled fund
    init_sms()
