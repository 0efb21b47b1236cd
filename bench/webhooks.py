"""How many signed webhook events a second the app applies on PostgreSQL, and how many SQL queries each costs.

    .venv/bin/python bench/webhooks.py                 # PostgreSQL at TEST_DATABASE_URL, else 127.0.0.1:5432
    .venv/bin/python bench/webhooks.py --pledges 200   # fewer pledges (two events each)

It creates its own database (harambee_bench_webhooks_<pid>) on that server and drops it afterwards. The
pledges are made directly with the models (pending, keep-it-all, francs CFA); their events are
signed with the webhook secret exactly as Stripe signs them and POSTed to /payments/webhooks/stripe
through Flask's test client, in process: no network, no Stripe. The provider is the sandbox, whose
settlement lookup is a database read (Stripe's would be an API call). The reference is a minimal
Flask endpoint that only verifies the same signatures (webapp.payments.webhooks.verify), served the
same way, so the ratio means something on any machine.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask, request  # noqa: E402
from sqlalchemy import create_engine, event, func, make_url, select, text  # noqa: E402

SCRATCH_DB = f"harambee_bench_webhooks_{os.getpid()}"  #: its own per run: two runs on one server never drop each other's
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
WEBHOOK_URL = "/payments/webhooks/stripe"
SECRET = "whsec_bench_only"


def make_app(database_url: str, upload_dir: str) -> Flask:
    from config import TestConfig
    from webapp import create_app

    settings = dict(SQLALCHEMY_DATABASE_URI=database_url, UPLOAD_DIR=upload_dir, MAIL_BACKEND="log",
                    PAYMENT_PROVIDER="sandbox", STRIPE_WEBHOOK_SECRET=SECRET, SERVER_NAME="bench.localhost",
                    RATELIMIT_ENABLED=False)
    return create_app(type("BenchConfig", (TestConfig,), settings))


def minimal_app(tolerance: int) -> Flask:
    """Only what every webhook endpoint must do: read the raw body and check its signature."""
    from webapp.payments import webhooks

    app = Flask("minimal")

    @app.post(WEBHOOK_URL)
    def verify_only():
        try:
            webhooks.verify(request.get_data(cache=False), request.headers.get("Stripe-Signature"), SECRET, tolerance)
        except webhooks.BadSignature as exc:
            return {"status": str(exc)}, 400
        return {"status": "ok"}, 200

    return app


def seed(pledges: int) -> list[tuple[int, str, str]]:
    """A live keep-it-all campaign in XOF and `pledges` pending pledges: [(id, reference, session id)]."""
    from webapp.accounts.models import User
    from webapp.campaigns.models import Campaign, CampaignStatus, Category, FundingModel
    from webapp.clock import utcnow
    from webapp.extensions import db
    from webapp.organizations.models import LegalForm, Organization
    from webapp.payments.models import ChargeTiming, Pledge, PledgeStatus

    now = utcnow()
    owner = User(email="owner@bench.example", name="Bench Owner", locale="fr")
    owner.set_password("bench-password-not-secret")
    org = Organization(slug="bench-org", name="Bench cooperative", legal_form=LegalForm.COOPERATIVE,
                       country="BJ", region="BJ-AQ", description="Made up for the benchmark.")
    db.session.add_all([owner, org])
    db.session.flush()
    campaign = Campaign(organization_id=org.id, slug="bench-campaign", title="Bench campaign",
                        summary="Made up for the benchmark.", story_md="A story.", story_html="<p>A story.</p>",
                        category=Category.COMMUNITY, country="BJ", region="BJ-AQ", goal_amount=50_000_000,
                        currency="XOF", funding_model=FundingModel.KEEP_IT_ALL, status=CampaignStatus.LIVE,
                        starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=30),
                        created_by_id=owner.id, launched_at=now - timedelta(days=1))
    db.session.add(campaign)
    db.session.flush()
    rows = []
    for n in range(pledges):
        reference = secrets.token_urlsafe(12)
        rows.append(Pledge(
            reference=reference, client_token=secrets.token_urlsafe(24), campaign_id=campaign.id,
            email=f"backer{n}@example.org", locale="fr", display_name=f"Backer {n}", anonymous=False,
            status=PledgeStatus.PENDING, charge_timing=ChargeTiming.NOW, amount=25_000, currency="XOF",
            charge_amount=25_000, charge_currency="XOF", refunded_amount=0, provider="sandbox",
            checkout_session_id=f"cs_bench_{reference}", hold_expires_at=now + timedelta(minutes=30)))
    db.session.add_all(rows)
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return [(p.id, p.reference, p.checkout_session_id) for p in rows]


def events_for(pledge_id: int, reference: str, session_id: str) -> list[tuple[str, bytes]]:
    """What Stripe sends for a paid card checkout: the session completed, then the intent succeeded."""
    intent = f"pi_bench_{reference}"
    meta = {"pledge_id": str(pledge_id), "pledge_reference": reference}
    objects = [
        ("checkout.session.completed",
         {"id": session_id, "object": "checkout.session", "mode": "payment", "status": "complete",
          "payment_status": "paid", "payment_intent": intent, "client_reference_id": reference,
          "amount_total": 25_000, "currency": "xof", "metadata": meta}),
        ("payment_intent.succeeded",
         {"id": intent, "object": "payment_intent", "status": "succeeded", "amount": 25_000, "currency": "xof",
          "latest_charge": f"ch_bench_{reference}", "metadata": {"pledge_id": str(pledge_id)}}),
    ]
    return [(kind, json.dumps({"id": f"evt_bench_{secrets.token_hex(8)}", "object": "event", "type": kind,
                               "created": int(time.time()), "livemode": False,
                               "data": {"object": obj}}).encode()) for kind, obj in objects]


def post_all(client, payloads: list[bytes], expect: str) -> float:
    """POST each payload, freshly signed; returns the seconds taken. Every answer must be 200 `expect`."""
    from webapp.payments import webhooks

    started = time.perf_counter()
    for payload in payloads:
        response = client.post(WEBHOOK_URL, data=payload, content_type="application/json",
                               headers={"Stripe-Signature": webhooks.sign(payload, SECRET)})
        if response.status_code != 200 or response.get_json()["status"] != expect:
            raise SystemExit(f"unexpected answer {response.status_code} {response.get_data(as_text=True)!r}")
    return time.perf_counter() - started


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pledges", type=int, default=500, help="pledges to pay, two events each (max 5000)")
    args = parser.parse_args()
    pledges = max(10, min(args.pledges, 5_000))
    env_url = os.environ.get("TEST_DATABASE_URL", "")
    server = env_url if env_url.startswith("postgresql") else DEFAULT_PG
    os.environ.setdefault("HARAMBEE_ENV", "test")

    from webapp.extensions import db
    from webapp.payments.models import CONFIRMED_STATUSES, Pledge, PledgeStatus, ProcessedEvent

    url, cleanup = pg_scratch(server)
    try:
        with tempfile.TemporaryDirectory() as uploads:
            app = make_app(url, uploads)
            with app.app_context():
                db.create_all()
                made = seed(pledges)
                statements = {"n": 0}
                kinds: dict[str, int] = {}

                def count(_conn, _cursor, statement, *_rest):
                    from bench.close import _kind

                    statements["n"] += 1
                    kinds[_kind(statement)] = kinds.get(_kind(statement), 0) + 1

                event.listen(db.engine, "before_cursor_execute", count)
            by_kind: dict[str, list[bytes]] = {"checkout.session.completed": [], "payment_intent.succeeded": []}
            for pledge_id, reference, session_id in made:
                for kind, payload in events_for(pledge_id, reference, session_id):
                    by_kind[kind].append(payload)
            client = app.test_client()
            results = []
            # In Stripe's order: every session completes (pays the pledge, reads the settlement, queues
            # the receipt), then every intent succeeds (already paid: recorded, changes nothing).
            for kind in ("checkout.session.completed", "payment_intent.succeeded"):
                before = statements["n"]
                kinds.clear()
                seconds = post_all(client, by_kind[kind], "ok")
                results.append((kind, len(by_kind[kind]), seconds, statements["n"] - before))
                if kind == "checkout.session.completed":
                    completed_kinds = dict(kinds)
            replays = by_kind["checkout.session.completed"][: max(1, pledges // 2)]
            before = statements["n"]
            seconds = post_all(client, replays, "already processed")
            results.append(("redelivered (already processed)", len(replays), seconds, statements["n"] - before))

            with app.app_context():
                paid = db.session.scalar(select(func.count()).select_from(Pledge).where(Pledge.status == PledgeStatus.PAID))
                raised = db.session.scalar(select(func.sum(Pledge.amount)).where(Pledge.status.in_(CONFIRMED_STATUSES)))
                recorded = db.session.scalar(select(func.count()).select_from(ProcessedEvent))
                db.session.remove()
                db.engine.dispose()
            if paid != pledges or raised != pledges * 25_000 or recorded != 2 * pledges:
                raise SystemExit(f"wrong outcome: {paid} paid, {raised} XOF raised, {recorded} events recorded")

        all_payloads = [p for kind in by_kind for p in by_kind[kind]]
        minimal = minimal_app(app.config["WEBHOOK_TOLERANCE"]).test_client()
        post_all(minimal, all_payloads[:50], "ok")  # warm
        minimal_seconds = post_all(minimal, all_payloads, "ok")
        minimal_rate = len(all_payloads) / minimal_seconds
    finally:
        cleanup()

    applied = results[:2]
    events_applied = sum(n for _k, n, _s, _q in applied)
    rate = events_applied / sum(s for _k, _n, s, _q in applied)
    queries = sum(q for _k, _n, _s, q in applied) / events_applied
    print("Harambee webhook benchmark: PostgreSQL (scratch database "
          f"{SCRATCH_DB}, dropped afterwards); signed events POSTed to {WEBHOOK_URL} through Flask's test "
          "client, in process (no network); sandbox provider; pledges made directly with the models.")
    print(f"  {pledges:,} pending keep-it-all pledges of 25,000 XOF; each gets checkout.session.completed, "
          "then payment_intent.succeeded.\n")
    print(f"  {'event':36}{'events':>8}{'events/s':>11}{'queries/event':>15}{'vs minimal':>12}")
    for kind, n, seconds, q in results:
        print(f"  {kind:36}{n:>8,}{n / seconds:>11,.0f}{q / n:>15.1f}{(n / seconds) / minimal_rate:>12.1%}")
    print(f"  {'all applied events':36}{events_applied:>8,}{rate:>11,.0f}{queries:>15.1f}{rate / minimal_rate:>12.1%}")
    print(f"  {'minimal Flask endpoint (verify only)':36}{len(all_payloads):>8,}{minimal_rate:>11,.0f}{0:>15.1f}{1:>12.0%}")
    n_completed = results[0][1]
    print(f"\n  checkout.session.completed: {results[0][3] / n_completed:.1f} SQL statements per event (goal <= 8):")
    for kind, c in sorted(completed_kinds.items(), key=lambda kv: -kv[1]):
        print(f"    {kind:<40} {c / n_completed:6.2f}")
    print(f"\n  Outcome checked: {pledges:,} pledges paid, {pledges * 25_000:,} XOF raised, "
          f"{2 * pledges:,} events recorded once each.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
