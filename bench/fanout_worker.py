"""Celery entry point for bench/fanout.py: `celery -A bench.fanout_worker worker`.

The development settings with the bench's database, broker and SMTP sink from the environment;
it counts the SQL statements it runs and writes them, with its peak memory, to
$BENCH_STATS_DIR/<pid>.json when it shuts down.
"""
from __future__ import annotations

import json
import os
import resource

from celery.signals import worker_shutdown
from sqlalchemy import event

from config import DevelopmentConfig
from webapp import create_app
from webapp.extensions import db

SETTINGS = {
    "SQLALCHEMY_DATABASE_URI": os.environ["BENCH_DATABASE_URL"],
    "CELERY_BROKER_URL": os.environ["CELERY_BROKER_URL"],
    "MAIL_BACKEND": "smtp",
    "MAIL_SERVER": "127.0.0.1",
    "MAIL_PORT": int(os.environ["BENCH_SMTP_PORT"]),
    "TESTING": False,
}

flask_app = create_app(type("FanoutBenchConfig", (DevelopmentConfig,), SETTINGS))
app = celery = flask_app.extensions["celery"]
if os.environ.get("BENCH_REDIS_PREFIX"):
    celery.conf.broker_transport_options = {**celery.conf.broker_transport_options,
                                            "global_keyprefix": os.environ["BENCH_REDIS_PREFIX"]}

STATEMENTS = {"count": 0}
with flask_app.app_context():
    @event.listens_for(db.engine, "before_cursor_execute")
    def _count(conn, cursor, statement, parameters, context, executemany):
        STATEMENTS["count"] += 1


@worker_shutdown.connect
def _write_stats(**_kwargs):
    path = os.path.join(os.environ["BENCH_STATS_DIR"], f"{os.getpid()}.json")
    with open(path, "w") as out:
        json.dump({"statements": STATEMENTS["count"],
                   "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}, out)
