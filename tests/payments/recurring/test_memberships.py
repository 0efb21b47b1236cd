"""Memberships: joining (open, by approval, free or with dues paid through recurring support), resigning,
cash dues confirmed by a second editor, the CSV export, the message to active members."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from tests.payments.money_helpers import deliver
from tests.payments.recurring.helpers import association, editor_of, fees, supporter
from webapp.errors import PermissionDenied
from webapp.extensions import db
from webapp.ledger import services as ledger
from webapp.membership import services as membership
from webapp.membership.models import Admission, MemberState
from webapp.money import Money
from webapp.payments.recurring import services as recurring
from webapp.payments.recurring.models import SupportInterval, SupportState

M = MemberState


def test_free_open_class_makes_a_member_at_once_and_one_membership_per_organization():
    org, user = association(currency="XOF"), supporter()
    editor = editor_of(org)
    cls = membership.create_class(org, editor, "Sympathisant", None, None, Admission.OPEN, "XOF")
    member = membership.join(user, cls)
    assert member.state == M.ACTIVE and member.starts_on is not None
    with pytest.raises(membership.MembershipRefused):
        membership.join(user, cls)
    other = membership.create_class(org, editor, "Bienfaiteur", None, None, Admission.OPEN, "XOF")
    with pytest.raises(membership.MembershipRefused):
        membership.join(user, other)  # one membership per person and organization


def test_dues_are_paid_through_recurring_support_and_resigning_stops_them(fake_stripe):
    org, user = association(currency="XOF"), supporter()
    cls = membership.create_class(org, editor_of(org), "Membre actif", Money(5_000, "XOF"), SupportInterval.YEARLY,
                                  Admission.OPEN, "XOF")
    member = membership.join(user, cls)
    assert member.state == M.PENDING and membership.needs_dues(member)
    support = membership.start_dues(member, user, "Africa/Porto-Novo", "fr")
    recurring.open_checkout(support, "http://harambee.test/", "http://harambee.test/")
    db.session.commit()
    deliver(fake_stripe.complete_checkout(support.checkout_session_id, "4242424242424242"))
    db.session.expire_all()
    member = membership.membership_of(user, org.id)
    assert member.state == M.ACTIVE and member.ends_on == member.support.next_charge_on - timedelta(days=1)
    assert (member.support.next_charge_on - member.starts_on).days in (365, 366)
    assert ledger.balance(ledger.organization_account(org.id), "XOF").amount == 5_000 - fees(support)

    membership.resign(member, user)
    db.session.commit()
    assert member.state == M.RESIGNED and member.support.state == SupportState.CANCELLED


def test_a_request_by_approval_waits_for_an_editor_and_a_stranger_cannot_decide():
    org, user = association(currency="XOF"), supporter()
    editor, outsider = editor_of(org), supporter(email="other@example.org")
    cls = membership.create_class(org, editor, "Sociétaire", None, None, Admission.APPROVAL, "XOF")
    member = membership.join(user, cls)
    assert member.state == M.PENDING
    with pytest.raises(PermissionDenied):
        membership.approve(member, org, outsider)
    with pytest.raises(PermissionDenied):
        membership.members_of(org, outsider)  # only editors see members
    membership.approve(member, org, editor)
    assert member.state == M.ACTIVE


def test_cash_dues_are_unverified_until_a_second_editor_confirms_them():
    org, user = association(currency="XOF"), supporter()
    first, second = editor_of(org), editor_of(org)
    cls = membership.create_class(org, first, "Membre actif", Money(5_000, "XOF"), SupportInterval.YEARLY,
                                  Admission.OPEN, "XOF")
    member = membership.join(user, cls)
    dues = membership.record_cash(member, org, first, Money(5_000, "XOF"), date(2026, 11, 2), date(2027, 11, 1))
    assert ledger.balance(ledger.organization_account(org.id), "XOF").amount == 0
    assert member.state == M.PENDING
    with pytest.raises(membership.MembershipRefused):
        membership.confirm_cash(dues, org, first)  # not the editor who recorded it
    membership.confirm_cash(dues, org, second)
    assert ledger.balance(ledger.organization_account(org.id), "XOF").amount == 5_000
    assert member.state == M.ACTIVE and member.ends_on == date(2027, 11, 1)
    membership.confirm_cash(dues, org, second)  # twice books once
    db.session.flush()
    assert ledger.balance(ledger.organization_account(org.id), "XOF").amount == 5_000


def test_the_csv_export_neutralizes_formulas():
    org = association(currency="XOF")
    editor = editor_of(org)
    cls = membership.create_class(org, editor, "Sympathisant", None, None, Admission.OPEN, "XOF")
    for i, name in enumerate(("=HYPERLINK(\"http://x\")", "+33 6", "-2+3", "@SUM(A1)", "\tTab", "Afi")):
        membership.join(supporter(email=f"m{i}@example.org", name=name), cls)
    rows = list(csv.reader(io.StringIO(membership.members_csv(org, editor))))
    names = [row[0] for row in rows[1:]]
    assert all(not n.startswith(("=", "+", "-", "@", "\t")) for n in names)
    assert "'=HYPERLINK(\"http://x\")" in names and "Afi" in names


def test_a_message_reaches_every_active_member_and_only_them(mail_outbox):
    org = association(currency="XOF")
    editor = editor_of(org)
    open_cls = membership.create_class(org, editor, "Sympathisant", None, None, Admission.OPEN, "XOF")
    waiting = membership.create_class(org, editor, "Sociétaire", None, None, Admission.APPROVAL, "XOF")
    membership.join(supporter(email="a@example.org"), open_cls)
    membership.join(supporter(email="b@example.org"), waiting)
    assert membership.message_active(org, editor, "Assemblée générale", "Samedi à 10 h.") == 1
    db.session.commit()
    assert [str(m["To"]) for m in mail_outbox if "Assemblée" in str(m["Subject"])] == ["a@example.org"]
