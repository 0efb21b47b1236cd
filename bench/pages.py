"""SQL queries and speed of the home page and a campaign page, with 10 and with 1,000 live campaigns.

    .venv/bin/python bench/pages.py            # SQLite (a scratch file, deleted afterwards)
    .venv/bin/python bench/pages.py --pg       # also PostgreSQL (TEST_DATABASE_URL, else 127.0.0.1:5432)

The count of SQL statements a page issues must not depend on how many campaigns, tiers and pledges
there are: the script exits with status 1 when a count grows between 10 and 1,000 campaigns.
Requests go through Flask's test client, in process (no network); the home page's rate is also
given as a ratio to a minimal Flask page served the same way on the same machine, so the figure
means something on any machine. On PostgreSQL it creates and drops its own database
(harambee_bench_pages); it never touches another.
"""
from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask  # noqa: E402
from sqlalchemy import create_engine, event, insert, make_url, select, text  # noqa: E402

SIZES = (10, 1_000)
TIERS_PER_CAMPAIGN = 4
PLEDGES_PER_CAMPAIGN = 3
SCRATCH_PG_DB = "harambee_bench_pages"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
#: each speed measurement runs this long, or this many requests, whichever comes first
SECONDS, MAX_REQUESTS = 2.0, 2_000
CURRENCIES = ("XOF", "EUR", "MAD")  # campaigns in several currencies: every card converts for the viewer
VISITOR = {"Accept-Language": "en-US,en;q=0.8"}  # shown amounts also in USD: the rates are read too


# -- the app on a scratch database -----------------------------------------------------------------
def make_app(database_url: str, upload_dir: str) -> Flask:
    from config import TestConfig
    from webapp import create_app

    settings = dict(SQLALCHEMY_DATABASE_URI=database_url, UPLOAD_DIR=upload_dir, MAIL_BACKEND="log",
                    SERVER_NAME="bench.localhost", RATELIMIT_ENABLED=False)
    return create_app(type("BenchConfig", (TestConfig,), settings))


class QueryCounter:
    """Counts the statements an engine sends, with an SQLAlchemy before_cursor_execute listener."""

    def __init__(self, engine):
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *args, **kwargs):
        self.count += 1

    def during(self, action) -> int:
        before = self.count
        action()
        return self.count - before


# -- seeding, in bulk ------------------------------------------------------------------------------
def seed(first: int, last: int, owner_id: int) -> None:
    """Live campaigns number first..last-1, each with its own organization, tiers and confirmed pledges."""
    from webapp.campaigns.models import Campaign, CampaignStatus, Category, FundingModel, RewardTier
    from webapp.clock import utcnow
    from webapp.extensions import db
    from webapp.markup import render_markdown
    from webapp.organizations.models import LegalForm, Organization
    from webapp.payments.models import ChargeTiming, Pledge, PledgeStatus

    now = utcnow()
    story = "## Why\n\nA **bench** campaign.\n\n- one\n- two\n"
    story_html = render_markdown(story)
    categories = list(Category)
    numbers = range(first, last)
    db.session.execute(insert(Organization), [
        dict(slug=f"bench-org-{n}", name=f"Bench cooperative {n}", legal_form=LegalForm.COOPERATIVE,
             country="BJ", region="BJ-AQ", description="A cooperative made up for the benchmark.")
        for n in numbers])
    orgs = dict(db.session.execute(select(Organization.slug, Organization.id)
                                   .where(Organization.slug.like("bench-org-%"))).all())
    db.session.execute(insert(Campaign), [
        dict(organization_id=orgs[f"bench-org-{n}"], slug=f"bench-campaign-{n}", title=f"Bench campaign {n}",
             summary="A campaign made up for the benchmark.", story_md=story, story_html=story_html,
             category=categories[n % len(categories)], country=("BJ", "MA", "FR")[n % 3],
             region=("BJ-AQ", "MA-09", "FR-ARA")[n % 3], goal_amount=5_000_000, minimum_amount=None,
             currency=CURRENCIES[n % 3], funding_model=FundingModel.KEEP_IT_ALL, accepts_backer_currency=True,
             status=CampaignStatus.LIVE, starts_at=now - timedelta(days=1 + n % 7),
             ends_at=now + timedelta(days=10 + n % 40), created_by_id=owner_id, launched_at=now - timedelta(days=1))
        for n in numbers])
    campaigns = db.session.execute(select(Campaign.id, Campaign.currency)
                                   .where(Campaign.slug.in_([f"bench-campaign-{n}" for n in numbers]))).all()
    db.session.execute(insert(RewardTier), [
        dict(campaign_id=cid, title=f"Reward {t}", description="Something to thank a backer.",
             minimum_amount=(t + 1) * 5_000, quantity_limit=100 if t % 2 else None, units_claimed=0)
        for cid, _currency in campaigns for t in range(TIERS_PER_CAMPAIGN)])
    db.session.execute(insert(Pledge), [
        dict(reference=secrets.token_urlsafe(12), client_token=secrets.token_urlsafe(24), campaign_id=cid,
             tier_id=None, user_id=None, email=f"backer{p}@example.org", locale="fr", display_name=f"Backer {p}",
             anonymous=False, message="Courage !", status=PledgeStatus.PAID, charge_timing=ChargeTiming.NOW,
             amount=10_000, currency=currency, charge_amount=10_000, charge_currency=currency,
             refunded_amount=0, provider="sandbox", confirmed_at=now, created_at=now)
        for cid, currency in campaigns for p in range(PLEDGES_PER_CAMPAIGN)])
    db.session.commit()
    # Fresh statistics, as autovacuum would soon gather: without them PostgreSQL plans the home page's
    # join with the pledge totals as a nested loop over every pledge (~0.9 s a page at 1,000 campaigns).
    db.session.execute(text("ANALYZE"))
    db.session.commit()


def seed_base() -> int:
    from webapp import demo
    from webapp.accounts.models import User
    from webapp.extensions import db

    owner = User(email="owner@bench.example", name="Bench Owner", locale="en")
    owner.set_password("bench-password-not-secret")
    db.session.add(owner)
    demo.load_rates()  # the demo's rate snapshot, so amounts are also shown in the visitor's currency
    db.session.commit()
    return owner.id


# -- measuring -------------------------------------------------------------------------------------
def requests_per_second(client, path: str, headers: dict | None = None) -> float:
    client.get(path, headers=headers)  # warm: templates compiled, caches filled
    done, start = 0, time.perf_counter()
    while done < MAX_REQUESTS and time.perf_counter() - start < SECONDS:
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.status_code)
        done += 1
    return done / (time.perf_counter() - start)


def minimal_app() -> Flask:
    app = Flask("minimal")

    @app.get("/")
    def index():
        return "<!doctype html><title>ok</title><p>ok</p>"

    return app


def measure(app: Flask, counter: QueryCounter, size: int, minimal_rps: float) -> dict:
    from webapp.extensions import db

    client = app.test_client()
    slug = "bench-campaign-0"  # the same campaign at every size

    def get(path):
        def run():
            response = client.get(path, headers=VISITOR)
            assert response.status_code == 200, (path, response.status_code)
            assert b"Bench campaign" in response.data
        return run

    get("/")()  # warm-up: first-request work is not the page's own
    get(f"/campaigns/{slug}")()
    with app.app_context():
        shown = db.session.execute(text("SELECT count(*) FROM campaigns WHERE status = 'live'")).scalar()
    assert shown == size, (shown, size)
    home_queries = counter.during(get("/"))
    page_queries = counter.during(get(f"/campaigns/{slug}"))
    home_rps = requests_per_second(client, "/", VISITOR)
    return {"size": size, "home_queries": home_queries, "page_queries": page_queries,
            "home_rps": home_rps, "ratio": home_rps / minimal_rps}


def run_on(label: str, database_url: str, minimal_rps: float) -> list[dict]:
    from webapp.extensions import db

    with tempfile.TemporaryDirectory() as uploads:
        app = make_app(database_url, uploads)
        with app.app_context():
            db.create_all()
            counter = QueryCounter(db.engine)
            owner_id = seed_base()
        results, seeded = [], 0
        for size in SIZES:
            started = time.perf_counter()
            with app.app_context():
                seed(seeded, size, owner_id)
            seeded = size
            print(f"  {label}: seeded {size:,} live campaigns, {size * TIERS_PER_CAMPAIGN:,} tiers, "
                  f"{size * PLEDGES_PER_CAMPAIGN:,} pledges ({time.perf_counter() - started:.1f} s)", flush=True)
            results.append(measure(app, counter, size, minimal_rps))
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    return results


# -- PostgreSQL: a scratch database of our own -----------------------------------------------------
def pg_scratch(server_url: str):
    url = make_url(server_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    scratch = url.set(database=SCRATCH_PG_DB)

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{SCRATCH_PG_DB}" WITH (FORCE)'))

    drop()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{SCRATCH_PG_DB}"'))
    return scratch.render_as_string(hide_password=False), lambda: (drop(), admin.dispose())


def print_table(label: str, results: list[dict], minimal_rps: float) -> list[str]:
    small, large = results[0], results[-1]
    rows = [("SQL queries, home page", "home_queries", "{:d}"),
            ("SQL queries, campaign page", "page_queries", "{:d}"),
            ("home page, requests/s", "home_rps", "{:,.0f}"),
            ("home page / minimal Flask page", "ratio", "{:.1%}")]
    print(f"\n{label}")
    print(f"  {'':32}{small['size']:>12,} campaigns{large['size']:>12,} campaigns")
    for name, key, fmt in rows:
        print(f"  {name:32}{fmt.format(small[key]):>22}{fmt.format(large[key]):>22}")
    print(f"  {'minimal Flask page, requests/s':32}{minimal_rps:>22,.0f}{'(same)':>22}")
    problems = []
    for name, key, _fmt in rows[:2]:
        if large[key] > small[key]:
            problems.append(f"{label}: {name} grows with the data ({small[key]} -> {large[key]})")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", action="store_true", help="also run on PostgreSQL")
    args = parser.parse_args()
    env_url = os.environ.get("TEST_DATABASE_URL", "")
    use_pg = args.pg or env_url.startswith("postgresql")
    os.environ.setdefault("HARAMBEE_ENV", "test")

    print("Harambee pages benchmark: Flask test client, in process; "
          f"{TIERS_PER_CAMPAIGN} tiers and {PLEDGES_PER_CAMPAIGN} paid pledges per campaign, "
          "one organization per campaign, anonymous visitor with Accept-Language en-US.")
    minimal_rps = requests_per_second(minimal_app().test_client(), "/")
    problems = []
    with tempfile.TemporaryDirectory() as scratch:
        results = run_on("SQLite", f"sqlite:///{Path(scratch) / 'bench.sqlite3'}", minimal_rps)
        problems += print_table("SQLite (scratch file)", results, minimal_rps)
    if use_pg:
        server = env_url if env_url.startswith("postgresql") else DEFAULT_PG
        url, cleanup = pg_scratch(server)
        try:
            results = run_on("PostgreSQL", url, minimal_rps)
        finally:
            cleanup()
        problems += print_table(f"PostgreSQL (scratch database {SCRATCH_PG_DB}, dropped afterwards)",
                                results, minimal_rps)
    print()
    if problems:
        for problem in problems:
            print("FAIL:", problem)
        return 1
    print("OK: no page's query count grows with the number of campaigns.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
