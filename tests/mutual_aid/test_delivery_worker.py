"""Delivery by real Celery workers on the local Redis: every call once per channel, even across a SIGKILL.

Each test starts `celery -A tests.mutual_aid.worker_app worker` as a subprocess on Redis database
15, sharing the test's database (PostgreSQL's test schema, or a SQLite file in WAL mode) and
sending mail to the test's aiosmtpd server, which counts what arrives.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import ON_POSTGRES, ROOT, TEST_DATABASE_URL, make_app, wait_until
from tests.factories import OrganizationFactory
from tests.mutual_aid.conftest import draft, member
from webapp import jobs
from webapp.accounts.models import Role
from webapp.extensions import db
from webapp.mutual_aid import tasks
from webapp.mutual_aid.models import CallDelivery, CallState, Channel, DeliveryState, Notification, SolidarityCall
from webapp.mutual_aid.services import calls, events

pytestmark = pytest.mark.celery
QUEUE = "harambee"


class Worker:
    """A Celery worker process (solo pool: one process, so SIGKILL kills the whole worker)."""

    def __init__(self, name: str, env: dict[str, str]):
        self.name, self.lines = name, []
        self.ready = threading.Event()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tests.mutual_aid.worker_app", "worker", "--pool=solo",
             "-Q", QUEUE, "-n", f"{name}@%h", "--loglevel=INFO", "--without-gossip", "--without-mingle",
             "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())
            if " ready." in line:
                self.ready.set()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not self.ready.wait(0.1) and time.monotonic() < deadline and self.proc.poll() is None:
            pass
        if not self.ready.is_set():
            raise AssertionError(f"worker {self.name} did not start:\n" + "\n".join(self.lines[-40:]))

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def delivery(app, redis_url, smtp_server, tmp_path):
    """An app that enqueues on Redis, the shared database, and a way to start workers.

    Other test runs use Redis database 15 at the same time (their own workers on the same queue
    name): every key of this test, queues and unacknowledged tasks included, gets a prefix of its
    own (kombu's global_keyprefix), so no other worker takes our tasks and nobody flushes them.
    """
    import redis

    broker = redis.Redis.from_url(redis_url)
    prefix = f"aid-test-{os.getpid()}-{uuid.uuid4().hex[:8]}:"
    url = TEST_DATABASE_URL if ON_POSTGRES else f"sqlite:///{tmp_path / 'delivery.sqlite3'}"
    aid_app = make_app(SQLALCHEMY_DATABASE_URI=url, CELERY_BROKER_URL=redis_url)
    use_prefix(prefix)
    with aid_app.app_context():
        if not ON_POSTGRES:
            with db.engine.begin() as conn:
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
            db.create_all()
    sms_file = tmp_path / "sms.txt"
    sms_file.touch()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HARAMBEE_ENV": "test", "TEST_DATABASE_URL": url,
           "CELERY_BROKER_URL": redis_url, "AID_SMTP_PORT": str(smtp_server.port), "AID_SMS_FILE": str(sms_file),
           "CELERY_VISIBILITY_TIMEOUT": "1", "AID_REDIS_PREFIX": prefix,
           "MUTUAL_AID_RATE_KEY_PREFIX": prefix + "rate:"}
    workers: list[Worker] = []

    def start(name: str, **settings) -> Worker:
        worker = Worker(name, {**env, **{k: str(v) for k, v in settings.items()}})
        workers.append(worker)
        worker.wait_ready()
        return worker

    def unacked() -> int:
        return broker.hlen(prefix + "unacked")

    def idle(timeout: float = 60) -> None:
        """Wait until Redis holds no queued and no unacknowledged task of this test."""
        assert wait_until(lambda: broker.llen(prefix + QUEUE) == 0 and unacked() == 0, timeout, 0.1), \
            "tasks still queued or running"

    ctx = aid_app.app_context()
    ctx.push()
    try:
        yield type("Delivery", (), {"app": aid_app, "start": staticmethod(start), "idle": staticmethod(idle),
                                    "unacked": staticmethod(unacked), "sms_file": sms_file})
    finally:
        for worker in workers:
            worker.stop()
            print(f"--- worker {worker.name} ---", *worker.lines[-80:], sep="\n")  # shown when a test fails
        db.session.remove()
        db.engine.dispose()
        ctx.pop()
        jobs.init_celery(app)  # back to in-process tasks for the other tests
        use_prefix(None)
        for key in broker.scan_iter(match=prefix + "*"):
            broker.delete(key)


def use_prefix(prefix: str | None) -> None:
    options = dict(jobs.celery.conf.broker_transport_options or {})
    options.pop("global_keyprefix", None)
    if prefix:
        options["global_keyprefix"] = prefix
    jobs.celery.conf.broker_transport_options = options


def send(task, *args) -> None:
    """Enqueue on a fresh connection: the app's pool keeps the transport options of its first use."""
    with jobs.celery.connection_for_write() as connection:
        task.apply_async(args, connection=connection)


def seed(near: int, diaspora: int, sms_every: int = 0):
    coordinator = member("coordinator@example.org", region="FR-IDF", role=Role.COORDINATOR)
    org = OrganizationFactory(country="BJ")
    members = []
    for i in range(near):
        user = member(f"near{i}@example.org", region="BJ-LI")
        if sms_every and i % sms_every == 0:
            calls.set_preferences(user, email=True, sms=True, sms_number=f"+2299700{i:04d}")
        members.append(user)
    members += [member(f"diaspora{i}@example.org", region="FR-ARA", origins=("BJ-AQ",)) for i in range(diaspora)]
    event = events.create_event(coordinator, draft(org.id))
    events.activate(event, coordinator)
    db.session.commit()
    return event, [m.email for m in members]


def sms_lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line]


def test_a_real_worker_delivers_every_call_once_on_every_channel_and_a_rerun_sends_nothing(delivery, smtp_server):
    event, emails = seed(near=15, diaspora=10, sms_every=3)
    delivery.start("w1")
    send(tasks.dispatch_calls, event.id)
    received = smtp_server.wait_for(25, timeout=30)
    delivery.idle()
    assert sorted(m["To"] for m in received) == sorted(emails)
    assert len(sms_lines(delivery.sms_file)) == 5
    # a rerun of the dispatch, a redelivered batch, the periodic sweep: nothing more goes out
    ids = db.session.scalars(select(CallDelivery.id).where(CallDelivery.channel == Channel.EMAIL)).all()
    send(tasks.dispatch_calls, event.id)
    send(tasks.deliver_batch, "email", ids)
    send(tasks.deliver_batch, "sms", db.session.scalars(select(CallDelivery.id)
                                                       .where(CallDelivery.channel == Channel.SMS)).all())
    send(tasks.resume_deliveries)
    delivery.idle()
    time.sleep(0.3)
    assert len(smtp_server.messages) == 25 and len(sms_lines(delivery.sms_file)) == 5
    db.session.expire_all()
    states = db.session.execute(select(CallDelivery.channel, CallDelivery.state, CallDelivery.attempts,
                                       func.count()).group_by(CallDelivery.channel, CallDelivery.state,
                                                              CallDelivery.attempts)).all()
    assert sorted((c.value, s.value, a, n) for c, s, a, n in states) == [
        ("email", "sent", 1, 25), ("inapp", "sent", 1, 25), ("sms", "sent", 1, 5)]
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 25
    assert set(db.session.scalars(select(SolidarityCall.state))) == {CallState.SENT}


def test_a_worker_killed_mid_batch_then_a_new_one_sends_every_call_exactly_once(delivery, smtp_server):
    """SIGKILL while the worker waits for its next send token; the batch comes back to the next worker.

    Emails go out at 2 a second (a token bucket in Redis), so the worker spends most of the batch
    waiting: killed 250 ms after the 10th message arrived (half-way to its next token; a loaded machine,
    both test passes side by side, made the 120 ms of 4 a second too tight), it is between two sends,
    having committed the 10th as sent. The batch was never acknowledged (acks_late), so Redis gives it
    to the next worker once its visibility timeout (1 s here) has passed; that worker's claims skip
    the ten already sent.
    """
    event, emails = seed(near=24, diaspora=0)
    first = delivery.start("doomed", MUTUAL_AID_EMAIL_PER_SECOND=2)
    send(tasks.dispatch_calls, event.id)
    smtp_server.wait_for(10, timeout=30)
    time.sleep(0.25)
    first.kill()
    sent_before = len(smtp_server.messages)
    assert sent_before < 24, "the worker finished before it could be killed"
    db.session.expire_all()
    in_db = dict(db.session.execute(select(CallDelivery.state, func.count()).where(
        CallDelivery.channel == Channel.EMAIL).group_by(CallDelivery.state)).all())
    assert in_db.get(DeliveryState.SENT) == sent_before and DeliveryState.SENDING not in in_db
    assert delivery.unacked() == 1  # the email batch, taken and never acknowledged

    time.sleep(1.2)  # past the visibility timeout
    delivery.start("rescuer", MUTUAL_AID_EMAIL_PER_SECOND=4)
    received = smtp_server.wait_for(24, timeout=30)
    delivery.idle()
    send(tasks.resume_deliveries)
    delivery.idle()
    time.sleep(0.3)
    assert len(smtp_server.messages) == 24
    assert sorted(m["To"] for m in received) == sorted(emails)
    assert len({m["X-Harambee-Call"] for m in received}) == 24
    db.session.expire_all()
    rows = db.session.execute(select(CallDelivery.state, CallDelivery.attempts)
                              .where(CallDelivery.channel == Channel.EMAIL)).all()
    assert set(rows) == {(DeliveryState.SENT, 1)}  # nobody was even attempted twice
