"""Organizations' Stripe Connect accounts: the country check, creation on the recipient agreement, their events.

Which agreement (docs.stripe.com/connect/service-agreement-types): the *full* agreement exists for
accounts that process card payments (`card_payments`); the *recipient* agreement is for accounts that
only receive transfers from the platform, and "cross-border payouts only work with accounts under the
recipient service agreement. You must explicitly pass in the country code if it differs from the
platform country." Organizations here never charge anyone themselves (the platform charges and
transfers, "separate charges and transfers"), so every account — abroad (in a country countries.py
allows) and at home (the Lyon bakery on a French platform) alike — is created on the recipient agreement
with only the `transfers` capability requested, its country always passed. The cost, per the same page:
transfers to recipient accounts become available in their balance 24 hours later.

Connected accounts' events (`account.updated`, `capability.updated`) reach the Connect webhook
endpoint only (docs.stripe.com/connect/webhooks), signed with its own secret.
"""
from __future__ import annotations

import logging

from flask_babel import gettext as _
from sqlalchemy import select

from webapp.clock import utcnow
from webapp.errors import DomainError
from webapp.extensions import db
from webapp.geo import country_name
from webapp.i18n import locale_code
from webapp.organizations.models import Organization
from webapp.payments.models import ConnectedAccount
from webapp.payments.payouts import countries
from webapp.payments.providers import get_provider

log = logging.getLogger(__name__)

#: the only agreement our accounts are created on (see the module's docstring)
SERVICE_AGREEMENT = "recipient"
#: the capability statuses Stripe reports (docs.stripe.com/api/capabilities/object)
CAPABILITY_STATUSES = frozenset({"active", "inactive", "pending", "unrequested", "disabled"})


class ConnectUnavailable(DomainError):
    """Stripe cannot pay an organization in this country: it needs a host instead."""

    def __init__(self, country: str):
        self.country = country
        super().__init__(_("Stripe cannot pay organizations in %(country)s. A host can receive the money for "
                           "your organization and pay it out to you by bank transfer or mobile money.",
                           country=country_name(country, locale_code())))


def account_of(org: Organization) -> ConnectedAccount | None:
    return db.session.scalar(select(ConnectedAccount).where(ConnectedAccount.organization_id == org.id))


def check_country(org: Organization) -> None:
    """Raise ConnectUnavailable unless Stripe Connect can transfer to an account in the organization's country."""
    if not countries.connect_supported(org.country or ""):
        raise ConnectUnavailable(org.country or "")


def onboarding_link(org: Organization, email: str, return_url: str, refresh_url: str) -> str:
    """Create the organization's connected account if needed; return the processor's onboarding page.

    Refused (ConnectUnavailable) before anything is created at the processor when Connect cannot pay there.
    """
    check_country(org)
    provider = get_provider()
    account = account_of(org)
    if account is None:
        country = org.country.upper()
        account_id = provider.create_connected_account(email=email, country=country,
                                                       idempotency_key=f"organization-{org.id}-account",
                                                       service_agreement=SERVICE_AGREEMENT)
        account = ConnectedAccount(organization_id=org.id, processor_account_id=account_id, country=country,
                                   service_agreement=SERVICE_AGREEMENT, transfers_capability="inactive")
        db.session.add(account)
        db.session.flush()
    return provider.create_account_link(account.processor_account_id, refresh_url=refresh_url, return_url=return_url)


def _by_processor_id(account_id: str | None) -> ConnectedAccount | None:
    if not account_id:
        return None
    return db.session.scalar(select(ConnectedAccount).where(ConnectedAccount.processor_account_id == account_id)
                             .with_for_update())


def account_updated(obj: dict) -> None:
    """account.updated: keep the organization's payout status as the processor sees it.

    The account object carries `capabilities` as name → status: the transfers status is read there too,
    so an account.updated delivered after a capability.updated says the same thing, not an older one.
    """
    account = _by_processor_id(obj.get("id"))
    if account is None:
        log.info("account.updated for an account we do not know: %s", obj.get("id"))
        return
    account.details_submitted = bool(obj.get("details_submitted"))
    account.payouts_enabled = bool(obj.get("payouts_enabled"))
    status = (obj.get("capabilities") or {}).get("transfers")
    if status in CAPABILITY_STATUSES:
        account.transfers_capability = status
    account.updated_at = utcnow()


def capability_updated(obj: dict) -> None:
    """capability.updated: the `transfers` capability's new status (others are not ours to watch)."""
    if obj.get("id") != "transfers":
        return
    account = _by_processor_id(_id(obj.get("account")))
    if account is None:
        log.info("capability.updated for an account we do not know: %s", _id(obj.get("account")))
        return
    status = obj.get("status")
    if status in CAPABILITY_STATUSES:
        account.transfers_capability = status
        account.updated_at = utcnow()


def _id(value) -> str | None:
    if isinstance(value, dict):
        return value.get("id")
    return value or None
