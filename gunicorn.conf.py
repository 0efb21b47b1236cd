"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py 'webapp:create_app()'`.

Every value can be overridden from the environment (below) or on the command line
(a command-line flag wins over this file). bench/serve.py serves the app with these same settings.
"""
from __future__ import annotations

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


#: where to listen. Loopback by default: a reverse proxy (nginx, Caddy…) in front terminates TLS
#: and forwards here; bind 0.0.0.0:8000 only when the proxy runs on another machine.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

#: sync workers, one request at a time each: the pages are CPU and database bound, with no long
#: polls or websockets. gunicorn's usual rule, 2 x cores + 1, unless WEB_CONCURRENCY says otherwise
#: (each worker holds its own SQLAlchemy pool: workers x pool size must stay under PostgreSQL's
#: max_connections).
workers = _int("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1)
worker_class = "sync"

#: a worker silent this long (seconds) is killed and replaced; no page should take more than a few
#: seconds, and calls to the payment processor time out well before this.
timeout = _int("GUNICORN_TIMEOUT", 30)
#: on a restart or a HUP, workers get this long to finish the requests they are serving
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
#: seconds an idle keep-alive connection is held open; the reverse proxy should keep its own
#: upstream keep-alive shorter than this, or it will reuse connections gunicorn has just closed.
keepalive = _int("GUNICORN_KEEPALIVE", 5)

#: preload off: each worker imports the app and builds its own SQLAlchemy engine, connection pool and
#: Celery/Redis clients after the fork, so no socket opened in the master is shared between processes,
#: the in-process scheduler's thread (development only) is never lost across a fork, and a HUP reloads
#: the code. The price is a few MB more per worker and a slower start, which is negligible here.
preload_app = False

#: access log to stdout in Apache's combined format plus the time taken (microseconds), for the
#: process manager (systemd, a container runtime) to collect; errors to stderr.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(D)s'

#: The visitor's address and the scheme are set by the app itself: with TRUSTED_PROXIES=N (the
#: number of reverse proxies in front, see README) webapp wraps itself in werkzeug's ProxyFix, which
#: reads X-Forwarded-For/-Proto/-Host from those N hops. gunicorn's own forwarded_allow_ips is the
#: list of proxy addresses whose X-Forwarded-Proto gunicorn believes; keep the two in step:
#: TRUSTED_PROXIES=0 (no proxy) trusts no address here either, otherwise FORWARDED_ALLOW_IPS lists the
#: proxy's addresses (default loopback, the usual proxy on the same machine). Never "*".
forwarded_allow_ips = os.environ.get(
    "FORWARDED_ALLOW_IPS", "127.0.0.1,::1" if _int("TRUSTED_PROXIES", 0) > 0 else ""
)
