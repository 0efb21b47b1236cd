"""Where Stripe Connect can pay an organization: the countries platform transfers reach.

Stripe's cross-border payouts (docs.stripe.com/connect/cross-border-payouts): a platform in the US,
the UK, the EEA, Canada or Switzerland can transfer to connected accounts in any of those regions,
and only to accounts on the *recipient* service agreement when the account's country differs from
the platform's. Elsewhere (Benin, Senegal, Morocco, Kenya…) an organization is paid through a host.
"""
from __future__ import annotations

from flask import current_app

#: the European Economic Area: the EU's 27 and Iceland, Liechtenstein, Norway
EEA = frozenset({
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU",
    "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
})
#: the regions between which Stripe allows self-serve platform transfers
CROSS_BORDER_REGION = EEA | {"US", "GB", "CA", "CH"}


def platform_country() -> str:
    return current_app.config["PLATFORM_COUNTRY"]


def connect_supported(country: str) -> bool:
    """True when the platform can transfer to a connected account in `country` (ISO 3166-1 alpha-2)."""
    country = country.upper()
    home = platform_country()
    return country == home or (home in CROSS_BORDER_REGION and country in CROSS_BORDER_REGION)


def is_cross_border(country: str) -> bool:
    return country.upper() != platform_country()
