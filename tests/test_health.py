"""GET /healthz (SPEC §13): 200 when the database (and a configured broker) answer, 503 naming the
part that does not. The failures are real: a subprocess whose settings point at a database file
that cannot exist, or at a broker port nothing listens on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REDIS_URL = os.environ.get("WEBHOOK_TEST_BROKER_URL", "redis://127.0.0.1:6379/5")

_PROBE = """
import json, os
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
from django.test import Client
r = Client().get("/healthz")
print(json.dumps({"status": r.status_code, "body": r.json()}))
"""


def healthz_with(**env: str) -> tuple[int, dict]:
    """/healthz answered by a fresh process with these environment variables."""
    full = {k: v for k, v in os.environ.items() if k not in {"CELERY_BROKER_URL", "DATABASE_URL"}}
    full.update({"LOG_LEVEL": "CRITICAL", **env})
    done = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, env=full, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    return answer["status"], answer["body"]


@pytest.mark.django_db
def test_healthy_without_a_broker_says_eager(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "eager"}
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_no_authentication_and_no_strict_parameter_checks(client):
    """Probes add their own query strings (cache busters); /healthz is not an /api/ operation."""
    response = client.get("/healthz?probe=lb-1&probe=lb-2")
    assert response.status_code == 200 and response.json()["status"] == "ok"


@pytest.mark.django_db
def test_only_get_and_head(client):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


def test_a_database_that_cannot_be_reached_answers_503_naming_it(tmp_path):
    status, body = healthz_with(DATABASE_URL=f"sqlite:///{tmp_path}/no/such/dir/db.sqlite3")
    assert status == 503
    assert body == {"status": "error", "database": "error", "broker": "eager"}


def test_a_configured_broker_that_does_not_answer_answers_503_naming_it(tmp_path):
    db = tmp_path / "db.sqlite3"
    db.touch()  # an empty SQLite file answers SELECT 1
    status, body = healthz_with(DATABASE_URL=f"sqlite:///{db}", CELERY_BROKER_URL="redis://127.0.0.1:1/0")
    assert status == 503
    assert body == {"status": "error", "database": "ok", "broker": "error"}


@pytest.mark.celery
def test_a_configured_broker_that_answers_is_ok(tmp_path):
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:  # noqa: BLE001 - no Redis here
        from tests.conftest import IS_CI

        if IS_CI:
            pytest.fail(f"needs Redis at {REDIS_URL}: {exc}")
        pytest.skip(f"needs Redis at {REDIS_URL} ({exc})")
    db = tmp_path / "db.sqlite3"
    db.touch()
    status, body = healthz_with(DATABASE_URL=f"sqlite:///{db}", CELERY_BROKER_URL=REDIS_URL)
    assert (status, body) == (200, {"status": "ok", "database": "ok", "broker": "ok"})
