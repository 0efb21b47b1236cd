"""Routes for creating and editing organizations, and inviting their editors."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from webapp.errors import DomainError, PermissionDenied, TokenInvalid
from webapp.extensions import db
from webapp.organizations import services
from webapp.organizations.forms import InviteForm, OrganizationForm
from webapp.organizations.models import LegalForm, Membership, Organization
from webapp.storage import get_storage
from webapp.storage.images import reencode_image

blueprint = Blueprint("organizations", __name__, url_prefix="/organizations")


def _get(slug: str) -> Organization:
    org = db.session.scalar(select(Organization).where(Organization.slug == slug))
    if org is None:
        abort(404)
    return org


def _details(form: OrganizationForm) -> services.OrganizationDetails:
    return services.OrganizationDetails(
        name=form.name.data, legal_form=LegalForm(form.legal_form.data), country=form.country.data,
        region=form.region.data or None, description=form.description.data, website=form.website.data or None)


def _uploaded_logo(form: OrganizationForm) -> bytes | None:
    upload = form.logo.data
    if not upload or not getattr(upload, "filename", ""):
        return None
    try:
        return reencode_image(upload.read(), max_bytes=current_app.config["MAX_IMAGE_BYTES"], max_side=600)
    except DomainError as exc:
        form.logo.errors.append(str(exc))
        raise


@blueprint.route("/new", methods=["GET", "POST"])
@login_required
def create():
    form = OrganizationForm()
    if form.validate_on_submit():
        try:
            logo = _uploaded_logo(form)
            org = services.create_organization(current_user, _details(form))
            if logo:
                org.logo_key = get_storage().save(logo, "logos", "jpg")
        except DomainError as exc:
            if not form.logo.errors:
                form.country.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Your organization is created. Now write its first campaign."), "success")
            return redirect(url_for("campaigns.organization", slug=org.slug))
    return render_template("organizations/form.html", form=form, org=None), 400 if form.errors else 200


@blueprint.route("/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str):
    org = _get(slug)
    if not services.can_edit(current_user, org):
        abort(403)
    form = OrganizationForm(obj=org)
    if form.validate_on_submit():
        try:
            logo = _uploaded_logo(form)
            services.update_organization(org, current_user, _details(form))
            if logo:
                old = services.set_logo(org, current_user, get_storage().save(logo, "logos", "jpg"))
                if old:
                    get_storage().delete(old)
        except DomainError as exc:
            if not form.logo.errors:
                form.country.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("campaigns.organization", slug=org.slug))
    return render_template("organizations/form.html", form=form, org=org), 400 if form.errors else 200


@blueprint.route("/<slug>/members", methods=["GET", "POST"])
@login_required
def members(slug: str):
    org = _get(slug)
    if not services.can_edit(current_user, org):
        abort(403)
    form = InviteForm()
    status = 200
    if request.method == "POST":
        if services.role_of(current_user, org) != services.OrgRole.OWNER:
            abort(403)
        if form.validate_on_submit():
            try:
                services.invite_editor(org, current_user, form.email.data)
            except DomainError as exc:
                form.email.errors.append(str(exc))
                status = 400
            else:
                db.session.commit()
                flash(_("Invitation sent to %(email)s.", email=form.email.data), "success")
                return redirect(url_for("organizations.members", slug=org.slug))
        else:
            status = 400
    return render_template("organizations/members.html", org=org, form=form,
                           members=services.members_of(org), invitations=services.pending_invitations(org),
                           is_owner=services.role_of(current_user, org) == services.OrgRole.OWNER), status


@blueprint.route("/<slug>/members/<int:membership_id>/remove", methods=["POST"])
@login_required
def remove_member(slug: str, membership_id: int):
    org = _get(slug)
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.organization_id != org.id:
        abort(404)
    try:
        services.remove_member(org, current_user, membership)
    except PermissionDenied:
        abort(403)
    except DomainError as exc:
        flash(str(exc), "error")
        return redirect(url_for("organizations.members", slug=org.slug))
    db.session.commit()
    flash(_("Removed."), "info")
    return redirect(url_for("organizations.members", slug=org.slug))


@blueprint.route("/invitations/<token>", methods=["GET", "POST"])
@login_required
def accept_invitation(token: str):
    if request.method == "GET":
        return render_template("organizations/accept.html", token=token)
    try:
        org = services.accept_invitation(token, current_user)
    except (TokenInvalid, PermissionDenied) as exc:
        return render_template("errors.html", code=400, message=str(exc)), 400
    db.session.commit()
    flash(_("You are now an editor of %(name)s.", name=org.name), "success")
    return redirect(url_for("campaigns.organization", slug=org.slug))
