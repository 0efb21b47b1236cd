"""This installation's idempotency-key prefix: random, stored once in the database, read by the Stripe provider.

Two environments sharing one Stripe account (staging and production, two developers) number their
pledges from 1 alike; without a prefix of their own they would send each other's keys, and Stripe
would answer one installation's charge with the other's PaymentIntent. The migration creates the
row; a database built without migrations (the tests) creates it on first use. Keys of pledges also
carry the pledge's random reference, so a database restored from an old dump (same prefix, reused
ids) never replays a key Stripe saw for another pledge either.
"""
from __future__ import annotations

import secrets

from flask import g, has_app_context
from sqlalchemy import select

from webapp.extensions import db
from webapp.payments.models import Installation


def new_prefix() -> str:
    return "h" + secrets.token_hex(8)


def key_prefix() -> str:
    """The stored prefix, read once per app context (a task, a request, a collection run: it never changes)."""
    if not has_app_context():
        return _stored_prefix()
    cached = g.get("harambee_key_prefix")
    if cached is None:
        cached = db.session.scalar(select(Installation.key_prefix).where(Installation.id == 1))
        if cached is None:  # created in this transaction, which may yet roll back: not kept
            return _stored_prefix()
        g.harambee_key_prefix = cached
    return cached


def _stored_prefix() -> str:
    """The stored prefix; created (once, even by several workers at once) when the row is missing."""
    prefix = db.session.scalar(select(Installation.key_prefix).where(Installation.id == 1))
    if prefix is not None:
        return prefix
    # Insert-if-absent on the fixed id: a concurrent creator's row wins and both read it back.
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    db.session.execute(insert(Installation).values(id=1, key_prefix=new_prefix()).on_conflict_do_nothing())
    return db.session.scalar(select(Installation.key_prefix).where(Installation.id == 1))
