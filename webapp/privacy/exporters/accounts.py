"""The accounts domain's part of a member's data: the profile, the role, the regions of origin."""
from __future__ import annotations

from sqlalchemy import select

from webapp.accounts.models import User, UserSession
from webapp.extensions import db
from webapp.privacy.registry import exporter, row


@exporter("accounts")
def export_account(user: User) -> dict[str, list]:
    profile = row(id=user.id, name=user.name, email=user.email, language=user.locale,
                  display_currency=user.display_currency, residence_country=user.residence_country,
                  residence_region=user.residence_region, latitude=user.latitude, longitude=user.longitude,
                  email_verified_at=user.email_verified_at, suspended_at=user.suspended_at,
                  created_at=user.created_at)
    # The password is kept only as a one-way hash, which is no use to anyone: not exported.
    return {
        "profile": [profile],
        "roles": [row(role=user.role)],
        "origin_regions": [row(region_code=o.region_code) for o in user.origin_regions],
        # where the member is or was signed in (the cookie's key is never stored, only its hash: not exported)
        "login_sessions": [row(device=s.device, signed_in_at=s.created_at, last_seen_at=s.last_seen_at,
                               ended_at=s.revoked_at)
                           for s in db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)
                                                       .order_by(UserSession.id))],
    }
