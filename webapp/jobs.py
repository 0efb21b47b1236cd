"""Background jobs: the Celery app bound to Flask, and the table of periodic jobs.

With a broker configured (CELERY_BROKER_URL, Redis in production) tasks go to Celery workers and
Celery beat runs the periodic table. Without one, as in `make run`, tasks run in-process at the
call, and `start_in_process_scheduler` runs the same periodic table in a background thread, so the
demo needs no server.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from celery import Celery, Task
from flask import Flask, has_app_context

log = logging.getLogger(__name__)

celery = Celery("harambee")


@dataclass(frozen=True)
class PeriodicJob:
    task: str  #: dotted name of a Celery task
    every_seconds: int


#: Every periodic job, for Celery beat and the in-process scheduler alike. Domains add theirs.
PERIODIC: list[PeriodicJob] = []


def periodic(task_name: str, every_seconds: int) -> None:
    if all(job.task != task_name for job in PERIODIC):
        PERIODIC.append(PeriodicJob(task_name, every_seconds))


def init_celery(app: Flask) -> Celery:
    class FlaskTask(Task):
        abstract = True

        def __call__(self, *args, **kwargs):
            if has_app_context():  # called in-process (eager): the caller's app, its database and session
                return self.run(*args, **kwargs)
            with app.app_context():
                return self.run(*args, **kwargs)

    broker = app.config.get("CELERY_BROKER_URL") or None
    celery.conf.update(
        broker_url=broker or "memory://",
        result_backend=app.config.get("CELERY_RESULT_BACKEND") or None,
        task_always_eager=broker is None,
        task_eager_propagates=True,
        task_acks_late=True,  # a task whose worker dies is delivered again; tasks are idempotent
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue="harambee",
        broker_transport_options={"visibility_timeout": app.config.get("CELERY_VISIBILITY_TIMEOUT", 600)},
        beat_schedule={job.task: {"task": job.task, "schedule": job.every_seconds} for job in PERIODIC},
        timezone="UTC",
    )
    celery.Task = FlaskTask
    app.extensions["celery"] = celery
    return celery


def start_in_process_scheduler(app: Flask, tick_seconds: int = 30) -> threading.Thread:
    """Run the periodic table in a daemon thread: the stand-in for Celery beat when there is no broker."""
    last_run: dict[str, float] = {}

    def loop() -> None:
        while True:
            now = time.monotonic()
            for job in list(PERIODIC):
                if now - last_run.get(job.task, 0) >= job.every_seconds:
                    last_run[job.task] = now
                    try:
                        celery.tasks[job.task].apply()
                    except Exception:  # one failing job must not stop the others
                        log.exception("periodic job %s failed", job.task)
            time.sleep(tick_seconds)

    thread = threading.Thread(target=loop, name="harambee-scheduler", daemon=True)
    thread.start()
    return thread
