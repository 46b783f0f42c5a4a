"""Gunicorn settings for production (`make serve`, or `gunicorn -c gunicorn.conf.py config.wsgi`).

Every value comes from the environment, so one file serves a laptop and a fleet
(docs/operations.md). The app is stateless: run as many of these as you like behind one
load balancer, against one PostgreSQL (and one broker when Celery workers run).
"""

from __future__ import annotations

import multiprocessing
import os

# Where to listen. Behind a proxy on the same host keep 127.0.0.1; in a container 0.0.0.0.
bind = os.environ.get("GUNICORN_BIND") or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"

# Sync workers: each request is short (the slow work, e-mails, webhooks and imports, goes to
# Celery or runs after the commit). WEB_CONCURRENCY is the usual platform variable.
workers = int(os.environ.get("WEB_CONCURRENCY", str(min(2 * multiprocessing.cpu_count() + 1, 8))))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"

# A request that takes longer than this is killed and its worker replaced (the large CSV exports
# stream; raise it if yours take longer).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))

# Recycle workers now and then so a slow leak never grows without bound; the jitter keeps them
# from all restarting at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "200"))

# Trust X-Forwarded-* only from the proxy in front (comma-separated addresses; "*" behind a
# load balancer whose address changes and that no client can bypass).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Logs to stdout / stderr for the process manager to collect. Access log on by default.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Include the request time in microseconds (%(D)s) for the slow-request hunt.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(D)sus'

# Bigger headers than the default 8 KB would only come from abuse.
limit_request_line = 8190
limit_request_field_size = 8190

# The app is loaded by each worker (no preload): database connections are never shared across
# a fork, and a code reload (`kill -HUP`) picks up new code.
preload_app = False


def on_starting(server: object) -> None:
    """Settings mistakes (no SECRET_KEY with DEBUG off, a bad ENV_FILE) stop the master with one
    line, before any worker boots and fails with a traceback, again and again."""
    import sys

    from django.core.exceptions import ImproperlyConfigured

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    try:
        from django.conf import settings

        settings.SECRET_KEY  # noqa: B018 - reading it loads the settings module
    except ImproperlyConfigured as exc:
        sys.stderr.write(f"Error: {exc}\n")
        sys.exit(1)
