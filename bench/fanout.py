"""Solidarity calls at scale: seed members in bulk, activate an event, let Celery workers deliver every call.

    .venv/bin/python bench/fanout.py                     # 100,000 members, 4 workers, PostgreSQL
    .venv/bin/python bench/fanout.py --members 20000 --workers 2 --database sqlite
    .venv/bin/python bench/fanout.py --members 233000 --workers 2   # about 100,000 calls, issue 14's goal
    .venv/bin/python bench/fanout.py --members 1000000 --record-only   # the activation at a million members

Prints the time to record the calls (the activation's one transaction), the time for the workers
to deliver them all (in-app, email to a local SMTP sink, SMS to the log channel), the peak memory
of each process and the SQL statements per call. Everything stays on 127.0.0.1: PostgreSQL (a
schema of its own in the `test` database, dropped at the end), Redis (keys under a prefix of its
own, deleted at the end), an SMTP sink in this process (bench/smtp_sink.py, or aiosmtpd with --sink aiosmtpd).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/smtp_sink.py

from sqlalchemy import create_engine, event, func, insert, select, text  # noqa: E402

PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
AREA = ("BJ-LI", "BJ-AQ")
ELSEWHERE = ["FR-IDF", "FR-ARA", "CA-QC", "US-NY", "GB-ENG", "SN-DK", "MA-09", "BE-BRU", "DE-BE", "CI-AB"]


class SmtpSink:
    """Counts the messages it accepts, and nothing else (no parsing: the sink must not be the bottleneck)."""

    def __init__(self):
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
        return "250 OK"


def seed(session, members: int, rng: random.Random) -> dict[str, int]:
    """Members in bulk (executemany INSERTs of 10,000 rows): 8% live in the area, 35% come from it."""
    from webapp.accounts.models import OriginRegion, Role, User
    from webapp.mutual_aid.models import ChannelPreference, CommitmentState, StandingCommitment

    counts = {"near": 0, "diaspora": 0, "elsewhere": 0, "sms": 0, "committed": 0}
    chunk = 10_000
    for start in range(0, members, chunk):
        rows = []
        for i in range(start, min(members, start + chunk)):
            roll = rng.random()
            if roll < 0.08:
                kind, region = "near", rng.choice(AREA)
                lat, lon = 6.36 + rng.uniform(-0.1, 0.1), 2.40 + rng.uniform(-0.2, 0.1)
            else:
                kind, region, lat, lon = ("diaspora" if roll < 0.43 else "elsewhere"), rng.choice(ELSEWHERE), None, None
            rows.append((kind, {"email": f"m{i}@bench.invalid", "password_hash": "x", "name": f"Member {i}",
                                "role": Role.MEMBER, "residence_country": region[:2], "residence_region": region,
                                "latitude": lat, "longitude": lon, "locale": rng.choice(["en", "fr"])}))
        ids = session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True),
                              [user for _kind, user in rows]).all()
        origins, prefs, commitments = [], [], []
        for (kind, _user), uid in zip(rows, ids):
            if kind == "diaspora":
                origins.append({"user_id": uid, "region_code": rng.choice(AREA)})
                if rng.random() < 0.05:
                    commitments.append({"user_id": uid, "region_code": AREA[0], "max_amount": 20_000,
                                        "yearly_cap_amount": 100_000, "currency": "XOF",
                                        "state": CommitmentState.ACTIVE, "customer_id": f"cus_{uid}",
                                        "payment_method_id": f"pm_sandbox_4242_{uid}"})
                    counts["committed"] += 1
            elif kind == "elsewhere" and rng.random() < 0.2:
                origins.append({"user_id": uid, "region_code": "SN-TH"})
            counts[kind] += 1
            if kind == "near" and rng.random() < 0.25:
                prefs.append({"user_id": uid, "sms_number": f"+2299{uid:07d}"})
                counts["sms"] += 1
        if origins:
            session.execute(insert(OriginRegion), origins)
        if prefs:
            session.execute(insert(ChannelPreference), prefs)
        if commitments:
            session.execute(insert(StandingCommitment), commitments)
        session.commit()
    return counts


def proc_peak_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def reset_peak_rss() -> float | None:
    """Linux: reset this process's peak resident size (clear_refs 5) and return the current one, in MB."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return _status_mb("VmRSS")
    except OSError:
        return None


def peak_rss_mb() -> float | None:
    try:
        return _status_mb("VmHWM")
    except OSError:
        return None


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise OSError(field)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--email-per-second", type=float, default=0, help="0: no rate limit")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--record-only", action="store_true",
                        help="stop after the activation: its time and memory, no delivery (for --members 1000000)")
    parser.add_argument("--sink", choices=["minimal", "aiosmtpd"], default="minimal",
                        help="the SMTP sink: bench/smtp_sink.py (default; answers and counts, as Postfix's smtp-sink) "
                             "or aiosmtpd, which parses every line in Python (a third of a core at 800 messages/s)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="harambee-fanout-"))
    tag = f"bench_fanout_{os.getpid()}"
    if args.database == "postgresql":
        server = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with server.connect() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{tag}"')
        db_url = f"{PG_URL}?options=-csearch_path%3D{tag}"
    else:
        server = None
        db_url = f"sqlite:///{workdir / 'fanout.sqlite3'}"
    prefix = f"{tag}-{uuid.uuid4().hex[:6]}:"
    os.environ.update(HARAMBEE_ENV="development", DATABASE_URL=db_url, CELERY_BROKER_URL=REDIS_URL,
                      MUTUAL_AID_BATCH_SIZE=str(args.batch_size), MUTUAL_AID_RATE_KEY_PREFIX=prefix + "rate:",
                      MUTUAL_AID_EMAIL_PER_SECOND=str(args.email_per_second), MUTUAL_AID_SMS_PER_SECOND="0")
    if args.sink == "aiosmtpd":
        from aiosmtpd.controller import Controller

        import logging
        import socket

        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP line at INFO otherwise
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            smtp_port = probe.getsockname()[1]
        sink = SmtpSink()
        controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
        controller.start()
    else:
        from smtp_sink import SmtpSink as MinimalSink  # bench/smtp_sink.py

        sink = controller = MinimalSink().start()
        smtp_port = sink.port
    workers: list[subprocess.Popen] = []
    import redis

    broker = redis.Redis.from_url(REDIS_URL)
    try:
        from config import DevelopmentConfig
        from webapp import create_app, jobs
        from webapp.extensions import db

        app = create_app(type("FanoutBench", (DevelopmentConfig,), {"SQLALCHEMY_DATABASE_URI": db_url,
                                                                    "CELERY_BROKER_URL": REDIS_URL}))
        jobs.celery.conf.broker_transport_options = {**jobs.celery.conf.broker_transport_options,
                                                     "global_keyprefix": prefix}
        with app.app_context(), app.test_request_context(base_url="http://127.0.0.1:5000"):
            if args.database == "sqlite":
                with db.engine.begin() as conn:
                    conn.exec_driver_sql("PRAGMA journal_mode=WAL")
            db.create_all()
            t0 = time.perf_counter()
            population = seed(db.session, args.members, rng)
            seeded = time.perf_counter() - t0
            print(f"seeded {args.members:,} members in {seeded:.1f} s: {population}")

            from webapp.accounts.models import Role, User
            from webapp.money import Money
            from webapp.mutual_aid.models import (CallDelivery, DeliveryState, EventKind, Severity,
                                                  SolidarityCall)
            from webapp.mutual_aid.services import events
            from webapp.organizations.models import LegalForm, Organization

            coordinator = User(email="coordinator@bench.invalid", password_hash="x", name="Coordinator",
                               role=Role.COORDINATOR, residence_region="FR-IDF")
            org = Organization(slug="relief", name="Relief", legal_form=LegalForm.ASSOCIATION, country="BJ")
            db.session.add_all([coordinator, org])
            db.session.commit()
            event_ = events.create_event(coordinator, events.EventDraft(
                name="Bench flood", kind=EventKind.FLOOD, severity=Severity.SEVERE, starts_on=date.today(),
                relief_organization_id=org.id, public_message="The lagoon overflowed.", region_codes=AREA,
                centre_latitude=6.37, centre_longitude=2.42, radius_km=30, fund_goal=Money(50_000_000, "XOF")))
            db.session.commit()

            statements = {"n": 0}

            def count(*_a, **_k):
                statements["n"] += 1

            event.listen(db.engine, "before_cursor_execute", count)
            rss_before = reset_peak_rss()
            t0 = time.perf_counter()
            done = events.activate(event_, coordinator)
            db.session.commit()
            record_seconds = time.perf_counter() - t0
            activation_peak = peak_rss_mb()
            event.remove(db.engine, "before_cursor_execute", count)
            calls = done.total_calls
            deliveries = db.session.scalar(select(func.count()).select_from(CallDelivery))
            print(f"\nrecorded {calls:,} calls ({dict((a.value, n) for a, n in done.calls.items())}) and "
                  f"{deliveries:,} deliveries in {record_seconds:.2f} s, one transaction, "
                  f"{statements['n']} SQL statements ({statements['n'] / max(calls, 1):.5f} per call)")
            grew = f"{activation_peak - rss_before:+.0f} MB" if activation_peak and rss_before else "unknown"
            print(f"  this process's resident memory during the activation: {rss_before:.0f} MB before, peak "
                  f"{activation_peak:.0f} MB ({grew}; the calls are written by INSERT ... SELECT, no member in Python)"
                  if activation_peak and rss_before else "  (resident memory during the activation: unknown)")
            if args.record_only:
                print(f"\nagainst issue 14's goal for recording ({args.members:,} members): {record_seconds:.1f} s, "
                      f"goal ≤ 30 s for 1,000,000 members  {'ok' if record_seconds <= 30 else 'NO'}"
                      + ("" if args.members >= 1_000_000 else " (fewer members than the goal's)"))
                return

            stats_dir = workdir / "stats"
            stats_dir.mkdir()
            env = {**os.environ, "PYTHONPATH": str(ROOT), "BENCH_DATABASE_URL": db_url,
                   "BENCH_SMTP_PORT": str(smtp_port), "BENCH_REDIS_PREFIX": prefix, "BENCH_STATS_DIR": str(stats_dir)}
            for n in range(args.workers):
                workers.append(subprocess.Popen(
                    [sys.executable, "-m", "celery", "-A", "bench.fanout_worker", "worker", "--pool=solo",
                     "-Q", "harambee", "-n", f"fanout{n}@%h", "--loglevel=WARNING", "--without-gossip",
                     "--without-mingle", "--without-heartbeat"],
                    cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(workdir / f"worker{n}.log", "w")))
            time.sleep(4)  # let them connect
            from webapp.mutual_aid import tasks

            emails = db.session.scalar(select(func.count()).select_from(CallDelivery)
                                       .where(CallDelivery.channel == "email"))
            t0 = time.perf_counter()
            with jobs.celery.connection_for_write() as connection:
                tasks.dispatch_calls.apply_async((event_.id,), connection=connection)
            last = -1
            while True:
                time.sleep(1)
                left = db.session.scalar(select(func.count()).select_from(CallDelivery).where(
                    CallDelivery.state.in_((DeliveryState.QUEUED, DeliveryState.SENDING))))
                db.session.rollback()
                if left == 0 and sink.count >= emails:
                    break
                if left == last and time.perf_counter() - t0 > 600:
                    raise SystemExit(f"stuck with {left} deliveries left; see {workdir}")
                last = left
            deliver_seconds = time.perf_counter() - t0
            sent = dict(db.session.execute(select(CallDelivery.channel, func.count()).where(
                CallDelivery.state == DeliveryState.SENT).group_by(CallDelivery.channel)).all())
            states = dict(db.session.execute(select(SolidarityCall.state, func.count())
                                             .group_by(SolidarityCall.state)).all())
            print(f"\ndelivered by {args.workers} workers in {deliver_seconds:.1f} s "
                  f"({calls / deliver_seconds:,.0f} calls/s): "
                  f"{', '.join(f'{c.value} {n:,}' for c, n in sent.items())}; SMTP sink received {sink.count:,}; "
                  f"calls {', '.join(f'{s.value} {n:,}' for s, n in states.items())}")
            peaks = {w.pid: proc_peak_mb(w.pid) for w in workers}
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(30)
        worker_stats = [json.loads(p.read_text()) for p in stats_dir.glob("*.json")]
        worker_statements = sum(s["statements"] for s in worker_stats)
        print(f"workers ran {worker_statements:,} SQL statements: {worker_statements / max(calls, 1):.2f} per call "
              f"(per chunk of emails or SMS: one claim, one read, two marks; one batch of statements per batch in-app)")
        per_call = worker_statements / max(calls, 1)
        projected = deliver_seconds * 100_000 / max(calls, 1)
        worst = max((p for p in peaks.values() if p), default=0)
        print(f"\nagainst issue 14's goals (100,000 calls, {args.workers} workers):"
              f"\n  delivery time   {deliver_seconds:.1f} s for {calls:,} calls"
              + ("" if calls >= 100_000 else f", {projected:.0f} s projected for 100,000 (linear)")
              + f"   goal ≤ 120 s  {'ok' if projected <= 120 else 'NO'}"
              f"\n  SQL per call    {per_call:.2f}   goal ≤ 2  {'ok' if per_call <= 2 else 'NO'}"
              f"\n  worker peak     {worst:.0f} MB   goal ≤ 200 MB  {'ok' if worst <= 200 else 'NO'}"
              f"\n  recording       {record_seconds:.2f} s for {calls:,} calls (goal for 1,000,000 members: ≤ 30 s)")
        print("\npeak memory (resident):")
        print(f"  this process (seeding, activation, SMTP sink): "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
        for pid, peak in peaks.items():
            print(f"  worker {pid}: {peak:.0f} MB" if peak else f"  worker {pid}: unknown")
        if args.database == "postgresql":
            with server.connect() as conn:
                size = conn.execute(text("SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_class c "
                                         "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :s"),
                                    {"s": tag}).scalar()
            print(f"  (database schema size: {size})")
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
        controller.stop()
        for key in broker.scan_iter(match=prefix + "*"):
            broker.delete(key)
        if server is not None:
            with server.connect() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{tag}" CASCADE')
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
