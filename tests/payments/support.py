"""Helpers for the payment tests on the sandbox provider: campaigns, rates, signed events, pledge forms."""
from __future__ import annotations

import json
import secrets
import time
from datetime import date, timedelta
from decimal import Decimal
from html import unescape

from flask import current_app, url_for
from sqlalchemy import func, select

from tests.factories import CampaignFactory, OrganizationFactory, RewardTierFactory
from webapp.campaigns.models import CampaignStatus, FundingModel
from webapp.campaigns.services import progress_of
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.payments import webhooks
from webapp.payments.models import CONFIRMED_STATUSES, ExchangeRate, Pledge, PledgeEvent, ProcessedEvent

WEBHOOK_URL = "/payments/webhooks/stripe"
#: the date of the rates the tests load
RATE_DATE = date(2026, 11, 27)


def live_campaign(currency: str = "EUR", funding: FundingModel = FundingModel.KEEP_IT_ALL,
                  goal: int | None = None, **overrides):
    """A live campaign, started yesterday, ending in 20 days; goal 100 major units unless told."""
    from webapp.money import exponent

    org = overrides.pop("organization", None) or OrganizationFactory(name="Coopérative Tifaout")
    values = dict(status=CampaignStatus.LIVE, currency=currency, funding_model=funding,
                  goal_amount=goal or 100 * 10 ** exponent(currency),
                  starts_at=utcnow() - timedelta(days=1), ends_at=utcnow() + timedelta(days=20),
                  organization=org, title="Argan oil press for Tifaout")
    values.update(overrides)
    values.setdefault("launched_at", values["starts_at"])
    return CampaignFactory(**values)


def tier(campaign, minimum: int, limit: int | None = None, title: str = "A jar of argan oil"):
    return RewardTierFactory(campaign=campaign, minimum_amount=minimum, quantity_limit=limit, title=title)


def load_rates(rate_date: date = RATE_DATE, **units_per_euro: str) -> None:
    """Store euro reference rates directly (the import itself is tested in test_fx)."""
    for currency, value in units_per_euro.items():
        db.session.add(ExchangeRate(rate_date=rate_date, currency=currency, units_per_euro=Decimal(value),
                                    source="test"))
    db.session.flush()


def standard_rates() -> None:
    load_rates(USD="1.0825", JPY="163.42", MAD="10.8420", TND="3.3910")


# -- counting --------------------------------------------------------------------------------------
def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def fresh(pledge: Pledge) -> Pledge:
    """The pledge as the database has it now (a request may have committed changes)."""
    db.session.expire_all()
    return db.session.get(Pledge, pledge.id)


def raised(campaign) -> int:
    db.session.expire_all()
    return progress_of(campaign).raised.amount


def confirmed_sum(campaign_id: int) -> tuple[int, int]:
    """The campaign's money computed in Python from the pledge rows: (sum of amount - refunded, backers)."""
    db.session.expire_all()
    rows = db.session.scalars(select(Pledge).where(Pledge.campaign_id == campaign_id)).all()
    confirmed = [p for p in rows if p.status in CONFIRMED_STATUSES]
    return sum(p.amount - p.refunded_amount for p in confirmed), len(confirmed)


def state_of_everything() -> tuple:
    """Every row webhooks may write, for before/after comparisons."""
    db.session.expire_all()
    pledges = tuple(
        (p.id, p.status.value, p.refunded_amount, p.payment_intent_id, p.charge_id, p.settled_amount,
         p.disputed_at, p.failure_reason, p.confirmed_at)
        for p in db.session.scalars(select(Pledge).order_by(Pledge.id)))
    return pledges, count(PledgeEvent), count(ProcessedEvent)


# -- webhook events --------------------------------------------------------------------------------
def event(event_type: str, obj: dict, event_id: str | None = None) -> dict:
    return {"id": event_id or f"evt_test_{secrets.token_hex(8)}", "object": "event", "type": event_type,
            "created": int(time.time()), "livemode": False, "data": {"object": obj}}


def payload_of(evt: dict) -> bytes:
    return json.dumps(evt).encode()


def signature(payload: bytes, secret: str | None = None, timestamp: int | None = None) -> str:
    return webhooks.sign(payload, secret or current_app.config["STRIPE_WEBHOOK_SECRET"], timestamp)


def post_event(client, evt: dict | bytes, *, secret: str | None = None, timestamp: int | None = None,
               header: str | None = None, sign: bool = True):
    """POST an event to the webhook endpoint, signed as Stripe signs it unless told otherwise."""
    payload = evt if isinstance(evt, bytes) else payload_of(evt)
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["Stripe-Signature"] = header
    elif sign:
        headers["Stripe-Signature"] = signature(payload, secret, timestamp)
    return client.post(WEBHOOK_URL, data=payload, headers=headers)


def session_obj(pledge: Pledge, **extra) -> dict:
    """A checkout.session object as Stripe sends it for this pledge."""
    mode = "payment" if pledge.charge_timing == "now" else "setup"
    obj = {"id": pledge.checkout_session_id, "object": "checkout.session", "mode": mode,
           "client_reference_id": pledge.reference, "customer": pledge.customer_id,
           "amount_total": pledge.charge_amount if mode == "payment" else None,
           "currency": pledge.charge_currency.lower(),
           "metadata": {"pledge_id": str(pledge.id), "pledge_reference": pledge.reference}}
    obj.update(extra)
    return obj


def intent_obj(pledge: Pledge, status: str = "succeeded", **extra) -> dict:
    obj = {"id": f"pi_test_{pledge.reference}", "object": "payment_intent", "status": status,
           "amount": pledge.charge_amount, "currency": pledge.charge_currency.lower(),
           "latest_charge": f"ch_test_{pledge.reference}", "metadata": {"pledge_id": str(pledge.id)}}
    obj.update(extra)
    return obj


def charge_obj(pledge: Pledge, amount_refunded: int, **extra) -> dict:
    obj = {"id": f"ch_test_{pledge.reference}", "object": "charge", "payment_intent": f"pi_test_{pledge.reference}",
           "amount": pledge.charge_amount, "amount_refunded": amount_refunded,
           "refunded": amount_refunded >= pledge.charge_amount, "currency": pledge.charge_currency.lower(),
           "metadata": {"pledge_id": str(pledge.id)}}
    obj.update(extra)
    return obj


# -- the pledge form -------------------------------------------------------------------------------
def token() -> str:
    return secrets.token_urlsafe(24)


def pledge_form(amount: str, **fields) -> dict:
    data = {"tier": "", "amount": amount, "pay_currency": fields.pop("pay_currency", ""),
            "email": "nurse@example.org", "display_name": "Afi", "message": "", "client_token": token()}
    data.update(fields)
    return data


def submit_pledge(client, campaign, amount: str, *, headers: dict | None = None, **fields):
    """POST the pledge form; fills pay_currency with the campaign's currency unless given."""
    fields.setdefault("pay_currency", campaign.currency)
    return client.post(url_for("payments.pledge", slug=campaign.slug), data=pledge_form(amount, **fields),
                       headers=headers or {})


def the_pledge(campaign) -> Pledge:
    pledges = db.session.scalars(select(Pledge).where(Pledge.campaign_id == campaign.id)).all()
    assert len(pledges) == 1, f"expected one pledge, found {len(pledges)}"
    return pledges[0]


def checkout_path(response) -> str:
    """The sandbox checkout the pledge form redirected to, as a path for the test client."""
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    location = response.headers["Location"]
    assert "/sandbox/checkout/" in location, location
    return location.split("harambee.test", 1)[-1]


def pay(client, response_or_path, card: str = "4242 4242 4242 4242", **extra):
    path = response_or_path if isinstance(response_or_path, str) else checkout_path(response_or_path)
    return client.post(path, data={"card": card, "exp": "12/34", "cvc": "123", **extra})


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def pending_pledge(campaign, amount: int, *, tier=None, user=None, pay_currency: str | None = None,
                   email: str = "backer@example.org", locale: str = "en", commit: bool = True) -> Pledge:
    """A pledge whose sandbox checkout is open, made through the service as the form makes it."""
    from webapp.money import Money
    from webapp.payments.pledging import services

    pledge = services.start_pledge(services.PledgeRequest(
        campaign=campaign, tier=tier, amount=Money(amount, campaign.currency),
        pay_currency=pay_currency or campaign.currency, email=user.email if user else email, user=user,
        display_name="Afi", anonymous=False, message=None, locale=locale, client_token=token()))
    if commit:
        db.session.commit()
    return pledge
