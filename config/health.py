"""``GET /healthz`` (SPEC §13): is this app server able to serve? For load balancers and
orchestrators, so no authentication and no query-parameter checks (it is not under /api/).

200 ``{"status": "ok", "database": "ok", "broker": "ok" | "eager"}``; 503 with
``"status": "error"`` and the failing part set to ``"error"`` when the database, or a configured
broker, does not answer. The reason goes to the log, not to the unauthenticated caller (it may
name hosts and users). ``eager`` means no ``CELERY_BROKER_URL``:
tasks run in-process, so there is no broker to fail.
"""

from __future__ import annotations

import logging

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_safe

from config.celery import app as celery_app
from config.celery import broker_configured

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_SECONDS = 2.0


def _database() -> str | None:
    """None when the default database answers a query, else why not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure to reach or query the database is "not healthy"
        connection.close_if_unusable_or_obsolete()
        return f"{type(exc).__name__}: {exc}".strip()
    return None


def _broker() -> str | None:
    """None when the configured broker accepts a connection (within a couple of seconds), else why not."""
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_TIMEOUT_SECONDS)
    except Exception as exc:  # refused, unknown host, timeout, bad credentials: all "not healthy"
        return f"{type(exc).__name__}: {exc}".strip()
    return None


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    body: dict[str, object] = {"status": "ok"}
    errors: dict[str, str] = {}
    if (problem := _database()) is not None:
        errors["database"] = problem
    body["database"] = "error" if "database" in errors else "ok"
    if broker_configured():
        if (problem := _broker()) is not None:
            errors["broker"] = problem
        body["broker"] = "error" if "broker" in errors else "ok"
    else:
        body["broker"] = "eager"
    if errors:
        body["status"] = "error"
        logger.warning("Health check failed: %s", errors)
    response = JsonResponse(body, status=503 if errors else 200)
    add_never_cache_headers(response)
    return response
