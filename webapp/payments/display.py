"""Amounts shown in the viewer's own currency: which currency that is, and the approximate figure."""
from __future__ import annotations

from babel.numbers import get_territory_currencies
from flask import current_app, request, session
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape

from webapp.i18n import locale_code
from webapp.money import Money
from webapp.payments import currencies, fx, minimums
from webapp.payments.matching import services as matching
from webapp.payments.models import PledgeStatus

#: The usual currency of a language when the browser names no country.
LANGUAGE_CURRENCY = {"fr": "EUR", "en": "USD"}


def territory_currency(country: str | None) -> str | None:
    """The currency a country uses today ('CA' -> 'CAD'), if we show amounts in it."""
    if not country or len(country) != 2:
        return None
    try:
        found = get_territory_currencies(country.upper())
    except Exception:  # noqa: BLE001 - an unknown territory is no currency, never an error page
        return None
    return found[0] if found and found[0] in current_app.config["SUPPORTED_CURRENCIES"] else None


def viewer_currency() -> str | None:
    """The currency the viewer reads approximations in. In this order:

    1. an explicit choice: the member's profile display currency, else the chooser's choice in the session
       (the chooser also stores it on the member's profile). A choice someone made beats a guess, so a
       Canadian member who picked EUR sees EUR: the issue's "residence first" is applied to everything
       that is inferred, and nobody can be overruled by it;
    2. the member's country of residence (a member living in Montréal sees CAD, whatever their language);
    3. the browser's region (Accept-Language fr-CA -> CA -> CAD);
    4. the language (fr -> EUR, en -> USD).
    """
    supported = current_app.config["SUPPORTED_CURRENCIES"]
    member = current_user if current_user.is_authenticated else None
    if member is not None and member.display_currency in supported:
        return member.display_currency
    chosen = session.get("display_currency")
    if chosen in supported:
        return chosen
    if member is not None:
        residence = territory_currency(member.residence_country)
        if residence:
            return residence
    for tag, _quality in request.accept_languages:
        parts = tag.replace("_", "-").split("-")
        if len(parts) > 1 and len(parts[-1]) == 2:
            found = territory_currency(parts[-1])
            if found:
                return found
    return LANGUAGE_CURRENCY.get(locale_code())


def can_charge_in(currency: str) -> bool:
    return currency in currencies.RULES and currency in current_app.config["SUPPORTED_CURRENCIES"]


def approx(money: Money | None, target: str | None = None) -> Markup:
    """'≈ €38.11 (rate of 27 Nov 2026)', or nothing when the viewer's currency is the amount's own."""
    if money is None or money.amount == 0:
        return Markup("")
    conversion = fx.try_convert(money, target or viewer_currency())
    if conversion is None:
        return Markup("")
    figure = conversion.converted.format(locale_code())
    if conversion.quote.pegged:
        note = _("fixed parity")
    else:
        note = _("rate of %(date)s", date=format_date(conversion.quote.rate_date, "medium"))
    return Markup('<span class="approx" title="{title}">≈ {figure} <small>({note})</small></span>').format(
        title=escape(_("Approximate: the amount charged is the one shown by the payment page.")),
        figure=figure, note=note)


def minimum_note(currency: str) -> str:
    """'At least F CFA 350 (≈ €0.53).': the processor's minimum in `currency`, worth in the settlement currency."""
    locale = locale_code()
    try:
        minimum = minimums.minimum_charge(currency)
    except fx.RateUnavailable:
        return _("We have no exchange rate for %(c)s at the moment: pledges in it wait until there is one.",
                 c=currency)
    if minimum.amount.currency == minimum.settlement.currency:
        return _("At least %(min)s.", min=minimum.amount.format(locale))
    return _("At least %(min)s (≈ %(approx)s).", min=minimum.amount.format(locale),
             approx=minimum.in_settlement.format(locale))


def pledge_status_label(status: PledgeStatus) -> str:
    return {
        PledgeStatus.PENDING: _("waiting for payment"), PledgeStatus.PROCESSING: _("payment on its way"),
        PledgeStatus.COMMITTED: _("charged only if the goal is reached"), PledgeStatus.PAID: _("paid"),
        PledgeStatus.FAILED: _("payment failed"), PledgeStatus.EXPIRED: _("not completed"),
        PledgeStatus.CANCELLED: _("cancelled"), PledgeStatus.REFUNDED: _("refunded"),
        PledgeStatus.NEEDS_ACTION: _("waiting for the backer to complete the payment"),
        PledgeStatus.LAPSED: _("lapsed: never charged"), PledgeStatus.RELEASED: _("released: never charged"),
        PledgeStatus.COLLECTING: _("bank debit on its way"),
    }[PledgeStatus(status)]


def dispute_label(outcome: str) -> str:
    return {
        "inquiry": _("inquiry: the bank asks questions; no money has moved"),
        "open": _("open: the money and the dispute fee are withheld until the bank decides"),
        "won": _("won: the money is back"),
        "lost": _("lost: the money went back to the backer's bank"),
        "closed": _("closed without a chargeback: no money moved"),
    }[outcome]


def charge_label(status: PledgeStatus) -> str:
    """What became of the amount charged: to be charged, charged, or never charged (and why)."""
    return {
        PledgeStatus.PENDING: _("To be charged"), PledgeStatus.PROCESSING: _("Being charged"),
        PledgeStatus.COLLECTING: _("Bank debit on its way"),
        PledgeStatus.COMMITTED: _("Will be charged if the goal is reached"),
        PledgeStatus.NEEDS_ACTION: _("To be charged once you complete the payment"),
        PledgeStatus.PAID: _("Charged"), PledgeStatus.REFUNDED: _("Charged, then refunded"),
        PledgeStatus.FAILED: _("Not charged: the payment failed"),
        PledgeStatus.EXPIRED: _("Not charged: the pledge was not completed"),
        PledgeStatus.CANCELLED: _("Not charged: the pledge was cancelled"),
        PledgeStatus.LAPSED: _("Not charged: the pledge lapsed"),
        PledgeStatus.RELEASED: _("Released, never charged"),
    }[PledgeStatus(status)]


def register(app) -> None:
    @app.context_processor
    def payment_helpers() -> dict:
        return {"approx": approx, "viewer_currency": viewer_currency,
                "match_offers": matching.offers_for,
                "pledge_status_label": pledge_status_label, "minimum_note": minimum_note,
                "dispute_label": dispute_label, "charge_label": charge_label,
                "supported_currencies": current_app.config["SUPPORTED_CURRENCIES"]}
