"""Editors edit a membership class (name, dues, admission) and close it to new members; a membership whose
dues are not renewed lapses by itself after its end date (the periodic job), and paying again revives it."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import url_for

from tests.campaigns.helpers import sign_in
from tests.payments.money_helpers import deliver
from tests.payments.recurring.helpers import association, editor_of, supporter
from tests.payments.support import text
from webapp.extensions import db
from webapp.jobs import PERIODIC
from webapp.membership import services as membership
from webapp.membership import tasks
from webapp.membership.models import Admission, MemberState
from webapp.money import Money
from webapp.payments.recurring import services as recurring
from webapp.payments.recurring.models import SupportInterval

M = MemberState


def a_class(org, editor, name="Membre actif", dues=Money(5_000, "XOF"), admission=Admission.OPEN):
    cls = membership.create_class(org, editor, name, dues, SupportInterval.YEARLY if dues else None, admission, "XOF")
    db.session.commit()
    return cls


def fresh(obj):
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


def test_an_editor_edits_a_class_and_dues_already_paid_keep_their_amount(fake_stripe, client):
    org, user = association(currency="XOF"), supporter()
    editor = editor_of(org)
    cls = a_class(org, editor)
    member = membership.join(user, cls)
    support = membership.start_dues(member, user, "Africa/Porto-Novo", "fr")
    recurring.open_checkout(support, "http://harambee.test/", "http://harambee.test/")
    db.session.commit()
    deliver(fake_stripe.complete_checkout(support.checkout_session_id, "4242424242424242"))

    sign_in(client, editor)
    page = client.get(url_for("membership.edit_class", slug=org.slug, class_id=cls.id))
    assert page.status_code == 200 and 'value="Membre actif"' in text(page)
    response = client.post(url_for("membership.edit_class", slug=org.slug, class_id=cls.id), data={
        "name": "Membre de soutien", "dues": "10000", "currency": "XOF", "interval": "monthly",
        "admission": "approval"})
    assert response.status_code == 302
    cls = fresh(cls)
    assert (cls.name, cls.dues, cls.dues_interval, cls.admission) == (
        "Membre de soutien", Money(10_000, "XOF"), SupportInterval.MONTHLY, Admission.APPROVAL)
    assert fresh(support).money == Money(5_000, "XOF")  # the member's dues as they started them

    response = client.post(url_for("membership.edit_class", slug=org.slug, class_id=cls.id), data={
        "name": "Membre de soutien", "dues": "", "currency": "XOF", "interval": "yearly", "admission": "open"})
    assert response.status_code == 302
    assert fresh(cls).dues is None and fresh(cls).dues_interval is None  # free from now on


@pytest.mark.parametrize("data, why", [
    ({"name": "", "dues": "", "currency": "XOF", "interval": "yearly", "admission": "open"}, "no name"),
    ({"name": "Sympathisant", "dues": "", "currency": "XOF", "interval": "yearly", "admission": "open"}, "taken"),
    ({"name": "X", "dues": "douze", "currency": "XOF", "interval": "yearly", "admission": "open"}, "not an amount"),
    ({"name": "X", "dues": "0", "currency": "XOF", "interval": "yearly", "admission": "open"}, "zero"),
    ({"name": "X", "dues": "5000", "currency": "XOF", "interval": "weekly", "admission": "open"}, "interval"),
    ({"name": "X", "dues": "5000", "currency": "XOF", "interval": "yearly", "admission": "anyone"}, "admission"),
    ({"name": "X" * 81, "dues": "", "currency": "XOF", "interval": "yearly", "admission": "open"}, "too long"),
])
def test_a_bad_edit_is_a_400_and_changes_nothing(client, data, why):
    org = association(currency="XOF")
    editor = editor_of(org)
    a_class(org, editor, "Sympathisant", None)
    cls = a_class(org, editor)
    sign_in(client, editor)
    response = client.post(url_for("membership.edit_class", slug=org.slug, class_id=cls.id), data=data)
    assert response.status_code == 400, why
    cls = fresh(cls)
    assert (cls.name, cls.dues, cls.admission) == ("Membre actif", Money(5_000, "XOF"), Admission.OPEN)


def test_a_class_of_another_organization_is_not_found(client):
    org, other = association(currency="XOF"), association(slug="autre", name="Autre", currency="XOF")
    cls = a_class(other, editor_of(other, email="ama@example.org"))
    sign_in(client, editor_of(org, email="kofi@example.org"))
    assert client.get(url_for("membership.edit_class", slug=org.slug, class_id=cls.id)).status_code == 404
    assert client.post(url_for("membership.open_class", slug=org.slug, class_id=cls.id,
                               action="close")).status_code == 404


def test_a_closed_class_takes_no_new_member_but_keeps_its_members_then_reopens(client):
    org = association(currency="XOF")
    editor = editor_of(org)
    cls = a_class(org, editor, "Sympathisant", None)
    first = membership.join(supporter(), cls)
    db.session.commit()
    sign_in(client, editor)
    assert client.post(url_for("membership.open_class", slug=org.slug, class_id=cls.id,
                               action="close")).status_code == 302
    assert fresh(cls).open_to_new is False and fresh(first).state == M.ACTIVE
    client.get(url_for("membership.classes", slug=org.slug))  # shows the flash message, which names it
    assert "Sympathisant" not in text(client.get(url_for("membership.classes", slug=org.slug)))
    with pytest.raises(membership.MembershipRefused):
        membership.join(supporter(email="late@example.org"), fresh(cls))
    assert client.post(url_for("membership.open_class", slug=org.slug, class_id=cls.id,
                               action="reopen")).status_code == 302
    assert membership.join(supporter(email="late2@example.org"), fresh(cls)).state == M.ACTIVE


def test_unpaid_memberships_lapse_after_their_end_date_and_paid_ones_do_not(fake_stripe):
    assert any(job.task == "membership.lapse_ended" for job in PERIODIC)
    assert tasks.lapse_ended.apply().get() == 0
    org = association(currency="XOF")
    editor, treasurer = editor_of(org), editor_of(org, email="treasurer@example.org")
    cls = a_class(org, editor)
    # dues in cash, covering until the end of November
    cash_member = membership.join(supporter(email="cash@example.org"), cls)
    dues = membership.record_cash(cash_member, org, editor, Money(5_000, "XOF"), date(2026, 11, 1), date(2030, 11, 30))
    membership.confirm_cash(dues, org, treasurer)
    # dues paid by a yearly gift that keeps renewing
    payer = supporter(email="payer@example.org")
    paying = membership.join(payer, cls)
    support = membership.start_dues(paying, payer, "Africa/Porto-Novo", "fr")
    recurring.open_checkout(support, "http://harambee.test/", "http://harambee.test/")
    db.session.commit()
    deliver(fake_stripe.complete_checkout(support.checkout_session_id, "4242424242424242"))
    paying = fresh(paying)
    free = membership.join(supporter(email="free@example.org"), a_class(org, editor, "Sympathisant", None))
    db.session.commit()

    assert membership.lapse_ended(date(2030, 11, 30)) == 0  # the last day covered
    assert membership.lapse_ended(date(2030, 12, 1)) == 1
    db.session.commit()
    assert fresh(cash_member).state == M.LAPSED
    assert fresh(free).state == M.ACTIVE  # free and open-ended
    assert fresh(paying).state == M.ACTIVE  # its gift renews
    past_paid = paying.ends_on + timedelta(days=1)
    assert past_paid < date(2030, 11, 30) and membership.lapse_ended(past_paid) == 0  # the scheduler renews it

    recurring.pause(fresh(support), payer)  # the gift paused: the membership lapses at once (listener)
    db.session.commit()
    assert fresh(paying).state == M.LAPSED
    assert membership.lapse_ended(past_paid) == 0  # nothing left to lapse; running again changes nothing

    again = membership.record_cash(fresh(cash_member), org, editor, Money(5_000, "XOF"), date(2026, 11, 2),
                                   date(2031, 11, 30))
    membership.confirm_cash(again, org, treasurer)
    db.session.commit()
    assert fresh(cash_member).state == M.ACTIVE  # paid again: active again


def test_a_membership_whose_renewal_needs_the_member_lapses_after_its_end_date(fake_stripe):
    org = association(currency="XOF")
    cls = a_class(org, editor_of(org))
    payer = supporter()
    member = membership.join(payer, cls)
    support = membership.start_dues(member, payer, "Africa/Porto-Novo", "fr")
    recurring.open_checkout(support, "http://harambee.test/", "http://harambee.test/")
    db.session.commit()
    deliver(fake_stripe.complete_checkout(support.checkout_session_id, "4242424242424242"))
    support = fresh(support)
    support.state = recurring.S.NEEDS_ACTION  # its renewal was declined
    db.session.commit()
    member = fresh(member)
    assert membership.lapse_ended(member.ends_on) == 0
    assert membership.lapse_ended(member.ends_on + timedelta(days=1)) == 1
    assert fresh(member).state == M.LAPSED
