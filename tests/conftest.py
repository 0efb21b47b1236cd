"""Fixtures for every test: the app and its database, a client, real SMTP, a live server and a browser.

Every test runs inside an app context with a test request context (so `url_for` works), and the
database is emptied after every test that used it, which is safe with several connections
(live server threads, background workers) where rolling back one transaction would not be.

The database is TEST_DATABASE_URL (SQLite in memory by default; `make test-pg` sets PostgreSQL,
where each run works in a schema of its own, created with the models and dropped at the end).
"""
from __future__ import annotations

import email
import email.policy
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from flask import Flask, url_for
from flask.globals import _cv_app
from flask.testing import FlaskClient
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, MetaData, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from config import TestConfig
from tests.factories import PASSWORD
from tests.worlds import is_superuser
from webapp.extensions import db

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI") == "true"
#: the database TEST_DATABASE_URL names (on PostgreSQL, without this run's schema). Kept in the environment
#: the first time: pytest-xdist's workers inherit TEST_DATABASE_URL from their controller, its schema included
BASE_DATABASE_URL = os.environ.setdefault("HARAMBEE_TEST_BASE_DATABASE_URL", TestConfig.SQLALCHEMY_DATABASE_URI)
ON_POSTGRES = BASE_DATABASE_URL.startswith("postgresql")


def _run_schema() -> str:
    host = re.sub(r"[^a-z0-9]", "", socket.gethostname().lower())[:16] or "host"
    return f"pytest_{host}_{os.getpid()}"


if ON_POSTGRES:
    # Each run gets a schema of its own in the test database, so that runs side by side (two
    # engineers, CI) never truncate or drop each other's tables. Every app the tests create,
    # and any subprocess, uses it through TestConfig and TEST_DATABASE_URL.
    RUN_SCHEMA = _run_schema()
    TEST_DATABASE_URL = (make_url(BASE_DATABASE_URL)
                         .update_query_dict({"options": f"-csearch_path={RUN_SCHEMA}"})
                         .render_as_string(hide_password=False))
    TestConfig.SQLALCHEMY_DATABASE_URI = TEST_DATABASE_URL
    os.environ["TEST_DATABASE_URL"] = TEST_DATABASE_URL
else:
    RUN_SCHEMA = None
    TEST_DATABASE_URL = BASE_DATABASE_URL
#: screenshots of this run (one folder per database, so `make test` keeps both runs')
ARTIFACTS = ROOT / "test-artifacts" / ("postgresql" if ON_POSTGRES else "sqlite")

# Tests touching the database run well under Hypothesis's 200 ms deadline only on a quiet machine.
hypothesis_settings.register_profile("harambee", deadline=None, print_blob=True)
hypothesis_settings.load_profile("harambee")


# --------------------------------------------------------------------------------------------
# Services: use them when present, skip loudly when absent, fail under CI=true.
# --------------------------------------------------------------------------------------------

_service_cache: dict[str, str | None] = {}


def require_service(name: str) -> str:
    """Return how to reach a local service ("redis", "postgresql", "chromium", "smtp").

    A missing service skips the calling test with a SKIPPED reason (listed by `-ra`), but fails it
    when CI=true, so that CI never passes by skipping. "postgresql" is the exception: on the
    SQLite run it skips even in CI, because the PostgreSQL run of `make test` covers it.
    """
    if name not in _service_cache:
        _service_cache[name] = _find_service(name)
    found = _service_cache[name]
    if found:
        return found
    if name in ("postgresql", "postgres"):
        pytest.skip("PostgreSQL only: this run's TEST_DATABASE_URL is not PostgreSQL")
    message = f"SERVICE UNAVAILABLE: {name} ({_SERVICE_HINTS.get(name, '')})"
    if IN_CI:
        pytest.fail(message + " — CI=true requires it", pytrace=False)
    pytest.skip("SKIPPED: " + message)


_SERVICE_HINTS = {
    "redis": "start it with scripts/ensure-services.sh; tests use HARAMBEE_REDIS_URL",
    "chromium": "apt-get install chromium (make test-deps does it)",
    "smtp": "aiosmtpd could not listen on 127.0.0.1",
}


def _find_service(name: str) -> str | None:
    if name in ("postgresql", "postgres"):
        return TEST_DATABASE_URL if ON_POSTGRES else None
    if name == "redis":
        # `make` exports an empty HARAMBEE_REDIS_URL when Redis is down; plain `pytest` tries the default.
        url = os.environ.get("HARAMBEE_REDIS_URL", "redis://127.0.0.1:6379/15")
        if not url:
            return None
        try:
            import redis

            redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
        except Exception:
            return None
        url = _claim_redis_database(url)
        os.environ["HARAMBEE_REDIS_URL"] = url  # for subprocesses
        return url
    if name == "chromium":
        return shutil.which("chromium")
    if name == "smtp":
        return "127.0.0.1"
    raise ValueError(f"unknown service {name!r}")


#: Redis databases a test run may claim (the highest first); claims are keys in database 0
_REDIS_DATABASES = range(15, 7, -1)
_REDIS_CLAIM = "harambee:pytest:redis-db:{}"
_redis_claimed: list[tuple[object, str]] = []


def _claim_redis_database(url: str) -> str:
    """A Redis database of this run's own, so that runs side by side never flush or consume
    each other's queues; the one HARAMBEE_REDIS_URL names when all eight are taken."""
    import redis

    parts = urlsplit(url)
    registry = redis.Redis.from_url(urlunsplit(parts._replace(path="/0")), socket_timeout=2)
    me = f"{socket.gethostname()}:{os.getpid()}"
    for number in _REDIS_DATABASES:
        key = _REDIS_CLAIM.format(number)
        owner = registry.get(key)
        if owner is not None:
            host, _, pid = owner.decode().rpartition(":")
            if host == socket.gethostname() and not _process_alive(pid):
                registry.delete(key)  # a run that ended without letting go
        if registry.set(key, me, nx=True, ex=6 * 3600):
            _redis_claimed.append((registry, key))
            return urlunsplit(parts._replace(path=f"/{number}"))
    return url


def pytest_unconfigure(config):
    for registry, key in _redis_claimed:
        try:
            registry.delete(key)
        except Exception:
            pass


@pytest.fixture(scope="session")
def redis_url() -> str:
    """Redis for tests: a database (8–15) this run has to itself; flush it before use if need be."""
    return require_service("redis")


def pytest_sessionstart(session):
    # no stale screenshot from an earlier run; with pytest-xdist only the controller clears them, once,
    # before its workers start (a worker's session would delete what the other had saved)
    if not hasattr(session.config, "workerinput"):
        shutil.rmtree(ARTIFACTS, ignore_errors=True)


def pytest_collection_modifyitems(config, items):
    if ON_POSTGRES:
        return
    skip = pytest.mark.skip(reason="PostgreSQL only (pg_only): runs in `make test-pg`")
    for item in items:
        if item.get_closest_marker("pg_only"):
            item.add_marker(skip)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the item so fixtures (the browser page) can tell a failure.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


# --------------------------------------------------------------------------------------------
# The app and its database
# --------------------------------------------------------------------------------------------

#: every app the tests started (the main one, the live server's); mail settings apply to all
_APPS: list[Flask] = []


class IsolatedClient(FlaskClient):
    """A test client whose every request starts with an empty `g`, as in production.

    Requests share the test's app context, hence its db.session: data a test flushed is what the
    view sees. But extensions cache per-request state in `g` (Flask-Login's user, Flask-Babel's
    locale), which must not leak from one request into the next or into the test.
    """

    def open(self, *args, **kwargs):
        app_ctx = _cv_app.get(None)
        if app_ctx is None or app_ctx.app is not self.application:
            return super().open(*args, **kwargs)
        saved = dict(app_ctx.g.__dict__)
        app_ctx.g.__dict__.clear()
        try:
            return super().open(*args, **kwargs)
        finally:
            app_ctx.g.__dict__.clear()
            app_ctx.g.__dict__.update(saved)


def make_app(**settings) -> Flask:
    """An app on TestConfig with some settings replaced (read when the app is created)."""
    from webapp import create_app

    config = type("TestRunConfig", (TestConfig,), settings)
    app = create_app(config)
    app.test_client_class = IsolatedClient
    return app


@pytest.fixture(scope="session")
def app(tmp_path_factory) -> Iterator[Flask]:
    """The app under test, its tables created once (db.create_all) on TEST_DATABASE_URL."""
    if ON_POSTGRES:
        _create_run_schema()
    app = make_app(UPLOAD_DIR=str(tmp_path_factory.mktemp("uploads")))
    with app.app_context():
        db.create_all()
    _APPS.append(app)
    yield app
    _APPS.remove(app)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if ON_POSTGRES:
        _drop_schemas([RUN_SCHEMA])


def _create_run_schema() -> None:
    """Create this run's schema, after dropping those of runs on this host that have ended."""
    prefix = RUN_SCHEMA.rsplit("_", 1)[0] + "_"
    with _server_engine().connect() as conn:
        names = conn.execute(text("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, :p)"),
                             {"p": prefix}).scalars().all()
    ended = [name for name in names if name == RUN_SCHEMA or not _process_alive(name.rsplit("_", 1)[1])]
    _drop_schemas(ended)
    with _server_engine().connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{RUN_SCHEMA}"')


def _drop_schemas(names) -> None:
    with _server_engine().connect() as conn:
        for name in names:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def _server_engine() -> Engine:
    return create_engine(BASE_DATABASE_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)


def _process_alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


@pytest.fixture(autouse=True)
def _app_context(request) -> Iterator[Flask | None]:
    """Each test runs in its own app context and test request context; afterwards, empty the tables."""
    if request.node.get_closest_marker("no_app"):
        yield None
        return
    app = request.getfixturevalue("app")
    with app.test_request_context():
        try:
            yield app
        finally:
            db.session.remove()
            empty_database(db.engine)
            _reset_rate_limits()


@pytest.fixture
def db_session():
    """The session of the test's app context (the one factories and, through the client, views use)."""
    return db.session


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def login() -> Callable[..., object]:
    """`login(client, user, password=PASSWORD)`: sign in through the login form; returns the response."""

    def _login(client: FlaskClient, user, password: str = PASSWORD, *, remember: bool = False):
        data = {"email": user.email, "password": password}
        if remember:
            data["remember"] = "y"
        response = client.post(url_for("accounts.login"), data=data)
        assert response.status_code == 302, (
            f"login as {user.email} answered {response.status_code}, not a redirect"
        )
        return response

    return _login


_sequences: dict[str, list[tuple[str, str]]] = {}


def empty_database(engine: Engine, metadata: MetaData | None = None) -> None:
    """Delete every row of every model table; on PostgreSQL also restart the id sequences that moved.

    One query first asks which tables hold rows (most tests leave a handful, many none), then only
    those are emptied. On PostgreSQL, as the superuser the tests connect as, the DELETEs run with
    `session_replication_role = replica`: no trigger fires, so neither the foreign keys' checks nor the
    ledger's append-only guard (which would otherwise need a TRUNCATE, ~25 times dearer on small
    tables) — emptying the whole database is the one thing those triggers must not stop here. Without
    the superuser, append-only tables are TRUNCATEd. TRUNCATE ... RESTART IDENTITY CASCADE remains the
    fallback when DELETE cannot do it. A lock held by a connection left open fails after 10 s instead
    of hanging the run.
    """
    metadata = metadata or db.metadata
    tables = list(reversed(metadata.sorted_tables))
    if not tables:
        return
    postgres = engine.dialect.name == "postgresql"
    probe = " UNION ALL ".join(f'SELECT {i} WHERE EXISTS (SELECT 1 FROM "{table.name}")'
                               for i, table in enumerate(tables))
    try:
        with engine.begin() as conn:
            if postgres:
                conn.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
            filled = [tables[i] for (i,) in conn.exec_driver_sql(probe).all()]
            if postgres:
                _empty_postgres(engine, conn, tables, filled)
            else:
                for table in filled:
                    conn.execute(table.delete())
    except Exception as exc:
        if not postgres or "lock timeout" in str(exc):
            raise RuntimeError(
                "could not empty the test database: is a session or connection still open "
                "(a thread, a live-server request, a worker)?"
            ) from exc
        names = ", ".join(f'"{table.name}"' for table in tables)
        with engine.begin() as conn:
            conn.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


def _empty_postgres(engine: Engine, conn, tables, filled) -> None:
    if filled:
        if is_superuser(conn):
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            conn.exec_driver_sql("; ".join(f'DELETE FROM "{table.name}"' for table in filled))
        else:  # append-only tables refuse DELETE, by trigger: TRUNCATE them instead
            append_only = [table.name for table in filled if table.info.get("append_only")]
            if append_only:
                conn.exec_driver_sql("TRUNCATE " + ", ".join(f'"{name}"' for name in append_only))
            deletes = [table.name for table in filled if not table.info.get("append_only")]
            if deletes:
                conn.exec_driver_sql("; ".join(f'DELETE FROM "{name}"' for name in deletes))
    # pg_sequences.last_value is NULL for a sequence not used since it was (re)started
    sequences = dict(_sequences_of(engine, conn, tables))
    moved = conn.exec_driver_sql(
        "SELECT schemaname || '.' || sequencename FROM pg_sequences "
        "WHERE schemaname = current_schema() AND last_value IS NOT NULL").scalars().all()
    restart = [name for name in moved if name in sequences]
    if restart:
        conn.exec_driver_sql("SELECT " + ", ".join(f"setval('{sequences[name]}', 1, false)" for name in restart))


def _sequences_of(engine: Engine, conn, tables) -> list[tuple[str, str]]:
    """(schema.name as pg_sequences spells it, the name pg_get_serial_sequence gives) of each id sequence."""
    key = str(engine.url) + "|" + ",".join(table.name for table in tables)
    if key not in _sequences:
        found = []
        for table in tables:
            for column in table.primary_key.columns:
                seq = conn.execute(
                    text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column.name}
                ).scalar()
                if seq:
                    plain = conn.execute(text("SELECT n.nspname || '.' || c.relname FROM pg_class c "
                                              "JOIN pg_namespace n ON n.oid = c.relnamespace "
                                              "WHERE c.oid = CAST(:s AS regclass)"), {"s": seq}).scalar()
                    found.append((plain, seq))
        _sequences[key] = found
    return _sequences[key]


def _reset_rate_limits() -> None:
    from webapp.extensions import limiter

    try:
        limiter.reset()
    except Exception:  # a storage that cannot reset just keeps its counters
        pass


# --------------------------------------------------------------------------------------------
# Mail: a real SMTP server on 127.0.0.1
# --------------------------------------------------------------------------------------------


@dataclass
class SMTPServer:
    """What an aiosmtpd server on 127.0.0.1 received, parsed with the modern email API."""

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    #: (MAIL FROM, [RCPT TO, ...]) for each message, in order
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    _lock: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        message = email.message_from_bytes(envelope.original_content or envelope.content,
                                           policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self._lock.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[EmailMessage]:
        """Wait until at least `count` messages arrived (for mail sent from another thread)."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self.messages) >= count, timeout):
                raise AssertionError(f"expected {count} email(s) within {timeout}s, got {len(self.messages)}")
            return list(self.messages)

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.envelopes.clear()

    @staticmethod
    def text_of(message: EmailMessage) -> str:
        """The plain-text body of a message."""
        return message.get_body(("plain",)).get_content()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def _smtp_controller() -> Iterator[SMTPServer]:
    from aiosmtpd.controller import Controller

    server = SMTPServer(host="127.0.0.1", port=free_port())
    controller = Controller(server, hostname=server.host, port=server.port, enable_SMTPUTF8=True)
    try:
        controller.start()
    except Exception:
        _service_cache["smtp"] = None
        require_service("smtp")
    yield server
    controller.stop()


@pytest.fixture
def smtp_server(_smtp_controller) -> Iterator[SMTPServer]:
    """Send this test's mail over SMTP to a local server; `smtp_server.messages` holds what arrived.

    Applies to the app under test and to the live server. Mail goes out when the transaction
    commits (webapp.mail), so commit before looking.
    """
    _smtp_controller.clear()
    keys = ("MAIL_BACKEND", "MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS", "MAIL_USERNAME")
    saved = [(app, {key: app.config.get(key) for key in keys}) for app in _APPS]
    for app in _APPS:
        app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER=_smtp_controller.host,
                          MAIL_PORT=_smtp_controller.port, MAIL_USE_TLS=False, MAIL_USERNAME=None)
    yield _smtp_controller
    for app, values in saved:
        app.config.update(values)
    _smtp_controller.clear()


@pytest.fixture
def mail_outbox(smtp_server) -> list[EmailMessage]:
    """The list of messages the local SMTP server received during this test."""
    return smtp_server.messages


# --------------------------------------------------------------------------------------------
# Live server and browser
# --------------------------------------------------------------------------------------------


@dataclass
class LiveServer:
    app: Flask
    host: str
    port: int
    database_url: str

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url_for(self, endpoint: str, **values) -> str:
        """An absolute URL on the live server."""
        with self.app.test_request_context():
            return url_for(endpoint, _external=True, **values)


@pytest.fixture(scope="session")
def _live_server(app, tmp_path_factory) -> Iterator[LiveServer]:
    from werkzeug.serving import make_server

    if ON_POSTGRES:
        database_url = TEST_DATABASE_URL  # the schema is the `app` fixture's
    else:
        # SQLite in memory cannot be shared with server threads safely: a file, in WAL mode.
        database_url = f"sqlite:///{tmp_path_factory.mktemp('live') / 'live.sqlite3'}"
    live_app = make_app(
        SQLALCHEMY_DATABASE_URI=database_url,
        UPLOAD_DIR=str(tmp_path_factory.mktemp("live-uploads")),
        WTF_CSRF_ENABLED=True,  # a browser submits real forms, tokens included
        SERVER_NAME=None,
    )
    with live_app.app_context():
        if not ON_POSTGRES:
            with db.engine.begin() as conn:
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
            db.create_all()
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    live_app.config["SERVER_NAME"] = f"127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    _APPS.append(live_app)
    yield LiveServer(app=live_app, host="127.0.0.1", port=server.server_port, database_url=database_url)
    _APPS.remove(live_app)
    server.shutdown()
    thread.join(timeout=5)
    with live_app.app_context():
        db.engine.dispose()


@pytest.fixture
def live_server(_live_server) -> Iterator[LiveServer]:
    """The app served over HTTP on 127.0.0.1 by a thread, for the browser.

    It is a second app with its own engine: on PostgreSQL the same test database, on SQLite a
    file of its own. Put data there inside `with live_server.app.app_context():` and commit it;
    the tables are emptied after the test. CSRF protection is on, as in production.
    """
    yield _live_server
    with _live_server.app.app_context():
        db.session.remove()
        if not ON_POSTGRES:  # on PostgreSQL the per-test cleanup empties the shared database
            empty_database(db.engine)
    _reset_rate_limits()


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright (never a downloaded browser)."""
    executable = require_service("chromium")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
    except Exception:
        playwright.stop()
        raise
    yield browser
    browser.close()
    playwright.stop()


def _artifact_name(request) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.removeprefix("tests/"))[:150]


@pytest.fixture
def page(browser, live_server, request):
    """A fresh browser tab (own cookies) whose relative URLs go to the live server.

    Its last state is saved to test-artifacts/<test>.png (…-FAILED.png when the test failed).
    """
    context = browser.new_context(base_url=live_server.url, locale="en-US",
                                  viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    # what the Content-Security-Policy blocked (an inline script, a style= attribute): fails the test
    blocked: list[str] = []
    tab.on("console", lambda message: blocked.append(message.text)
           if "Content Security Policy" in message.text else None)
    yield tab
    failed = any(getattr(getattr(request.node, f"report_{when}", None), "failed", False)
                 for when in ("setup", "call"))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    suffix = "-FAILED" if failed else ""
    try:
        tab.screenshot(path=str(ARTIFACTS / f"{_artifact_name(request)}{suffix}.png"), full_page=True)
    except Exception:  # a screenshot must not hide the test's own outcome
        pass
    context.close()
    assert not blocked, f"the page broke the Content-Security-Policy: {blocked}"


@pytest.fixture
def screenshot(page, request) -> Callable[[str], Path]:
    """`screenshot("signed-in")` saves the page to test-artifacts/<test>/NN-signed-in.png."""
    counter = iter(range(1, 100))
    folder = ARTIFACTS / _artifact_name(request)

    def _take(name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{next(counter):02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _take


def wait_until(predicate: Callable[[], object], timeout: float = 5.0, interval: float = 0.05):
    """Poll `predicate` until it returns something truthy (for work done by another thread)."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(interval)


@pytest.fixture
def signed_in(app):
    """`signed_in(user)`: a test client with `user` signed in (the data committed first)."""
    from tests.campaigns.helpers import sign_in

    def _client(user):
        db.session.commit()
        client = app.test_client()
        sign_in(client, user)
        return client

    return _client
