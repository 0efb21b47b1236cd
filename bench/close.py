"""Closing an all-or-nothing campaign with 10,000 committed pledges against the fake Stripe, on PostgreSQL.

    .venv/bin/python bench/close.py                    # PostgreSQL at TEST_DATABASE_URL, else 127.0.0.1:5432
    .venv/bin/python bench/close.py --pledges 2000     # fewer pledges

It creates its own database (harambee_bench_close_<pid>) on that server and drops it afterwards, and starts
the fake Stripe of the tests (tests/fake_stripe) in this process, on 127.0.0.1. The pledges are
bulk-inserted as committed, each with a customer and a saved card that exist in the fake; 1 in 100
uses the card whose bank asks for authentication, so its charge ends in "needs action" and an email.
Then `close_due_campaigns()` and `collect()` run exactly as `flask campaigns close-due` runs them,
through the real StripeProvider and the stripe library, over HTTP to the fake: one PaymentIntent
(off_session, confirm) per pledge, one transaction per batch of pledges (webapp.payments.batches.collect).

The close runs twice on two identical campaigns: once timed, with the SQL statements counted, and
once under tracemalloc for the peak memory (tracemalloc slows Python down, so it is not timed).
CHARGE_RATE_PER_SECOND is set to 1,000,000 so that the pacing never sleeps: the time measured is the
application's and the fake's, not the rate limit's (at Stripe's live limit of 100 requests a second,
10,000 charges take at least 100 s; at the default 25 a second, 400 s).
"""
from __future__ import annotations

import argparse
import gc
import os
import resource
import secrets
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, event, func, insert, make_url, select, text  # noqa: E402

SCRATCH_DB = f"harambee_bench_close_{os.getpid()}"  #: its own per run: two runs on one server never drop each other's
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
RATE = 1_000_000
AUTH_EVERY = 100  #: one pledge in this many has a card that needs the backer at the close
AMOUNT = 2_500  #: each pledge, in euro cents


def make_app(database_url: str, upload_dir: str, fake_url: str):
    from config import TestConfig
    from webapp import create_app

    settings = dict(SQLALCHEMY_DATABASE_URI=database_url, UPLOAD_DIR=upload_dir, MAIL_BACKEND="log",
                    PAYMENT_PROVIDER="stripe", STRIPE_SECRET_KEY="sk_test_fake", STRIPE_API_BASE=fake_url,
                    STRIPE_WEBHOOK_SECRET="whsec_bench_only", SERVER_NAME="bench.localhost",
                    CHARGE_RATE_PER_SECOND=RATE, RATELIMIT_ENABLED=False)
    return create_app(type("CloseBenchConfig", (TestConfig,), settings))


def pg_scratch(server_url: str):
    url = make_url(server_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{SCRATCH_DB}" WITH (FORCE)'))

    drop()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{SCRATCH_DB}"'))
    return url.set(database=SCRATCH_DB).render_as_string(hide_password=False), lambda: (drop(), admin.dispose())


def seed_people():
    from webapp.accounts.models import User
    from webapp.extensions import db
    from webapp.organizations.models import LegalForm, Membership, Organization, OrgRole

    owner = User(email="owner@bench.example", name="Bench Owner", locale="fr")
    owner.set_password("bench-password-not-secret")
    org = Organization(slug="bench-org", name="Bench cooperative", legal_form=LegalForm.COOPERATIVE,
                       country="FR", description="Made up for the benchmark.")
    db.session.add_all([owner, org])
    db.session.flush()
    db.session.add(Membership(organization_id=org.id, user_id=owner.id, role=OrgRole.OWNER))
    db.session.commit()
    return owner.id, org.id


def seed_campaign(fake, owner_id: int, org_id: int, n: int, name: str) -> int:
    """A live all-or-nothing campaign whose deadline has passed, and `n` committed pledges (bulk insert)."""
    from webapp.campaigns.models import Campaign, CampaignStatus, Category, FundingModel
    from webapp.clock import utcnow
    from webapp.extensions import db
    from webapp.payments.models import ChargeTiming, Pledge, PledgeStatus
    from tests.fake_stripe import AUTHENTICATION_REQUIRED

    now = utcnow()
    campaign = Campaign(organization_id=org_id, slug=name, title=f"Bench campaign {name}",
                        summary="Made up for the benchmark.", story_md="A story.", story_html="<p>A story.</p>",
                        category=Category.COMMUNITY, country="FR", goal_amount=n * AMOUNT // 2, currency="EUR",
                        funding_model=FundingModel.ALL_OR_NOTHING, status=CampaignStatus.LIVE,
                        starts_at=now - timedelta(days=31), ends_at=now - timedelta(seconds=1),
                        created_by_id=owner_id, launched_at=now - timedelta(days=31))
    db.session.add(campaign)
    db.session.flush()
    rows = []
    with fake.lock:  # the backers saved their cards on the hosted page: the fake knows them
        for i in range(n):
            customer = fake.store({"id": f"cus_{name}_{i}", "object": "customer", "created": fake.now(),
                                   "email": f"backer{i}@{name}.example", "metadata": {}, "livemode": False})
            method = fake.store({"id": f"pm_{name}_{i}", "object": "payment_method", "type": "card",
                                 "customer": customer["id"], "created": fake.now(), "livemode": False,
                                 "card": {"brand": "visa", "last4": "4242"}, "metadata": {},
                                 "billing_details": {"email": customer["email"], "name": None}})
            if i % AUTH_EVERY == AUTH_EVERY - 1:
                fake.card_failures[method["id"]] = AUTHENTICATION_REQUIRED
            reference = secrets.token_urlsafe(12)
            rows.append(dict(
                reference=reference, client_token=secrets.token_urlsafe(24), campaign_id=campaign.id,
                email=customer["email"], locale="fr" if i % 2 else "en", display_name=f"Backer {i}",
                anonymous=False, status=PledgeStatus.COMMITTED, charge_timing=ChargeTiming.ON_SUCCESS,
                amount=AMOUNT, currency="EUR", charge_amount=AMOUNT, charge_currency="EUR", refunded_amount=0,
                tip_amount=0, charge_attempts=0, provider="stripe", checkout_session_id=f"cs_{name}_{i}",
                customer_id=customer["id"], payment_method_id=method["id"], setup_intent_id=f"seti_{name}_{i}",
                created_at=now - timedelta(days=2), confirmed_at=now - timedelta(days=2)))
    for start in range(0, n, 2_000):
        db.session.execute(insert(Pledge), rows[start:start + 2_000])
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return campaign.id


def close(campaign_id: int, between=lambda: None) -> tuple[float, object]:
    """Close (decide, tell everyone), call `between()`, then collect; returns (seconds closing, report)."""
    from webapp.payments import batches
    from webapp.payments.collection import services as closing

    started = time.perf_counter()
    closed = batches.close_due_campaigns()
    closing_seconds = time.perf_counter() - started
    assert closed == [campaign_id], closed
    between()
    return closing_seconds, batches.collect(campaign_id)


def check(fake, campaign_id: int, n: int, report) -> None:
    from webapp.extensions import db
    from webapp.payments.models import Pledge, PledgeStatus

    counts = dict(db.session.execute(select(Pledge.status, func.count()).where(Pledge.campaign_id == campaign_id)
                                     .group_by(Pledge.status)).all())
    needs = n // AUTH_EVERY
    expected = {PledgeStatus.PAID: n - needs, PledgeStatus.NEEDS_ACTION: needs}
    keys = [r.idempotency_key for r in fake.requests if r.path == "/v1/payment_intents" and r.method == "POST"
            and str(r.params.get("metadata", {}).get("campaign_id")) == str(campaign_id)]
    if counts != expected or (report.charged, report.needs_action) != (n - needs, needs) or len(keys) != n \
            or len(set(keys)) != n:
        raise SystemExit(f"wrong outcome: {counts}, {report}, {len(keys)} charge requests, {len(set(keys))} keys")
    db.session.remove()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pledges", type=int, default=10_000, help="committed pledges to charge (100 to 20,000)")
    parser.add_argument("--profile", metavar="FILE", help="run the timed close under cProfile, write its stats to FILE "
                        "and print the 30 costliest functions (the time figures are then cProfile's, inflated)")
    parser.add_argument("--no-memory", action="store_true",
                        help="skip the second run under tracemalloc (quicker, while iterating)")
    args = parser.parse_args()
    n = max(100, min(args.pledges, 20_000))
    env_url = os.environ.get("TEST_DATABASE_URL", "")
    server = env_url if env_url.startswith("postgresql") else DEFAULT_PG
    os.environ.setdefault("HARAMBEE_ENV", "test")

    from tests.fake_stripe import FakeStripe
    from webapp.campaigns.models import Campaign
    from webapp.clock import utcnow
    from webapp.extensions import db

    url, cleanup = pg_scratch(server)
    fake = FakeStripe(api_key="sk_test_fake").start()
    try:
        with tempfile.TemporaryDirectory() as uploads:
            app = make_app(url, uploads, fake.url)
            with app.test_request_context():
                db.create_all()
                owner_id, org_id = seed_people()
                timed_id = seed_campaign(fake, owner_id, org_id, n, "timed")
                traced_id = None if args.no_memory else seed_campaign(fake, owner_id, org_id, n, "traced")
                if traced_id is not None:
                    db.session.get(Campaign, traced_id).ends_at += timedelta(days=365)  # not due before the 2nd run
                db.session.commit()
                db.session.remove()
                statements = {"n": 0}
                kinds: dict[str, int] = {}

                def count(_conn, _cursor, statement, *_rest):
                    statements["n"] += 1
                    kind = _kind(statement)
                    kinds[kind] = kinds.get(kind, 0) + 1

                event.listen(db.engine, "before_cursor_execute", count)

            # 1. timed, statements counted, the time spent in the Stripe calls measured apart
            with app.test_request_context():
                from webapp.payments.providers import get_provider

                provider, in_stripe = get_provider(), {"s": 0.0}
                charge = provider.charge_off_session

                def timed_charge(*a, **k):
                    began = time.perf_counter()
                    try:
                        return charge(*a, **k)
                    finally:
                        in_stripe["s"] += time.perf_counter() - began

                provider.charge_off_session = timed_charge
                rss_before = _maxrss_mb()
                requests_before = len(fake.requests)
                counted = {}
                profile = None
                if args.profile:
                    import cProfile

                    profile = cProfile.Profile()
                    profile.enable()
                started = time.perf_counter()
                closing_seconds, report = close(timed_id, lambda: counted.setdefault("closing", statements["n"]))
                seconds = time.perf_counter() - started
                if profile is not None:
                    import pstats

                    profile.disable()
                    profile.dump_stats(args.profile)
                    pstats.Stats(args.profile).sort_stats("cumulative").print_stats(30)
                sql = statements["n"]
                by_kind = dict(kinds)
                api_calls = len(fake.requests) - requests_before
                check(fake, timed_id, n, report)
                rss_after = _maxrss_mb()
                del provider.charge_off_session

            # 2. the same again on the second campaign, under tracemalloc
            if traced_id is not None:
                with app.test_request_context():
                    db.session.get(Campaign, traced_id).ends_at = utcnow() - timedelta(seconds=1)
                    db.session.commit()
                    tracemalloc.start()
                    tracemalloc.reset_peak()
                    base, _ = tracemalloc.get_traced_memory()
                    peaks = {}

                    def closing_peak():
                        peaks["closing"] = tracemalloc.get_traced_memory()[1]
                        tracemalloc.reset_peak()

                    _seconds, traced_report = close(traced_id, closing_peak)
                    current, peak = tracemalloc.get_traced_memory()
                    peak = max(peak, peaks["closing"])
                    check(fake, traced_id, n, traced_report)
                    fake.reset()  # what the fake Stripe kept of both runs (its objects, requests, events) goes
                    gc.collect()
                    fake_held = current - tracemalloc.get_traced_memory()[0]
                    tracemalloc.stop()
            with app.app_context():
                db.engine.dispose()
    finally:
        fake.stop()
        cleanup()

    mb = 1024 * 1024
    print("Harambee close benchmark: PostgreSQL (scratch database "
          f"{SCRATCH_DB}, dropped afterwards); the fake Stripe of the tests in this process on 127.0.0.1; "
          "the real StripeProvider over HTTP.")
    print(f"  CHARGE_RATE_PER_SECOND = {RATE:,} (pacing off: at Stripe's live 100/s, {n:,} charges need at least "
          f"{n / 100:,.0f} s; at the default 25/s, {n / 25:,.0f} s). Batches of "
          f"{app.config['CHARGE_BATCH_SIZE']}; outcome emails and receipts rendered (mail backend: log).")
    print(f"  {n:,} committed pledges of €25.00 (all-or-nothing), {n // AUTH_EVERY:,} with a card that needs "
          "authentication.\n")
    print(f"  time to close and collect      {seconds:10.1f} s   ({n / seconds:,.0f} pledges/s, "
          f"{1000 * seconds / n:.2f} ms per pledge; goal for 10,000: <= 60 s)")
    print(f"    closing: outcome decided, {n + 1:,} emails rendered {closing_seconds:6.1f} s   "
          f"({counted['closing']:,} SQL statements)")
    print(f"    collecting: {n:,} charges, one commit per batch {seconds - closing_seconds:6.1f} s")
    print(f"    of which charging at Stripe  {in_stripe['s']:10.1f} s   (the stripe library, HTTP on loopback and the "
          "fake's own work)")
    print(f"  SQL statements                 {sql:10,}     ({sql / n:.1f} per pledge; goal <= 3)")
    for kind, count_ in sorted(by_kind.items(), key=lambda kv: -kv[1])[:12]:
        print(f"    {kind:<40} {count_:10,}     ({count_ / n:.2f} per pledge)")
    print(f"  Stripe API calls               {api_calls:10,}     ({api_calls / n:.2f} per pledge)")
    if traced_id is None:
        peak = base = current = fake_held = 0
        peaks = {"closing": 0}
        print("  (--no-memory: no second run under tracemalloc; the memory figures below are zero)")
    print(f"  peak traced memory (Python)    {(peak - base) / mb:10.1f} MB  (tracemalloc, second run, the fake "
          f"included; at the end {(current - base) / mb:.1f} MB still held, {fake_held / mb:.1f} MB of it by the "
          "fake Stripe's records of the run)")
    print(f"    the application alone, while closing (outcome emails wait for the commit) "
          f"{(peaks['closing'] - base) / mb:.1f} MB")
    print(f"  process max RSS                {rss_after:10.1f} MB  (before the close: {rss_before:.1f} MB)")
    print(f"\n  Outcome checked: {n - n // AUTH_EVERY:,} paid and {n // AUTH_EVERY:,} needing the backer, "
          f"one PaymentIntent request and one idempotency key per pledge.")
    return 0


def _kind(statement: str) -> str:
    """'SELECT pledges', 'INSERT ledger_entries', 'UPDATE pledges'... : the verb and the first table named."""
    words = statement.split()
    verb = words[0].upper() if words else "?"
    marker = {"SELECT": "FROM", "INSERT": "INTO", "UPDATE": "UPDATE", "DELETE": "FROM"}.get(verb)
    upper = [w.upper() for w in words]
    if marker and marker in upper or (marker == "UPDATE" and len(words) > 1):
        i = 0 if verb == "UPDATE" else upper.index(marker)
        return verb + " " + words[i + 1].strip("\"(")
    return verb


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    sys.exit(main())
