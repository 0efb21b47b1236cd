"""The pages' speed under gunicorn, as a ratio to a floor page served the same way (issue 14).

    .venv/bin/python bench/serve.py                                   # PostgreSQL, 10 then 10,000 campaigns
    .venv/bin/python bench/serve.py --sqlite                          # a scratch SQLite file instead
    .venv/bin/python bench/serve.py --campaigns 10 --campaigns 500 --seconds 2 --rounds 2   # a quick look

Two servers start on loopback ports under gunicorn with the repository's gunicorn.conf.py and 2 sync
workers each: the app, and the *floor*, a minimal Flask app that does one primary-key query on the
same database and renders a one-line template. No page of the app can beat the floor by much, so
"page requests/s / floor requests/s" means the same on any machine. The runs are interleaved (floor,
page, floor, page…) so that a machine busy with something else slows both alike; each run lasts
--seconds, with --connections open connections, from wrk (installed from Debian when missing) or a
small Python load generator (--python-load). The figure given is the median of --rounds runs.

SQL statements per page are counted in process, on Flask's test client, with an SQLAlchemy
before_cursor_execute listener, at every size and in three situations: after a pledge (what a page costs at
the surge, when its money changed: the goal's figure), from the cache, and cold (the cache emptied, as after
an edit of the campaign); the goal is a count that does not change with the number of campaigns and is at
most 6 (`--sql-only` counts without starting servers, `--show-sql` prints the statements). The goals are printed beside the figures; the script measures,
it does not fail a build (its exit status is 1 only when a run could not be made).

PostgreSQL (default postgresql+psycopg://postgres@127.0.0.1:5432/test, or TEST_DATABASE_URL): the
script works in a schema of its own (bench_serve_<random>) that it drops at the end. Every process it
starts runs in its own process group and is stopped at the end, whatever happens. It talks only to
127.0.0.1.
"""
from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
GUNICORN = Path(sys.executable).with_name("gunicorn")
WORKERS = 2
VISITOR = {"Accept-Language": "en-US,en;q=0.8"}
MEMBER_EMAIL, MEMBER_PASSWORD = "member@bench.example", "bench-password-not-secret"
SLUG = "bench-campaign-0"  # the same campaign at every size
#: page -> goal for "page requests/s / floor requests/s"
GOALS = {"home, anonymous": 1.0, "campaign, anonymous": 1.0, "campaign, signed in": 0.3}
SQL_GOAL = 6
#: the app's page cache (webapp.pagecache): Redis (BENCH_REDIS_URL) under a prefix of this run's, dropped at the end
REDIS_URL = "redis://127.0.0.1:6379/0"
PAGE_CACHE_SECONDS = 5


# -- the two WSGI apps gunicorn serves (imported in the workers: `serve:bench_app()`, `serve:floor_app()`)
def bench_app():
    """The real app, on BENCH_DATABASE_URL, with the test settings minus the test host name."""
    from config import TestConfig
    from webapp import create_app

    settings = dict(SQLALCHEMY_DATABASE_URI=os.environ["BENCH_DATABASE_URL"],
                    UPLOAD_DIR=os.environ["BENCH_UPLOAD_DIR"], MAIL_BACKEND="log", SERVER_NAME=None,
                    TRUSTED_HOSTS=["127.0.0.1", "localhost"], RATELIMIT_ENABLED=False,
                    PAGE_CACHE_SECONDS=PAGE_CACHE_SECONDS, CACHE_KEY_PREFIX=os.environ["BENCH_CACHE_PREFIX"],
                    FX_DISPLAY_CACHE_SECONDS=300,  # production's default (TestConfig has 0)
                    **cache_settings())
    return create_app(type("BenchServeConfig", (TestConfig,), settings))


def cache_settings() -> dict:
    """The page cache as production has it (Redis, shared by the workers) when Redis answers, else memory."""
    url = os.environ.get("BENCH_REDIS_URL", REDIS_URL)
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        return {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": url}
    except Exception:  # noqa: BLE001
        return {"CACHE_TYPE": "SimpleCache"}


def drop_cache_keys(prefix: str) -> None:
    try:
        import redis

        client = redis.Redis.from_url(os.environ.get("BENCH_REDIS_URL", REDIS_URL), socket_connect_timeout=1)
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)
    except Exception:  # noqa: BLE001 - no Redis, nothing to drop
        pass


FLOOR_TEMPLATE = "<!doctype html><title>{{ title }}</title><p>{{ title }}</p>"


def floor_app():
    """The floor: one primary-key query on the same database, a one-line template."""
    from flask import Flask, render_template_string
    from sqlalchemy import create_engine, text

    app = Flask("floor")
    engine = create_engine(os.environ["BENCH_DATABASE_URL"], pool_pre_ping=True)
    query = text("SELECT title FROM campaigns WHERE id = :id")

    @app.get("/")
    def index():
        with engine.connect() as conn:
            title = conn.execute(query, {"id": 1}).scalar_one()
        return render_template_string(FLOOR_TEMPLATE, title=title)

    return app


# -- processes -------------------------------------------------------------------------------------
class Processes:
    """Every process started here, each in a group of its own, stopped by stop_all()."""

    def __init__(self):
        self.started: list[subprocess.Popen] = []

    def start(self, argv: list[str], env: dict, log) -> subprocess.Popen:
        process = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log,
                                   start_new_session=True)
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 15
        for process in self.started:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(processes: Processes, target: str, env: dict, log) -> str:
    port = free_port()
    argv = [str(GUNICORN), "-c", str(ROOT / "gunicorn.conf.py"), "--workers", str(WORKERS),
            "--bind", f"127.0.0.1:{port}", "--no-control-socket", "--pythonpath", f"{ROOT},{BENCH}", target]
    process = processes.start(argv, env, log)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn {target} exited with status {process.returncode} (see its log)")
        try:
            with urllib.request.urlopen(base + "/", timeout=2):
                return base
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"gunicorn {target} did not answer within 60 s")


# -- load ------------------------------------------------------------------------------------------
def ensure_wrk() -> str | None:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: apt-get install -y wrk", flush=True)
    installed = subprocess.run(["apt-get", "install", "-y", "wrk"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL).returncode == 0
    return shutil.which("wrk") if installed else None


def run_wrk(wrk: str, url: str, headers: dict, seconds: float, connections: int) -> float:
    argv = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    out = subprocess.run(argv + [url], capture_output=True, text=True, timeout=seconds + 30).stdout
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad:
        raise RuntimeError(f"{url}: {bad.group(1)} responses were not 2xx/3xx")
    errors = re.search(r"Socket errors: .*", out)
    if errors:
        print(f"    ({url}: {errors.group(0)})", flush=True)
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def run_python(url: str, headers: dict, seconds: float, connections: int) -> float:
    """A bounded keep-alive load generator: `connections` threads, each with one HTTP/1.1 connection."""
    host, port = url.split("//")[1].split("/")[0].split(":")
    path = "/" + url.split("//")[1].split("/", 1)[1] if url.count("/") > 2 else "/"
    counts, failures, stop_at = [0] * connections, [], time.monotonic() + seconds

    def worker(i):
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            while time.monotonic() < stop_at:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    failures.append(response.status)
                    return
                counts[i] += 1
        finally:
            conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 30)
    if failures:
        raise RuntimeError(f"{url}: answered {failures[0]}")
    return sum(counts) / (time.monotonic() - started)


# -- the database ----------------------------------------------------------------------------------
def pg_schema(server_url: str):
    """A schema of our own in the test database: (its URL, a function that drops it)."""
    from sqlalchemy import create_engine, make_url, text

    schema = f"bench_serve_{secrets.token_hex(4)}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(server_url).update_query_dict({"options": f"-csearch_path={schema}"})

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()

    return url.render_as_string(hide_password=False), schema, drop


def seed_member() -> None:
    from webapp.accounts.models import User
    from webapp.clock import utcnow
    from webapp.extensions import db

    member = User(email=MEMBER_EMAIL, name="Bench Member", locale="en", email_verified_at=utcnow())
    member.set_password(MEMBER_PASSWORD)
    db.session.add(member)
    db.session.commit()


def signed_in_cookie(client) -> str:
    """Sign the member in through the login form; the session cookie, valid in the gunicorn workers too."""
    response = client.post("/account/login", data={"email": MEMBER_EMAIL, "password": MEMBER_PASSWORD})
    assert response.status_code == 302, ("login", response.status_code)
    cookie = client.get_cookie("session")
    assert cookie is not None, "no session cookie after signing in"
    return f"session={cookie.value}"


#: what a page costs in SQL statements, in three situations (the first is the goal's; the others are shown)
SITUATIONS = ("after a pledge", "from the cache", "cold")


def a_pledge_changes(app) -> None:
    """What a pledge confirmed does to the cache, through the ORM as the app writes it: one of the campaign's
    pledges changes (its message), which changes the campaign's money (webapp.pagecache), not its record."""
    from sqlalchemy import select

    from webapp.campaigns.models import Campaign
    from webapp.extensions import db
    from webapp.payments.models import Pledge

    with app.app_context():
        pledge = db.session.scalars(select(Pledge).join(Campaign).where(Campaign.slug == SLUG)).first()
        pledge.message = f"Courage ({secrets.token_hex(3)})"
        db.session.commit()


def sql_counts(app, counter, client, cookie: str, show: bool = False) -> dict:
    """{page: {situation: statements}}: served from the cache; re-rendered after a pledge (the page's money
    changed: the surge); re-rendered with the cache emptied (what a page costs once its record changed too)."""
    pages = {"home, anonymous": ("/", {}), "campaign, anonymous": (f"/campaigns/{SLUG}", {}),
             "campaign, signed in": (f"/campaigns/{SLUG}", {"Cookie": cookie})}
    from sqlalchemy import event

    from webapp.extensions import cache, db

    counts = {}
    for name, (path, extra) in pages.items():
        headers = {**VISITOR, **extra}
        anonymous = app.test_client(use_cookies=False)  # only the cookie given in the headers

        def get():
            response = anonymous.get(path, headers=headers)
            assert response.status_code == 200, (name, response.status_code)
            if "Cookie" in headers:
                assert b"Sign out" in response.data, "the signed-in page is not signed in"
            return response

        get()  # warm: first-request work is not the page's own
        counts[name] = {}
        for situation in SITUATIONS:
            if situation == "cold":
                with app.app_context():
                    cache.clear()
            elif situation == "after a pledge":
                a_pledge_changes(app)
            else:
                get()
            seen = []

            def note(conn, cursor, statement, parameters, context, executemany):
                seen.append(" ".join(statement.split())[:160])

            with app.app_context():
                event.listen(db.engine, "before_cursor_execute", note)
            try:
                counts[name][situation] = counter.during(get)
            finally:
                with app.app_context():
                    event.remove(db.engine, "before_cursor_execute", note)
            if show:
                print(f"  {name}, {situation}:")
                for number, statement in enumerate(seen, 1):
                    print(f"    {number:2}. {statement}")
    return counts


# -- one size --------------------------------------------------------------------------------------
def measure_size(args, size, bases, cookie, load) -> dict:
    floor_url = bases["floor"] + "/"
    pages = {"home, anonymous": (bases["app"] + "/", VISITOR),
             "campaign, anonymous": (bases["app"] + f"/campaigns/{SLUG}", VISITOR),
             "campaign, signed in": (bases["app"] + f"/campaigns/{SLUG}", {**VISITOR, "Cookie": cookie})}
    url, headers = pages["campaign, signed in"]
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
        assert b"Sign out" in response.read(), "the signed-in page is not signed in under gunicorn"
    floors, rates = [], {name: [] for name in pages}
    for url, headers in [(floor_url, {})] + list(pages.values()):  # warm every worker's caches
        load(url, headers, 1)
    for round_ in range(args.rounds):
        for name, (url, headers) in pages.items():
            floors.append(load(floor_url, {}, args.seconds))
            rates[name].append(load(url, headers, args.seconds))
        print(f"  {size:,} campaigns: round {round_ + 1}/{args.rounds} done", flush=True)
    return {"floor": statistics.median(floors), "rates": {k: statistics.median(v) for k, v in rates.items()}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--campaigns", type=int, action="append",
                        help="live campaigns to seed; repeat for several sizes (default: 10 and 10,000)")
    parser.add_argument("--sqlite", action="store_true", help="a scratch SQLite file instead of PostgreSQL")
    parser.add_argument("--seconds", type=int, default=3, help="length of one load run (default 3)")
    parser.add_argument("--rounds", type=int, default=3, help="floor/page pairs per page (default 3)")
    parser.add_argument("--connections", type=int, default=4, help="open connections (default 4)")
    parser.add_argument("--python-load", action="store_true", help="the Python load generator, not wrk")
    parser.add_argument("--show-sql", action="store_true", help="print each statement of a page on a miss")
    parser.add_argument("--sql-only", action="store_true", help="count (and with --show-sql print) the "
                        "statements; start no server")
    args = parser.parse_args()
    sizes = sorted(set(args.campaigns or [10, 10_000]))
    if sizes[0] < 1 or args.seconds <= 0 or args.rounds < 1 or args.connections < 1:
        parser.error("sizes, --seconds, --rounds and --connections must be positive")
    os.environ.setdefault("HARAMBEE_ENV", "test")

    wrk = None if args.python_load else ensure_wrk()
    if wrk:
        def load(url, headers, seconds):
            return run_wrk(wrk, url, headers, seconds, args.connections)
        generator = f"wrk, 1 thread, {args.connections} connections"
    else:
        def load(url, headers, seconds):
            return run_python(url, headers, seconds, args.connections)
        generator = f"Python threads, {args.connections} keep-alive connections"

    processes = Processes()
    cleanups = []
    scratch = tempfile.mkdtemp(prefix="bench-serve-")
    cleanups.append(lambda: shutil.rmtree(scratch, ignore_errors=True))
    results = []
    try:
        if args.sqlite:
            database_url, where = f"sqlite:///{Path(scratch) / 'bench.sqlite3'}", "SQLite (scratch file)"
        else:
            env_url = os.environ.get("TEST_DATABASE_URL", "")
            database_url, schema, drop = pg_schema(env_url if env_url.startswith("postgresql") else DEFAULT_PG)
            cleanups.insert(0, drop)
            where = f"PostgreSQL (schema {schema}, dropped at the end)"
        print(f"Harambee under gunicorn: {where}; gunicorn.conf.py with {WORKERS} sync workers per server; "
              f"load: {generator}; {args.rounds} interleaved floor/page runs of {args.seconds:g} s per page; "
              f"{os.cpu_count()} CPU cores shared by the servers, the load generator and the database.",
              flush=True)

        import pages  # bench/pages.py: the same bulk seeding (tiers, paid pledges, several currencies)
        from webapp.extensions import db

        upload_dir = Path(scratch) / "uploads"
        upload_dir.mkdir()
        prefix = f"bench-serve-{secrets.token_hex(4)}:"
        cleanups.append(lambda: drop_cache_keys(prefix))
        env = {**os.environ, "BENCH_DATABASE_URL": database_url, "BENCH_UPLOAD_DIR": str(upload_dir),
               "BENCH_CACHE_PREFIX": prefix}
        os.environ.update(BENCH_DATABASE_URL=database_url, BENCH_UPLOAD_DIR=str(upload_dir),
                          BENCH_CACHE_PREFIX=prefix)
        print(f"Page cache: {cache_settings()['CACHE_TYPE']}, entries fresh {PAGE_CACHE_SECONDS} s; SQL is counted "
              "after a pledge, from the cache and cold (the cache emptied)", flush=True)
        app = bench_app()
        with app.app_context():
            db.create_all()
            counter = pages.QueryCounter(db.engine)
            owner_id = pages.seed_base()
            seed_member()
        client = app.test_client()
        cookie = signed_in_cookie(client)
        log = open(Path(scratch) / "gunicorn.log", "w")
        cleanups.insert(0, log.close)
        seeded, bases = 0, {}
        for size in sizes:
            started = time.perf_counter()
            with app.app_context():
                pages.seed(seeded, size, owner_id)
            seeded = size
            print(f"  seeded {size:,} live campaigns ({time.perf_counter() - started:.1f} s)", flush=True)
            counts = sql_counts(app, counter, client, cookie, args.show_sql)
            if args.sql_only:
                print(f"  SQL statements: {counts}", flush=True)
                results.append({"size": size, "sql": counts})
                continue
            if not bases:  # started once the first campaign exists (the floor reads campaign 1)
                bases = {"app": serve(processes, "serve:bench_app()", env, log),
                         "floor": serve(processes, "serve:floor_app()", env, log)}
            results.append({"size": size, "sql": counts, **measure_size(args, size, bases, cookie, load)})
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    except Exception as exc:
        print(f"\nFAILED: {exc!r}")
        log_file = Path(scratch) / "gunicorn.log"
        if log_file.exists():
            print("gunicorn's log, last lines:\n" + "\n".join(log_file.read_text().splitlines()[-20:]))
        return 1
    finally:
        processes.stop_all()
        for cleanup in cleanups:
            cleanup()

    if args.sql_only:
        print_sql_by_size(results)
    else:
        print_report(results)
    return 0


def print_report(results: list[dict]) -> None:
    first = SITUATIONS[0]
    for result in results:
        print(f"\n{result['size']:,} live campaigns — floor page: {result['floor']:,.0f} requests/s (median)")
        print(f"  {'page':22}{'requests/s':>12}{'/ floor':>10}{'goal':>8}{'':3}   SQL {first} (goal ≤ {SQL_GOAL}),"
              f" {', '.join(SITUATIONS[1:])}")
        for name, goal in GOALS.items():
            rps, sql = result["rates"][name], result["sql"][name]
            ratio = rps / result["floor"]
            print(f"  {name:22}{rps:>12,.0f}{ratio:>10.2f}{'≥ ' + format(goal, '.1f'):>8}"
                  f"{'ok' if ratio >= goal else 'NO':>3}   {sql[first]:>3} {'ok' if sql[first] <= SQL_GOAL else 'NO'}"
                  + "".join(f"{sql[s]:>6}" for s in SITUATIONS[1:]))
    print_sql_by_size(results)


def print_sql_by_size(results: list[dict]) -> None:
    if len(results) < 2:
        return
    print(f"\nSQL statements per page, by size (goal: constant, and ≤ {SQL_GOAL} {SITUATIONS[0]}):")
    for name in GOALS:
        for situation in SITUATIONS:
            counts = [r["sql"][name][situation] for r in results]
            steady = "constant" if len(set(counts)) == 1 else "GROWS"
            print(f"  {name:22}{situation:16}" + "  ".join(f"{r['size']:,}: {c}" for r, c in zip(results, counts))
                  + f"  ({steady})")


if __name__ == "__main__":
    sys.exit(main())
