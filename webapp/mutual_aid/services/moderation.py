"""Reports on posts, and what coordinators and moderators do about them: hide posts, suspend accounts."""
from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from webapp.accounts.models import Role, User
from webapp.clock import utcnow
from webapp.errors import DomainError, PermissionDenied
from webapp.extensions import db
from webapp.mutual_aid.errors import PostingTooFast
from webapp.mutual_aid.models import HelpRequest, Offer, OfferState, Report, ReportState, RequestState
from webapp.mutual_aid.settings import setting


def can_moderate(user: User | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.has_role(Role.MODERATOR, Role.COORDINATOR))


def require_moderator(user: User | None) -> None:
    if not can_moderate(user):
        raise PermissionDenied(_("Only coordinators and moderators can do this."))


def report(reporter: User, *, offer: Offer | None = None, request: HelpRequest | None = None,
           reason: str) -> Report:
    """Anyone signed in can report a post; a few dozen an hour at most."""
    if (offer is None) == (request is None):
        raise DomainError(_("Report one post at a time."))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say what is wrong with this post."))
    since = utcnow() - timedelta(hours=1)
    recent = db.session.scalar(select(func.count()).select_from(Report)
                               .where(Report.reporter_id == reporter.id, Report.created_at >= since)) or 0
    if recent >= int(setting("MUTUAL_AID_REPORTS_PER_HOUR")):
        raise PostingTooFast(_("You sent many reports in the last hour. Please wait a little."))
    item = Report(reporter_id=reporter.id, offer_id=offer.id if offer else None,
                  request_id=request.id if request else None, reason=reason[:500])
    db.session.add(item)
    db.session.flush()
    return item


def open_reports() -> list[Report]:
    return list(db.session.scalars(select(Report).where(Report.state == ReportState.OPEN)
                                   .options(joinedload(Report.offer), joinedload(Report.request),
                                            joinedload(Report.reporter))
                                   .order_by(Report.created_at).limit(200)))


def _resolve_reports(actor: User, outcome: str, *, offer_id=None, request_id=None) -> None:
    q = update(Report).where(Report.state == ReportState.OPEN)
    q = q.where(Report.offer_id == offer_id) if offer_id else q.where(Report.request_id == request_id)
    db.session.execute(q.values(state=ReportState.RESOLVED, resolved_at=utcnow(), resolved_by_id=actor.id,
                                outcome=outcome).execution_options(synchronize_session=False))


def hide_offer(offer: Offer, actor: User) -> None:
    from webapp.mutual_aid.services import matching, posts

    require_moderator(actor)
    if offer.state == OfferState.PUBLISHED:
        posts.move_offer(offer, OfferState.HIDDEN)
        offer.hidden_at, offer.hidden_by_id = utcnow(), actor.id
        matching.end_proposals_of_offer(offer)
    elif offer.state != OfferState.HIDDEN:
        raise DomainError(_("Only a published offer can be hidden."))
    _resolve_reports(actor, "hidden", offer_id=offer.id)
    db.session.flush()


def hide_request(request: HelpRequest, actor: User) -> None:
    from webapp.mutual_aid.services import matching, notices

    require_moderator(actor)
    if request.hidden_at is None:
        request.hidden_at, request.hidden_by_id = utcnow(), actor.id
        matching.end_matches_of_request(request)
        if request.state in (RequestState.OPEN, RequestState.PROPOSED, RequestState.MATCHED):
            matching.move_request(request, RequestState.CANCELLED)
        notices.tell_requester(request, "hidden")
    _resolve_reports(actor, "hidden", request_id=request.id)
    db.session.flush()


def dismiss(report_item: Report, actor: User) -> None:
    require_moderator(actor)
    if report_item.state != ReportState.OPEN:
        return
    report_item.state, report_item.outcome = ReportState.RESOLVED, "dismissed"
    report_item.resolved_at, report_item.resolved_by_id = utcnow(), actor.id
    db.session.flush()


def suspend(user: User, actor: User) -> None:
    """Suspend an account: it can no longer sign in, and its posts leave matching."""
    require_moderator(actor)
    if user.id == actor.id:
        raise DomainError(_("You cannot suspend your own account."))
    if user.has_role(Role.MODERATOR, Role.COORDINATOR) and not actor.is_admin:
        raise PermissionDenied(_("Only an administrator can suspend a moderator or a coordinator."))
    if user.suspended_at is None:
        user.suspended_at = utcnow()
    for offer in db.session.scalars(select(Offer).where(Offer.owner_id == user.id,
                                                        Offer.state == OfferState.PUBLISHED)):
        hide_offer(offer, actor)
    for request in db.session.scalars(select(HelpRequest).where(HelpRequest.requester_id == user.id,
                                                                HelpRequest.hidden_at.is_(None))):
        hide_request(request, actor)
    db.session.execute(update(Report).where(Report.state == ReportState.OPEN, Report.reporter_id != user.id,
                                            Report.offer_id.in_(select(Offer.id).where(Offer.owner_id == user.id)))
                       .values(outcome="suspended").execution_options(synchronize_session=False))
    db.session.flush()
