"""Keys no other installation sends, and one processor customer per member.

Two installations (here two databases migrated from scratch, as staging and production would be)
sharing one Stripe account must never send each other's idempotency keys; a restart keeps its
own. A member's pledges, in payment and setup mode, and the methods they save ahead of any pledge,
all belong to one Customer at the fake.
"""
from __future__ import annotations

from types import SimpleNamespace

import flask_migrate
import pytest
from sqlalchemy import func, select

from tests.conftest import make_app
from tests.factories import UserFactory
from tests.payments.money_helpers import OK_CARD, all_or_nothing, deliver, keep_it_all
from tests.payments.support import fresh, pending_pledge
from tests.payments.test_closing_concurrency import run_at_once, worker_app  # noqa: F401 (fixture)
from webapp.extensions import db
from webapp.payments.installation import key_prefix
from webapp.payments.models import Installation, PledgeStatus, ProcessorCustomer
from webapp.payments.pledging import saved_methods
from webapp.payments.pledging.customers import customer_for
from webapp.payments.pledging.services import pledge_key
from webapp.payments.providers.stripe import StripeProvider

P = PledgeStatus


# -- the installation's prefix --------------------------------------------------------------------------
def test_two_installations_send_different_keys_for_the_same_pledge_and_a_restart_keeps_its_own(
        tmp_path, fake_stripe):
    same_pledge = SimpleNamespace(id=1, reference="Zt4nq0-7sRk2")  # both databases numbered it 1
    seen = []
    for name in ("staging", "production", "staging"):  # the third start is staging's restart
        app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / name}.sqlite3")
        with app.app_context():
            flask_migrate.upgrade()  # the migration creates the row, once per database
            assert db.session.scalar(select(func.count()).select_from(Installation)) == 1
            provider = StripeProvider("sk_test_fake", fake_stripe.url, key_prefix=key_prefix)
            provider.create_customer("afi@example.org", {"member_id": "1"}, pledge_key(same_pledge, "customer"))
            seen.append((key_prefix(), provider._key(pledge_key(same_pledge, "charge-1"))))
            db.session.remove()
            db.engine.dispose()

    (staging, staging_key), (production, production_key), (restarted, restarted_key) = seen
    assert staging != production and staging_key != production_key
    assert (restarted, restarted_key) == (staging, staging_key)
    assert staging_key == f"{staging}-pledge-1-Zt4nq0-7sRk2-charge-1"
    # at the processor: production's request was not answered with staging's customer
    sent = [r.idempotency_key for r in fake_stripe.requests if r.path == "/v1/customers"]
    assert len(set(sent)) == 2 and fake_stripe.count("customer") == 2
    assert all(key.startswith((staging, production)) for key in sent)


def test_the_app_sends_every_key_behind_the_installations_prefix(fake_stripe):
    campaign = keep_it_all(goal=100_000)
    pending_pledge(campaign, 2_500)
    prefix = key_prefix()

    keys = [r.idempotency_key for r in fake_stripe.requests if r.method == "POST"]

    assert keys and all(key.startswith(f"{prefix}-pledge-") for key in keys)
    assert db.session.scalar(select(Installation.key_prefix)) == prefix


@pytest.mark.pg_only
def test_workers_creating_the_prefix_at_once_agree_on_one(worker_app):
    db.session.execute(Installation.__table__.delete())
    db.session.commit()

    def first_use(_i):
        with worker_app.app_context():
            try:
                prefix = key_prefix()
                db.session.commit()
                return prefix
            finally:
                db.session.remove()

    prefixes = run_at_once(4, first_use)

    assert len(set(prefixes)) == 1 and not isinstance(prefixes[0], Exception), prefixes
    assert db.session.scalars(select(Installation.key_prefix)).all() == prefixes[:1]


# -- one customer per member ---------------------------------------------------------------------------
def test_a_members_pledges_and_saved_methods_use_one_customer(fake_stripe):
    member = UserFactory(verified=True, email="afi@example.org")
    other = UserFactory(verified=True, email="kofi@example.org")
    db.session.commit()
    now_campaign, later_campaign = keep_it_all(goal=100_000), all_or_nothing(goal=100_000)

    paid = pending_pledge(now_campaign, 2_000, user=member)  # payment mode
    committed = pending_pledge(later_campaign, 3_000, user=member)  # setup mode
    setup = saved_methods.start_setup("commitment:77", member.email, "EUR", "Charged only when you confirm.", "en",
                                      "http://harambee.test/done", "http://harambee.test/back", user=member)
    pending_pledge(later_campaign, 1_500, user=other)
    db.session.commit()

    [customer] = [c["id"] for c in fake_stripe.of_kind("customer") if c["email"] == member.email]
    sessions = {s["id"]: s for s in fake_stripe.of_kind("checkout.session")}
    assert [sessions[s]["customer"] for s in (paid.checkout_session_id, committed.checkout_session_id, setup.id)] \
        == [customer] * 3
    assert sessions[paid.checkout_session_id]["customer_email"] is None  # Stripe takes one or the other
    deliver(fake_stripe.complete_checkout(paid.checkout_session_id, OK_CARD))
    deliver(fake_stripe.complete_checkout(committed.checkout_session_id, OK_CARD))
    fake_stripe.complete_checkout(setup.id, OK_CARD)

    assert fresh(paid).status == P.PAID and fake_stripe.objects[fresh(paid).payment_intent_id]["customer"] == customer
    assert fresh(committed).status == P.COMMITTED and fresh(committed).customer_id == customer
    methods = [m for m in fake_stripe.of_kind("payment_method") if m["customer"] == customer]
    assert len(methods) == 2  # the committed pledge's card and the one saved ahead
    assert fake_stripe.count("customer") == 2  # the member's and the other member's, nobody else's
    assert {(row.user_id, row.customer_id) for row in db.session.scalars(select(ProcessorCustomer))} == {
        (member.id, customer), (other.id, next(c["id"] for c in fake_stripe.of_kind("customer")
                                               if c["email"] == other.email))}


def test_a_guests_setup_pledge_gets_a_customer_of_its_own(fake_stripe):
    campaign = all_or_nothing(goal=100_000)
    first, second = pending_pledge(campaign, 1_000), pending_pledge(campaign, 1_000)
    assert fresh(first).customer_id != fresh(second).customer_id
    assert db.session.scalar(select(func.count()).select_from(ProcessorCustomer)) == 0


@pytest.mark.pg_only
def test_workers_finding_a_members_customer_at_once_create_one(worker_app, fake_stripe):
    member = UserFactory(verified=True)
    db.session.commit()
    member_id = member.id

    def find(_i):
        with worker_app.test_request_context():
            try:
                from webapp.accounts.models import User

                customer = customer_for(db.session.get(User, member_id))
                db.session.commit()
                return customer
            finally:
                db.session.remove()

    customers = run_at_once(4, find)

    assert not [c for c in customers if isinstance(c, Exception)], customers
    assert len(set(customers)) == 1 and fake_stripe.count("customer") == 1
    assert db.session.scalar(select(func.count()).select_from(ProcessorCustomer)) == 1


def test_a_members_customer_is_in_their_data_and_its_link_goes_with_the_account(fake_stripe):
    from webapp.privacy.models import ErasureReason
    from webapp.privacy.services import erasure, export

    member = UserFactory(verified=True, email="afi@example.org")
    db.session.commit()
    pledge = pending_pledge(all_or_nothing(goal=100_000), 3_000, user=member)
    customer = fresh(pledge).customer_id

    [exported] = export.gather(member).records["processor_customers"]
    assert (exported["processor"], exported["customer_reference"]) == ("stripe", customer)

    erasure.erase_account(member, ErasureReason.MEMBER, tell_member=False)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(ProcessorCustomer)) == 0
    assert fresh(pledge).customer_id == customer  # the pledge itself can still be charged
