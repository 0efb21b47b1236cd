"""The payments domain's part: pledges, saved payment methods, match funds managed, refunds asked.

It lives here, not in webapp/payments, while that domain is being reshaped; it reads only
webapp.payments.models and can move there (registering itself the same way) afterwards.
Card data is never held by Harambee, so none is exported: only the processor's references.
"""
from __future__ import annotations

from sqlalchemy import select

from webapp.accounts.models import User
from webapp.campaigns.models import Campaign
from webapp.extensions import db
from webapp.money import Money
from webapp.payments.matching.models import MatchFund
from webapp.payments.models import Pledge, ProcessorCustomer, Refund
from webapp.privacy.registry import exporter, row


@exporter("payments")
def export_payments(user: User) -> dict[str, list]:
    pledges = db.session.execute(
        select(Pledge, Campaign).join(Campaign, Campaign.id == Pledge.campaign_id)
        .where(Pledge.user_id == user.id).order_by(Pledge.id)).all()
    methods = [row(pledge_reference=p.reference, processor=p.provider, customer_reference=p.customer_id,
                   payment_method_reference=p.payment_method_id)
               for p, _c in pledges if p.payment_method_id]
    funds = db.session.scalars(select(MatchFund).where(MatchFund.manager_id == user.id).order_by(MatchFund.id))
    refunds = db.session.execute(
        select(Refund, Pledge).join(Pledge, Pledge.id == Refund.pledge_id)
        .where(Refund.requested_by_id == user.id).order_by(Refund.id))
    return {
        "pledges": [
            row(reference=p.reference, campaign=c.title, campaign_slug=c.slug, status=p.status,
                amount=p.money, currency=p.currency, charged_amount=p.charge, charged_currency=p.charge_currency,
                exchange_rate=p.fx_rate, exchange_rate_date=p.fx_date, tip=Money(p.tip_amount, p.currency),
                refunded=p.refunded, email=p.email, display_name=p.display_name, anonymous=p.anonymous,
                message=p.message, language=p.locale, created_at=p.created_at, confirmed_at=p.confirmed_at,
                cancelled_at=p.cancelled_at)
            for p, c in pledges],
        "saved_payment_methods": methods,
        "processor_customers": [
            row(processor=c.provider, customer_reference=c.customer_id, created_at=c.created_at)
            for c in db.session.scalars(select(ProcessorCustomer).where(ProcessorCustomer.user_id == user.id)
                                        .order_by(ProcessorCustomer.id))],
        "match_funds_managed": [
            row(name=f.name, institution=f.institution, budget=f.budget_money, currency=f.currency,
                starts_on=f.starts_on, ends_on=f.ends_on, created_at=f.created_at) for f in funds],
        "refunds_requested": [
            row(pledge_reference=p.reference, amount=r.money, currency=p.currency, reason=r.reason,
                status=r.status, created_at=r.created_at) for r, p in refunds],
    }
