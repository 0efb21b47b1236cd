"""Ranking offers for one request among 10,000 open offers, on PostgreSQL.

    .venv/bin/python bench/matching.py [--offers 10000] [--runs 50]

Seeds one active event with published offers spread over about 60 km around Cotonou (all eleven
categories, various capacities and availability windows, some already matched), then times
`matching.suggested_offers` for a lodging request (the query the request page runs), and the
helper's side, `matching.requests_near`. Prints the median and 95th percentile, and the plan.
Works in a schema of its own in the `test` database on 127.0.0.1, dropped at the end.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, text  # noqa: E402

PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def timed(fn, runs: int) -> list[float]:
    fn()  # warm the caches and the plan
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def describe(label: str, ms: list[float]) -> str:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return f"{label}: median {statistics.median(ms):.1f} ms, p95 {p95:.1f} ms, min {ms[0]:.1f} ms ({len(ms)} runs)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--offers", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    rng = random.Random(7)
    schema = f"bench_matching_{os.getpid()}"
    server = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    try:
        from config import DevelopmentConfig
        from webapp import create_app
        from webapp.extensions import db

        app = create_app(type("MatchingBench", (DevelopmentConfig,), {"SQLALCHEMY_DATABASE_URI": url}))
        with app.app_context(), app.test_request_context():
            db.create_all()
            from webapp.accounts.models import Role, User
            from webapp.clock import utcnow
            from webapp.money import Money
            from webapp.mutual_aid.models import (EventKind, HelpCategory, HelpRequest, Match, MatchState, Offer,
                                                  OfferState, RequestState, Severity, Urgency)
            from webapp.mutual_aid.places import cell_of
            from webapp.mutual_aid.services import events, matching
            from webapp.organizations.models import LegalForm, Organization

            coordinator = User(email="c@bench.invalid", password_hash="x", name="C", role=Role.COORDINATOR)
            org = Organization(slug="relief", name="Relief", legal_form=LegalForm.ASSOCIATION, country="BJ")
            db.session.add_all([coordinator, org])
            db.session.commit()
            event_ = events.create_event(coordinator, events.EventDraft(
                name="Bench flood", kind=EventKind.FLOOD, severity=Severity.SEVERE, starts_on=date.today(),
                relief_organization_id=org.id, public_message="Flood.", region_codes=("BJ-LI", "BJ-AQ"),
                centre_latitude=None, centre_longitude=None, radius_km=None, fund_goal=Money(1_000_000, "XOF")))
            events.activate(event_, coordinator)
            db.session.commit()
            people = db.session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), [
                {"email": f"p{i}@bench.invalid", "password_hash": "x", "name": f"P{i}", "role": Role.MEMBER,
                 "residence_region": "BJ-LI"} for i in range(args.offers + args.requests)]).all()
            helpers, requesters = people[:args.offers], people[args.offers:]
            today = date.today()
            categories = list(HelpCategory)
            now = utcnow()

            def point():
                return 6.40 + rng.uniform(-0.3, 0.3), 2.40 + rng.uniform(-0.3, 0.3)

            offers = []
            for owner in helpers:
                lat, lon = point()
                cl, co = cell_of(lat, lon)
                start = today + timedelta(days=rng.choice([-3, 0, 0, 0, 2, 5]))
                offers.append({"owner_id": owner, "event_id": event_.id, "category": rng.choice(categories),
                               "title": "Offer", "description": "", "capacity": rng.randint(1, 8),
                               "remote": rng.random() < 0.03, "available_from": start,
                               "available_until": start + timedelta(days=rng.choice([3, 10, 30])) if rng.random() < 0.5
                               else None, "latitude": lat, "longitude": lon, "region_code": "BJ-LI",
                               "cell_lat": cl, "cell_lon": co, "state": OfferState.PUBLISHED, "created_at": now})
            offer_ids = db.session.scalars(insert(Offer).returning(Offer.id, sort_by_parameter_order=True),
                                           offers).all()
            requests = []
            for requester in requesters:
                lat, lon = point()
                cl, co = cell_of(lat, lon)
                requests.append({"event_id": event_.id, "requester_id": requester, "category": rng.choice(categories),
                                 "urgency": rng.choice(list(Urgency)), "household_size": rng.randint(1, 6),
                                 "description": "", "latitude": lat, "longitude": lon, "region_code": "BJ-LI",
                                 "cell_lat": cl, "cell_lon": co, "state": RequestState.OPEN, "created_at": now,
                                 "state_changed_at": now})
            request_ids = db.session.scalars(insert(HelpRequest).returning(HelpRequest.id,
                                                                           sort_by_parameter_order=True),
                                             requests).all()
            # a fifth of the requests already matched with a random offer: capacity taken counts
            pairs = {(rng.choice(offer_ids), rid) for rid in rng.sample(list(request_ids), len(request_ids) // 5)}
            db.session.execute(insert(Match), [
                {"event_id": event_.id, "offer_id": o, "request_id": r, "proposed_by_id": coordinator.id,
                 "state": MatchState.MATCHED, "expires_at": now, "created_at": now} for o, r in pairs])
            db.session.commit()
            db.session.execute(text("ANALYZE"))
            lodging = sum(1 for o in offers if o["category"] == HelpCategory.LODGING)
            print(f"{len(offers):,} published offers ({lodging:,} for lodging), {len(requests):,} requests, "
                  f"{len(pairs):,} matches, one event")

            request = HelpRequest(event_id=event_.id, requester_id=requesters[0], category=HelpCategory.LODGING,
                                  urgency=Urgency.CRITICAL, household_size=3, latitude=6.3654, longitude=2.4183,
                                  region_code="BJ-LI", cell_lat=63, cell_lon=24, state=RequestState.OPEN)
            db.session.add(request)
            db.session.commit()
            found = matching.suggested_offers(request)
            print(f"suggested_offers returns {len(found)}; the first: {found[0].distance}, "
                  f"available now: {found[0].available_now}")
            print(describe("rank offers for one request", timed(lambda: matching.suggested_offers(request),
                                                                 args.runs)))
            offer = db.session.get(Offer, offer_ids[0])
            print(describe("requests near one offer    ", timed(lambda: matching.requests_near(offer), args.runs)))



            captured = []

            def grab(conn, cursor, statement, parameters, context, executemany):
                captured.append((statement, parameters))

            from sqlalchemy import event as sa_event

            sa_event.listen(db.engine, "before_cursor_execute", grab)
            matching.suggested_offers(request)
            sa_event.remove(db.engine, "before_cursor_execute", grab)
            statement, parameters = captured[-1]
            with db.engine.connect() as conn:
                raw = conn.connection.dbapi_connection.cursor()
                raw.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, SUMMARY ON) " + statement, parameters)
                plan = [row[0] for row in raw.fetchall()]
            print("\nplan of the ranking query:")
            print("\n".join("  " + line for line in plan))

    finally:
        with server.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


if __name__ == "__main__":
    main()
