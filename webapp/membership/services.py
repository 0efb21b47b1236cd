"""Joining, approving, resigning; dues paid through recurring support or in cash (confirmed by a second editor).

Services flush; views commit. Dues are a RecurringSupport (payments.recurring) tied to the member,
so they are charged, renewed, paused and explained by the same machinery as a monthly gift.
"""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from webapp import phones
from webapp.accounts.models import User
from webapp.clock import utcnow
from webapp.errors import DomainError, PermissionDenied
from webapp.extensions import db
from webapp.ledger import services as ledger
from webapp.mail import queue_email
from webapp.money import Money
from webapp.organizations import services as organizations
from webapp.organizations.models import Organization
from webapp.payments.recurring import services as recurring
from webapp.payments.recurring.models import RecurringSupport, SupportInterval, SupportState
from webapp.membership.models import Admission, CashDues, MemberState, MembershipClass, OrgMember

M = MemberState
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class MembershipRefused(DomainError):
    """The membership step cannot be taken as asked; the message says why."""


# -- classes ---------------------------------------------------------------------------------
def classes_of(org: Organization) -> list[MembershipClass]:
    return list(db.session.scalars(select(MembershipClass).where(MembershipClass.organization_id == org.id)
                                   .order_by(MembershipClass.name)))


def _checked(org: Organization, name: str, dues: Money | None, interval: SupportInterval | None,
             keep_id: int | None = None) -> str:
    """The class's name, stripped, once name and dues are valid; `keep_id` is the class being edited."""
    name = (name or "").strip()
    if not name:
        raise MembershipRefused(_("Give the class a name."))
    same = select(MembershipClass.id).where(MembershipClass.organization_id == org.id, MembershipClass.name == name)
    if keep_id is not None:
        same = same.where(MembershipClass.id != keep_id)
    if db.session.scalar(same):
        raise MembershipRefused(_("A class of that name already exists."))
    if dues is not None:
        recurring.check_amount(dues)
        if interval is None:
            raise MembershipRefused(_("Say whether the dues are monthly or yearly."))
    return name[:80]


def create_class(org: Organization, actor: User, name: str, dues: Money | None, interval: SupportInterval | None,
                 admission: Admission, currency: str) -> MembershipClass:
    organizations.require_editor(actor, org)
    name = _checked(org, name, dues, interval)
    cls = MembershipClass(organization_id=org.id, name=name, dues_amount=dues.amount if dues else None,
                          currency=dues.currency if dues else currency,
                          dues_interval=interval if dues else None, admission=admission)
    db.session.add(cls)
    db.session.flush()
    return cls


def edit_class(cls: MembershipClass, actor: User, name: str, dues: Money | None, interval: SupportInterval | None,
               admission: Admission) -> None:
    """New name, dues or admission, for those who join from now on: dues already being paid keep their amount
    (they are a recurring gift the member started), requests waiting keep the admission they were made under."""
    organizations.require_editor(actor, cls.organization_id)
    cls.name = _checked(cls.organization, name, dues, interval, keep_id=cls.id)
    cls.dues_amount = dues.amount if dues else None
    cls.currency = dues.currency if dues else cls.currency
    cls.dues_interval = interval if dues else None
    cls.admission = admission
    db.session.flush()


def set_open(cls: MembershipClass, actor: User, open_to_new: bool) -> None:
    """Closed, a class takes no new member (its members stay); reopened, it takes them again."""
    organizations.require_editor(actor, cls.organization_id)
    cls.open_to_new = open_to_new
    db.session.flush()


def lapse_ended(today: date | None = None) -> int:
    """Active memberships past their end date whose dues are not being renewed (paid in cash, or their gift
    paused, cancelled or waiting for the member) lapse; paying again makes them active. Returns how many."""
    today = today or utcnow().date()
    renewing = select(RecurringSupport.id).where(RecurringSupport.id == OrgMember.support_id,
                                                 RecurringSupport.state == SupportState.ACTIVE).exists()
    lapsed = 0
    for member in db.session.scalars(select(OrgMember).where(
            OrgMember.state == M.ACTIVE, OrgMember.ends_on.is_not(None), OrgMember.ends_on < today, ~renewing)
            .with_for_update(skip_locked=True)):
        member.state = M.LAPSED
        lapsed += 1
    db.session.flush()
    return lapsed


# -- a person joining ------------------------------------------------------------------------
def membership_of(user: User, org_id: int) -> OrgMember | None:
    return db.session.scalar(select(OrgMember).where(OrgMember.organization_id == org_id,
                                                     OrgMember.user_id == user.id))


def memberships_of(user: User) -> list[OrgMember]:
    return list(db.session.scalars(select(OrgMember).where(OrgMember.user_id == user.id)
                                   .order_by(OrgMember.requested_at.desc())))


def join(user: User, cls: MembershipClass) -> OrgMember:
    """One membership per person and organization: a former member's row is reused (its history kept)."""
    if not cls.open_to_new:
        raise MembershipRefused(_("This class takes no new members."))
    member = membership_of(user, cls.organization_id)
    if member is not None and member.state in (M.ACTIVE, M.PENDING):
        raise MembershipRefused(_("You are already a member of this organization, or your request is waiting."))
    if member is None:
        member = OrgMember(organization_id=cls.organization_id, user_id=user.id, class_id=cls.id)
        db.session.add(member)
    member.class_id, member.state, member.requested_at = cls.id, M.PENDING, utcnow()
    member.resigned_at = member.decided_by_id = None
    member.support_id = None
    if cls.admission == Admission.OPEN and cls.dues is None:
        _activate(member, None)
    db.session.flush()
    return member


def needs_dues(member: OrgMember) -> bool:
    """Admitted (open class, or approved) and the dues are not yet being paid."""
    cls = member.membership_class
    admitted = cls.admission == Admission.OPEN or member.decided_by_id is not None
    return member.state == M.PENDING and cls.dues is not None and admitted and member.support_id is None


def start_dues(member: OrgMember, user: User, timezone: str, locale: str) -> RecurringSupport:
    if member.user_id != user.id:
        raise PermissionDenied(_("This membership is not yours."))
    if not needs_dues(member):
        raise MembershipRefused(_("There are no dues to pay now."))
    cls = member.membership_class
    support = recurring.start(user, member.organization, cls.dues, cls.dues_interval, timezone, locale)
    member.support_id = support.id
    db.session.flush()
    return support


def support_changed(support: RecurringSupport, what: str) -> None:
    """Listener of payments.recurring: dues paid keep the membership active; a paused or cancelled one lapses."""
    member = db.session.scalar(select(OrgMember).where(OrgMember.support_id == support.id))
    if member is None or member.state in (M.RESIGNED, M.REFUSED):
        return
    if what == "paid":
        _activate(member, support.next_charge_on - timedelta(days=1))
    elif what in ("paused", "cancelled") and member.state == M.ACTIVE:
        member.state = M.LAPSED
    db.session.flush()


def _activate(member: OrgMember, until: date | None) -> None:
    member.state = M.ACTIVE
    member.starts_on = member.starts_on or utcnow().date()
    if until is not None:
        member.ends_on = max(member.ends_on or until, until)


def resign(member: OrgMember, user: User) -> None:
    """Of one's own will, at once: the dues stop too."""
    if member.user_id != user.id:
        raise PermissionDenied(_("This membership is not yours."))
    if member.state == M.RESIGNED:
        return
    if member.support_id:
        support = db.session.get(RecurringSupport, member.support_id)
        recurring.cancel(support, user)
    member.state, member.resigned_at = M.RESIGNED, utcnow()
    member.ends_on = min(member.ends_on or utcnow().date(), utcnow().date())
    db.session.flush()


# -- the organization's editors --------------------------------------------------------------
#: how a member gets vote links and reminders
CHANNELS = ("email", "sms", "both")


def set_contact(member: OrgMember, actor: User, phone: str | None, channel: str, consent: bool) -> None:
    """The member (or an editor of their organization, who notes the member's consent) sets the mobile number
    vote links and reminders go to by SMS, and the channel: email, SMS or both. An empty number goes back to
    email only and forgets the consent."""
    if actor.id != member.user_id:
        organizations.require_editor(actor, member.organization_id)
    if channel not in CHANNELS:
        raise DomainError(_("Choose email, SMS or both."))
    try:
        number = phones.normalize(phone)
    except ValueError:
        raise DomainError(_("Give the number in international form, starting with + and the country code "
                            "(+229 97 12 34 56).")) from None
    if number is None:
        if channel != "email":
            raise DomainError(_("Give a mobile number to get messages by SMS."))
        member.phone = member.phone_consent_at = member.phone_entered_by_id = None
        member.channel = "email"
        db.session.flush()
        return
    if not consent:
        raise DomainError(_("Messages go to this number only with the member's consent: tick the box."))
    if number != member.phone or member.phone_consent_at is None:
        member.phone, member.phone_consent_at, member.phone_entered_by_id = number, utcnow(), actor.id
    member.channel = channel
    db.session.flush()


def members_of(org: Organization, actor: User) -> list[OrgMember]:
    organizations.require_editor(actor, org)
    return list(db.session.scalars(select(OrgMember).where(OrgMember.organization_id == org.id)
                                   .order_by(OrgMember.state, OrgMember.requested_at)))


def _editable(member: OrgMember, org: Organization, actor: User) -> None:
    organizations.require_editor(actor, org)
    if member.organization_id != org.id:
        raise PermissionDenied(_("This member belongs to another organization."))


def approve(member: OrgMember, org: Organization, actor: User) -> None:
    _editable(member, org, actor)
    if member.state != M.PENDING or member.decided_by_id is not None:
        raise MembershipRefused(_("This request is not waiting for a decision."))
    member.decided_by_id = actor.id
    if member.membership_class.dues is None:
        _activate(member, None)
    user = db.session.get(User, member.user_id)
    from flask import url_for

    queue_email("membership_decided", user.email, user.locale, org=org, approved=True,
                dues=member.membership_class.dues is not None,
                link=url_for("membership.mine", _external=True))
    db.session.flush()


def refuse(member: OrgMember, org: Organization, actor: User) -> None:
    _editable(member, org, actor)
    if member.state != M.PENDING:
        raise MembershipRefused(_("This request is not waiting for a decision."))
    member.state, member.decided_by_id = M.REFUSED, actor.id
    user = db.session.get(User, member.user_id)
    from flask import url_for

    queue_email("membership_decided", user.email, user.locale, org=org, approved=False, dues=False,
                link=url_for("membership.mine", _external=True))
    db.session.flush()


def record_cash(member: OrgMember, org: Organization, actor: User, amount: Money, paid_on: date,
                covers_until: date) -> CashDues:
    """Unverified money until a second editor confirms it."""
    _editable(member, org, actor)
    if amount.amount <= 0:
        raise MembershipRefused(_("The amount must be greater than zero."))
    if covers_until < paid_on:
        raise MembershipRefused(_("The dues must cover a period after the day they were paid."))
    if paid_on > utcnow().date():
        raise MembershipRefused(_("The day paid cannot be in the future."))
    dues = CashDues(member_id=member.id, amount=amount.amount, currency=amount.currency, paid_on=paid_on,
                    covers_until=covers_until, recorded_by_id=actor.id)
    db.session.add(dues)
    db.session.flush()
    return dues


def confirm_cash(dues: CashDues, org: Organization, actor: User) -> None:
    member = db.session.get(OrgMember, dues.member_id)
    _editable(member, org, actor)
    if dues.confirmed_at is not None:
        return
    if dues.recorded_by_id == actor.id:
        raise MembershipRefused(_("Another editor must confirm the cash you recorded."))
    dues.confirmed_by_id, dues.confirmed_at = actor.id, utcnow()
    ledger.book(key=f"cash_dues:{dues.id}", kind="cash_dues", debit=f"external:cash:organization:{org.id}",
                credit=ledger.organization_account(org.id), money=dues.money, cause=f"cash_dues:{dues.id}",
                memo="Dues paid in cash")
    if member.state in (M.PENDING, M.LAPSED, M.ACTIVE):
        _activate(member, dues.covers_until)
    db.session.flush()


def cash_of(org: Organization) -> list[CashDues]:
    return list(db.session.scalars(select(CashDues).join(OrgMember, OrgMember.id == CashDues.member_id)
                                   .where(OrgMember.organization_id == org.id)
                                   .order_by(CashDues.recorded_at.desc()).limit(200)))


def neutralize(value: object) -> object:
    """A cell a spreadsheet would run as a formula starts with ' instead (CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def members_csv(org: Organization, actor: User) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["name", "email", "class", "state", "starts_on", "ends_on"])
    for m in members_of(org, actor):
        writer.writerow([neutralize(v) for v in (m.user.name, m.user.email, m.membership_class.name, m.state.value,
                                                 m.starts_on.isoformat() if m.starts_on else "",
                                                 m.ends_on.isoformat() if m.ends_on else "")])
    return out.getvalue()


def message_active(org: Organization, actor: User, subject: str, body: str) -> int:
    """One email to each active member, in their own language's frame; returns how many."""
    organizations.require_editor(actor, org)
    subject, body = (subject or "").strip(), (body or "").strip()
    if not subject or not body:
        raise MembershipRefused(_("Write a subject and a message."))
    count = 0
    for member in db.session.scalars(select(OrgMember).where(OrgMember.organization_id == org.id,
                                                             OrgMember.state == M.ACTIVE)):
        user = db.session.get(User, member.user_id)
        queue_email("membership_message", user.email, user.locale, org=org, subject=subject[:150], body=body[:5000])
        count += 1
    return count
