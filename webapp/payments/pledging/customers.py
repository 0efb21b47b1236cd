"""Members' customers at the processor: one per member and provider, created once, reused by every pledge and saved method."""
from __future__ import annotations

from sqlalchemy import select

from webapp.accounts.models import User
from webapp.extensions import db
from webapp.payments.models import ProcessorCustomer
from webapp.payments.providers import get_provider


def customer_for(user: User) -> str:
    """The member's customer id, created at the processor the first time (several workers at once included).

    Workers racing for a new member send the same idempotency key, so the processor answers them
    all with one customer, and only the first row is kept. The key carries the member's creation
    time, so a member id reused by a restored database never gets an earlier member's customer.
    """
    provider = get_provider()
    query = select(ProcessorCustomer.customer_id).where(ProcessorCustomer.user_id == user.id,
                                                        ProcessorCustomer.provider == provider.name)
    found = db.session.scalar(query)
    if found:
        return found
    key = f"member-{user.id}-{user.created_at:%Y%m%d%H%M%S%f}-customer"
    customer_id = provider.create_customer(user.email, {"member_id": str(user.id)}, key)
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    db.session.execute(insert(ProcessorCustomer).values(user_id=user.id, provider=provider.name,
                                                        customer_id=customer_id).on_conflict_do_nothing())
    return db.session.scalar(query)
