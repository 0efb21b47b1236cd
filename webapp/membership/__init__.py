"""Memberships of organizations: classes with their dues, the people who belong, the dues they paid.

Not to be confused with organizations.models.Membership, which is an organization's *team* (its owners
and editors), nor with Role.MEMBER, an account on the platform: an OrgMember belongs to the
organization itself (and will later vote in it).
"""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from webapp.membership.services import support_changed
    from webapp.membership.views import blueprint
    from webapp.payments.recurring.services import on_support_changed

    app.register_blueprint(blueprint)
    on_support_changed("membership", support_changed)
