"""Standing commitments: a member's list and form, and the one-button confirmation on a call."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp.errors import DomainError
from webapp.extensions import db
from webapp.i18n import locale_code
from webapp.mutual_aid.forms import CommitmentForm
from webapp.mutual_aid.models import StandingCommitment
from webapp.mutual_aid.services import calls, commitments
from webapp.mutual_aid.views.base import blueprint, get_or_404, refuse
from webapp.payments.models import PledgeStatus
from webapp.public_url import public_url


@blueprint.route("/me/commitments", methods=["GET", "POST"])
@login_required
def my_commitments():
    form = CommitmentForm()
    if request.method == "GET":
        form.country.data = (current_user.origin_regions[0].region_code[:2] if current_user.origin_regions
                             else current_user.residence_country)
        form.region._country = form.country.data
        form.currency.data = current_user.display_currency or "EUR"
    status = 200
    if form.validate_on_submit():
        try:
            commitments.create_commitment(current_user, form.region.data, form.max_amount.money,
                                          form.yearly_cap.money)
        except DomainError as exc:
            db.session.rollback()
            form.max_amount.errors = list(form.max_amount.errors) + [str(exc)]
            status = 400
        else:
            db.session.commit()
            flash(_("Thank you. When a disaster is declared over this region, we will call you."), "success")
            return redirect(url_for("mutual_aid.my_commitments"))
    elif form.errors:
        status = 400
    return render_template("mutual_aid/commitments.html", form=form,
                           commitments=commitments.commitments_of(current_user)), status


@blueprint.route("/me/commitments/<int:commitment_id>/cancel", methods=["POST"])
@login_required
def cancel_commitment(commitment_id: int):
    commitment = get_or_404(StandingCommitment, commitment_id)
    if commitment.user_id != current_user.id:
        abort(404)
    commitments.cancel_commitment(commitment, current_user)
    db.session.commit()
    flash(_("Your commitment is cancelled."), "info")
    return redirect(url_for("mutual_aid.my_commitments"))


@blueprint.route("/me/commitments/<int:commitment_id>/payment-method", methods=["POST"])
@login_required
def save_payment_method(commitment_id: int):
    """Save a card now, through the processor's page in setup mode, so a confirmation is one click."""
    commitment = get_or_404(StandingCommitment, commitment_id)
    if commitment.user_id != current_user.id:
        abort(404)  # another member's commitment: as if it did not exist
    back = public_url("mutual_aid.my_commitments")
    try:
        url = commitments.start_saving_method(commitment, current_user, locale_code(), back, back)
    except DomainError as exc:
        return refuse(exc)
    db.session.commit()
    return redirect(url, code=303)


@blueprint.route("/calls/<int:call_id>/confirm", methods=["POST"])
@login_required
def confirm_commitment(call_id: int):
    """The one button of a committed member's call: the pledge starts, and is charged at its checkout."""
    call = calls.call_for(call_id, current_user)
    if call is None:
        abort(404)
    try:
        pledge = commitments.confirm(call, current_user, locale_code())
    except DomainError as exc:
        return refuse(exc)
    db.session.commit()
    if pledge.status == PledgeStatus.PENDING and pledge.checkout_url:
        return redirect(pledge.checkout_url, code=303)
    return redirect(url_for("payments.receipt", reference=pledge.reference), code=303)
