"""Routes of memberships: the classes and joining, "My memberships", and the editors' member list."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from webapp.errorpages import refused as _refused
from webapp.errors import DomainError, PermissionDenied, ProviderError
from webapp.extensions import db
from webapp.i18n import locale_code
from webapp.membership import services
from webapp.membership.forms import CashForm, ClassForm, ContactForm, MessageForm
from webapp.membership.models import Admission, CashDues, MemberState, MembershipClass, OrgMember
from webapp.organizations import services as organizations
from webapp.organizations.models import Organization
from webapp.payments.recurring import services as recurring
from webapp.payments.recurring.models import SupportInterval
from webapp.payments.recurring.views import current_user_timezone

blueprint = Blueprint("membership", __name__)


def _organization(slug: str) -> Organization:
    org = db.session.scalar(select(Organization).where(Organization.slug == slug))
    if org is None:
        abort(404)
    return org


def _editor(org: Organization) -> None:
    if not organizations.can_edit(current_user, org):
        abort(403)  # only editors see members


def _member_of(org: Organization, member_id: int) -> OrgMember:
    member = db.session.get(OrgMember, member_id)
    if member is None or member.organization_id != org.id:
        abort(404)
    return member



@blueprint.route("/organizations/<slug>/membership")
def classes(slug: str):
    org = _organization(slug)
    mine = services.membership_of(current_user, org.id) if current_user.is_authenticated else None
    return render_template("membership/classes.html", org=org, classes=services.classes_of(org), mine=mine,
                           M=MemberState)


@blueprint.route("/organizations/<slug>/membership/<int:class_id>/join", methods=["POST"])
@login_required
def join(slug: str, class_id: int):
    org = _organization(slug)
    cls = db.session.get(MembershipClass, class_id)
    if cls is None or cls.organization_id != org.id:
        abort(404)
    try:
        member = services.join(current_user, cls)
        if services.needs_dues(member):
            return _pay(member)
    except DomainError as exc:
        return _refused(exc)
    db.session.commit()
    if member.state == MemberState.ACTIVE:
        flash(_("Welcome: you are a member of %(name)s.", name=org.name), "success")
    else:
        flash(_("Your request is sent: an editor of %(name)s will answer it.", name=org.name), "success")
    return redirect(url_for("membership.mine"))


def _pay(member: OrgMember):
    try:
        support = services.start_dues(member, current_user, current_user_timezone(), locale_code())
        url = recurring.open_checkout(support, success_url=url_for("membership.mine", _external=True),
                                      cancel_url=url_for("membership.mine", _external=True))
    except ProviderError as exc:
        return _refused(exc, 503 if exc.retryable else 502)
    except DomainError as exc:
        return _refused(exc)
    db.session.commit()
    return redirect(url, code=303)


@blueprint.route("/memberships/<int:member_id>/pay", methods=["POST"])
@login_required
def pay(member_id: int):
    member = db.session.get(OrgMember, member_id)
    if member is None:
        abort(404)
    if member.user_id != current_user.id:
        abort(403)
    return _pay(member)


@blueprint.route("/memberships/mine")
@login_required
def mine():
    members = services.memberships_of(current_user)
    return render_template("membership/mine.html", members=members, M=MemberState, needs_dues=services.needs_dues,
                           contact_form=ContactForm(formdata=None))


@blueprint.route("/memberships/<int:member_id>/resign", methods=["POST"])
@login_required
def resign(member_id: int):
    member = db.session.get(OrgMember, member_id)
    if member is None:
        abort(404)
    if member.user_id != current_user.id:
        abort(403)
    try:
        services.resign(member, current_user)
    except DomainError as exc:
        return _refused(exc)
    db.session.commit()
    flash(_("You have resigned from %(name)s.", name=member.organization.name), "success")
    return redirect(url_for("membership.mine"))


def _set_contact(member: OrgMember, back: str):
    """The member's own number and channel, or an editor's entry of them; a bad one is a 400 saying why."""
    form = ContactForm()
    if not form.validate_on_submit():
        return render_template("errors.html", code=400,
                               message="; ".join(e for errors in form.errors.values() for e in errors)), 400
    try:
        services.set_contact(member, current_user, form.phone.data, form.channel.data, form.consent.data)
    except PermissionDenied:
        abort(403)
    except DomainError as exc:
        db.session.rollback()
        return render_template("errors.html", code=400, message=str(exc)), 400
    db.session.commit()
    flash(_("Saved: vote links and reminders go by %(channel)s.", channel=dict(form.channel.choices)[member.channel]),
          "success")
    return redirect(back)


@blueprint.route("/memberships/<int:member_id>/contact", methods=["POST"])
@login_required
def contact(member_id: int):
    member = db.session.get(OrgMember, member_id)
    if member is None:
        abort(404)
    if member.user_id != current_user.id:
        abort(403)  # the member's own; editors use the member list
    return _set_contact(member, url_for("membership.mine"))


# -- editors ---------------------------------------------------------------------------------
def _manage_page(org: Organization, status: int = 200, **forms):
    return render_template("membership/manage.html", org=org, members=services.members_of(org, current_user),
                           classes=services.classes_of(org), cash=services.cash_of(org), M=MemberState,
                           class_form=forms.get("class_form") or ClassForm(formdata=None),
                           cash_form=forms.get("cash_form") or CashForm(formdata=None),
                           message_form=forms.get("message_form") or MessageForm(formdata=None),
                           contact_form=ContactForm(formdata=None)), status


@blueprint.route("/manage/organizations/<slug>/members")
@login_required
def manage(slug: str):
    org = _organization(slug)
    _editor(org)
    return _manage_page(org)


@blueprint.route("/manage/organizations/<slug>/classes", methods=["POST"])
@login_required
def create_class(slug: str):
    org = _organization(slug)
    _editor(org)
    form = ClassForm()
    if not form.validate_on_submit():
        return _manage_page(org, 400, class_form=form)
    try:
        services.create_class(org, current_user, form.name.data, form.dues.money,
                              SupportInterval(form.interval.data), Admission(form.admission.data), form.currency.data)
    except DomainError as exc:
        db.session.rollback()
        form.name.errors.append(str(exc))
        return _manage_page(org, 400, class_form=form)
    db.session.commit()
    flash(_("The class is created."), "success")
    return redirect(url_for("membership.manage", slug=org.slug))


def _editors_step(org: Organization, step, done: str | None = None, back: str | None = None):
    """Approve, refuse, confirm cash, close or reopen a class: an editor's step, refused with its reason (409)."""
    try:
        step()
    except DomainError as exc:
        return _refused(exc)
    db.session.commit()
    if done:
        flash(done, "success")
    return redirect(back or url_for("membership.manage", slug=org.slug))


@blueprint.route("/manage/organizations/<slug>/members/<int:member_id>/<any(approve, refuse):decision>",
                 methods=["POST"])
@login_required
def decide(slug: str, member_id: int, decision: str):
    org = _organization(slug)
    _editor(org)
    member = _member_of(org, member_id)
    decided = services.approve if decision == "approve" else services.refuse
    return _editors_step(org, lambda: decided(member, org, current_user))


@blueprint.route("/manage/organizations/<slug>/members/<int:member_id>/contact", methods=["POST"])
@login_required
def member_contact(slug: str, member_id: int):
    org = _organization(slug)
    _editor(org)
    return _set_contact(_member_of(org, member_id), url_for("membership.manage", slug=org.slug))


@blueprint.route("/manage/organizations/<slug>/members/<int:member_id>/cash", methods=["POST"])
@login_required
def record_cash(slug: str, member_id: int):
    org = _organization(slug)
    _editor(org)
    member = _member_of(org, member_id)
    form = CashForm()
    if not form.validate_on_submit():
        return _manage_page(org, 400, cash_form=form)
    try:
        services.record_cash(member, org, current_user, form.amount.money, form.paid_on.data, form.covers_until.data)
    except DomainError as exc:
        db.session.rollback()
        form.amount.errors.append(str(exc))
        return _manage_page(org, 400, cash_form=form)
    db.session.commit()
    flash(_("Recorded. Another editor must confirm it: until then it is unverified money."), "success")
    return redirect(url_for("membership.manage", slug=org.slug))


@blueprint.route("/manage/organizations/<slug>/cash/<int:dues_id>/confirm", methods=["POST"])
@login_required
def confirm_cash(slug: str, dues_id: int):
    org = _organization(slug)
    _editor(org)
    dues = db.session.get(CashDues, dues_id)
    if dues is None or dues.member.organization_id != org.id:
        abort(404)
    return _editors_step(org, lambda: services.confirm_cash(dues, org, current_user),
                         _("Confirmed: the dues are booked."))


def _class_of(org: Organization, class_id: int) -> MembershipClass:
    cls = db.session.get(MembershipClass, class_id)
    if cls is None or cls.organization_id != org.id:
        abort(404)
    return cls


@blueprint.route("/manage/organizations/<slug>/classes/<int:class_id>", methods=["GET", "POST"])
@login_required
def edit_class(slug: str, class_id: int):
    org = _organization(slug)
    _editor(org)
    cls = _class_of(org, class_id)
    form = ClassForm()
    if request.method == "GET":
        form = ClassForm(formdata=None, name=cls.name, currency=cls.currency,
                         interval=(cls.dues_interval or SupportInterval.YEARLY).value, admission=cls.admission.value)
        form.dues.data = cls.dues
    status = 200
    if form.validate_on_submit():
        try:
            services.edit_class(cls, current_user, form.name.data, form.dues.money,
                                SupportInterval(form.interval.data), Admission(form.admission.data))
        except DomainError as exc:
            db.session.rollback()
            form.name.errors.append(str(exc))
            status = 400
        else:
            db.session.commit()
            flash(_("The class is saved. Dues already being paid keep their amount."), "success")
            return redirect(url_for("membership.manage", slug=org.slug))
    elif request.method == "POST":
        status = 400
    return render_template("membership/class.html", org=org, cls=cls, form=form), status


@blueprint.route("/manage/organizations/<slug>/classes/<int:class_id>/<any(close, reopen):action>",
                 methods=["POST"])
@login_required
def open_class(slug: str, class_id: int, action: str):
    org = _organization(slug)
    _editor(org)
    cls = _class_of(org, class_id)
    done = (_("“%(name)s” takes no new members; its members stay.", name=cls.name) if action == "close"
            else _("“%(name)s” takes new members again.", name=cls.name))
    return _editors_step(org, lambda: services.set_open(cls, current_user, action == "reopen"), done)


@blueprint.route("/manage/organizations/<slug>/members.csv")
@login_required
def members_csv(slug: str):
    org = _organization(slug)
    _editor(org)
    return Response(services.members_csv(org, current_user), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="members-{org.slug}.csv"'})


@blueprint.route("/manage/organizations/<slug>/members/message", methods=["POST"])
@login_required
def message(slug: str):
    org = _organization(slug)
    _editor(org)
    form = MessageForm()
    if not form.validate_on_submit():
        return _manage_page(org, 400, message_form=form)
    try:
        count = services.message_active(org, current_user, form.subject.data, form.body.data)
    except DomainError as exc:
        return _refused(exc, 400)
    db.session.commit()
    flash(_("Sent to %(n)d active members.", n=count), "success")
    return redirect(url_for("membership.manage", slug=org.slug))


@blueprint.errorhandler(PermissionDenied)
def _denied(exc):
    return render_template("errors.html", code=403, message=str(exc)), 403
