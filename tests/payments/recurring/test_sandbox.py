"""`make run`'s path on the sandbox provider: start a gift on the imitation hosted page, "next month" charges
the renewal once, a new card for all gifts on the imitation setup page."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import url_for

from tests.campaigns.helpers import sign_in
from tests.payments.recurring.helpers import association, booked, charges, supporter
from webapp.extensions import db
from webapp.payments.recurring import services as recurring
from webapp.payments.recurring.models import RecurringSupport, SupportState


def _path(location: str) -> str:
    parts = urlsplit(location)
    return parts.path + ("?" + parts.query if parts.query else "")


def test_the_sandbox_takes_a_gift_renews_it_once_per_press_and_changes_the_card(client):
    user, org = supporter(locale="en"), association()
    sign_in(client, user)
    started = client.post(url_for("recurring.start", slug=org.slug),
                          data={"amount": "25", "currency": "CAD", "interval": "monthly", "timezone": "America/Toronto"})
    assert started.status_code == 303 and "/sandbox/recurring/" in started.location
    paid = client.post(_path(started.location), data={"card": "4242 4242 4242 4242", "action": "pay"})
    assert paid.status_code == 302
    db.session.expire_all()
    support = db.session.scalar(db.select(RecurringSupport).where(RecurringSupport.user_id == user.id))
    assert support.state == SupportState.ACTIVE and list(charges(support).values()) == ["succeeded"]

    assert client.post(url_for("recurring.next_month", reference=support.reference)).status_code == 302
    assert list(charges(support).values()) == ["succeeded", "succeeded"] and len(booked(support)) == 2

    first_card = recurring.saved_method(user.id).payment_method_id
    setup = client.post(url_for("recurring.change_card"))
    assert setup.status_code == 303 and "/sandbox/setup/" in setup.location
    assert client.post(_path(setup.location), data={"card": "4242424242424242", "action": "save"}).status_code == 302
    db.session.expire_all()
    assert recurring.saved_method(user.id).payment_method_id != first_card

    declined = client.post(_path(started.location), data={"card": "4000000000009995", "action": "pay"})
    assert declined.status_code == 402


def test_the_sandbox_books_each_periods_fee_and_an_editors_refund(client):
    from tests.payments.recurring.helpers import editor_of
    from webapp.payments.recurring.models import RecurringCharge

    user, org = supporter(locale="en"), association()
    editor = editor_of(org, email="kofi@example.org")
    sign_in(client, user)
    started = client.post(url_for("recurring.start", slug=org.slug),
                          data={"amount": "25", "currency": "CAD", "interval": "monthly", "timezone": "America/Toronto"})
    client.post(_path(started.location), data={"card": "4242 4242 4242 4242", "action": "pay"})
    db.session.expire_all()
    support = db.session.scalar(db.select(RecurringSupport).where(RecurringSupport.user_id == user.id))
    client.post(url_for("recurring.next_month", reference=support.reference))
    assert len(booked(support, ("processor_fee",))) == 2  # the sandbox's simulated fee, per period

    charge = db.session.scalars(db.select(RecurringCharge).where(RecurringCharge.support_id == support.id)
                                .order_by(RecurringCharge.period.desc())).first()
    sign_in(client, editor)
    assert client.get(url_for("recurring.payments", slug=org.slug)).status_code == 200
    refunded = client.post(url_for("recurring.refund", slug=org.slug, charge_id=charge.id),
                           data={"amount": "", "reason": "Twice by mistake"})
    assert refunded.status_code == 302
    assert [amount for _, amount, _ in booked(support, ("refund",))] == [2_500]
