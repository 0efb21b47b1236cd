"""The mutual-aid domain's part: offers, requests, matches, calls received, commitments, preferences, notices."""
from __future__ import annotations

from sqlalchemy import or_, select

from webapp.accounts.models import User
from webapp.extensions import db
from webapp.money import Money
from webapp.mutual_aid.models import (
    ChannelPreference,
    CommitmentConfirmation,
    DisasterEvent,
    HelpRequest,
    Match,
    Notification,
    Offer,
    Report,
    SolidarityCall,
    StandingCommitment,
)
from webapp.privacy.registry import exporter, row


@exporter("mutual_aid")
def export_mutual_aid(user: User) -> dict[str, list]:
    offers = db.session.scalars(select(Offer).where(Offer.owner_id == user.id).order_by(Offer.id))
    requests = db.session.scalars(select(HelpRequest).where(HelpRequest.requester_id == user.id)
                                  .order_by(HelpRequest.id))
    matches = db.session.execute(
        select(Match, Offer, HelpRequest).join(Offer, Offer.id == Match.offer_id)
        .join(HelpRequest, HelpRequest.id == Match.request_id)
        .where(or_(Offer.owner_id == user.id, HelpRequest.requester_id == user.id)).order_by(Match.id))
    calls = db.session.execute(
        select(SolidarityCall, DisasterEvent).join(DisasterEvent, DisasterEvent.id == SolidarityCall.event_id)
        .where(SolidarityCall.user_id == user.id).order_by(SolidarityCall.id))
    commitments = db.session.scalars(select(StandingCommitment).where(StandingCommitment.user_id == user.id)
                                     .order_by(StandingCommitment.id)).all()
    confirmations = db.session.scalars(
        select(CommitmentConfirmation).where(CommitmentConfirmation.commitment_id.in_([c.id for c in commitments]))
        .order_by(CommitmentConfirmation.id)) if commitments else []
    preference = db.session.scalar(select(ChannelPreference).where(ChannelPreference.user_id == user.id))
    notices = db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                                 .order_by(Notification.id))
    reports = db.session.scalars(select(Report).where(Report.reporter_id == user.id).order_by(Report.id))
    return {
        "aid_offers": [
            row(id=o.id, event_id=o.event_id, category=o.category, title=o.title, description=o.description,
                capacity=o.capacity, remote=o.remote, available_from=o.available_from,
                available_until=o.available_until, latitude=o.latitude, longitude=o.longitude,
                region_code=o.region_code, contact_phone=o.contact_phone, contact_note=o.contact_note,
                state=o.state, created_at=o.created_at) for o in offers],
        "aid_requests": [
            row(id=r.id, event_id=r.event_id, category=r.category, urgency=r.urgency,
                household_size=r.household_size, description=r.description, latitude=r.latitude,
                longitude=r.longitude, region_code=r.region_code, address=r.address,
                contact_phone=r.contact_phone, state=r.state, created_at=r.created_at) for r in requests],
        "aid_matches": [
            row(id=m.id, side="helper" if o.owner_id == user.id else "requester", offer_id=o.id, request_id=r.id,
                state=m.state, created_at=m.created_at, matched_at=m.matched_at, ended_at=m.ended_at)
            for m, o, r in matches],
        "solidarity_calls": [
            row(event=e.name, audience=c.audience, state=c.state, created_at=c.created_at, sent_at=c.sent_at,
                opened_at=c.opened_at, opened_via=c.opened_via) for c, e in calls],
        "standing_commitments": [
            row(id=c.id, region_code=c.region_code, max_amount=c.max, yearly_cap=c.yearly_cap,
                currency=c.currency, state=c.state, payment_method_saved=bool(c.payment_method_id),
                created_at=c.created_at, cancelled_at=c.cancelled_at) for c in commitments],
        "commitment_confirmations": [
            row(commitment_id=c.commitment_id, event_id=c.event_id, amount=Money(c.amount, c.currency), currency=c.currency,
                charge_status=c.charge_status, created_at=c.created_at) for c in confirmations],
        "saved_payment_methods": [
            row(commitment_id=c.id, customer_reference=c.customer_id, payment_method_reference=c.payment_method_id)
            for c in commitments if c.payment_method_id],
        "notification_preferences": [
            row(email_opted_out_at=preference.email_opted_out_at, sms_opted_out_at=preference.sms_opted_out_at,
                sms_number=preference.sms_number, updated_at=preference.updated_at)] if preference else [],
        "notifications": [
            row(kind=n.kind, event_id=n.event_id, created_at=n.created_at, read_at=n.read_at) for n in notices],
        "aid_reports_made": [
            row(offer_id=r.offer_id, request_id=r.request_id, reason=r.reason, state=r.state,
                created_at=r.created_at) for r in reports],
    }
