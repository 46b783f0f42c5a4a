"""bench/load_test.py end to end on a tiny database (issue 12): two gunicorn servers, both mixes for a few
seconds, the cross-server Idempotency-Key and session checks, and the SQL invariants, which find 0 violations
after the run and do find a reservation and an invoice put wrong on purpose.

PostgreSQL only (the app servers are other processes). The database is a copy of pytest's migrated test
database (CREATE DATABASE … TEMPLATE), made and dropped here; results go to a temporary directory.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# transaction=True: pytest-django makes the test database only for tests that ask for it, and this one copies
# it, which needs no open transaction on it.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _bench():
    spec = importlib.util.spec_from_file_location("load_test", ROOT / "bench" / "load_test.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def scratch_url(django_db_setup, django_db_blocker):
    import psycopg
    from django.db import connection, connections

    settings = connection.settings_dict
    template = settings["NAME"]  # pytest's test database (test_<name>)
    name = f"{template}_load"
    params = {k: v for k, v in dict(host=settings["HOST"] or None, port=settings["PORT"] or None,
                                    user=settings["USER"] or None, password=settings["PASSWORD"] or None,
                                    dbname="postgres", autocommit=True).items() if v is not None}
    with django_db_blocker.unblock():
        connections.close_all()  # a template must have no other session
        with psycopg.connect(**params) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    auth = f"{settings['USER']}{':' + settings['PASSWORD'] if settings['PASSWORD'] else ''}@"
    url = f"postgres://{auth if settings['USER'] else ''}{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{name}"
    yield url, params | {"dbname": name}
    with psycopg.connect(**params) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_load_test_runs_end_to_end_on_two_servers_and_finds_no_violation(scratch_url, tmp_path):
    import psycopg

    url, params = scratch_url
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
    env["BENCH_DATABASE_URL"] = url
    # 600 orders: the read mix asks for page 3 of 50 cash-on-delivery orders, which must exist (else 404)
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "load_test.py"), "--orders", "600", "--duration", "3", "--users", "2",
         "--servers", "2", "--workers", "1", "--celery-workers", "0", "--results-dir", str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "invariants after: 0 violations" in proc.stdout
    assert "RESULT: OK" in proc.stdout

    rows = [json.loads(line) for line in (tmp_path / "load.jsonl").read_text().splitlines()]
    assert [r["mix"] for r in rows] == ["read", "write"]
    for r in rows:
        assert r["total"]["requests"] > 0 and r["counts"]["errors"] == 0 and r["counts"]["server_errors"] == 0
        assert r["violations"] == 0 and r["problems"] == []
    read, write = rows
    assert set(read["by_name"]) == {"GET /orders?filters", "GET /orders/{id}", "GET /orders/count"}
    totals = write["run_totals"]
    assert totals["orders"] >= 1 and totals["documents"] == {
        "invoices": totals["orders"], "shipments": totals["orders"], "refunds": totals["orders"]}
    assert totals["shapes"] == [{"status": 4, "grand_total": "50.00", "total_invoiced": "50.00",
                                 "total_refunded": "25.00", "total_canceled": "0.00", "orders": totals["orders"]}]
    assert write["counts"]["expected_4xx"] == totals["orders"]  # the one refused invoice per order
    cross = write["cross_server"]
    assert cross["idempotency_comment"] == {"first": 201, "retry_on_other_server": 201, "replayed_header": "true",
                                            "same_body": True}
    assert cross["idempotency_direct_create"]["same_body"] and cross["idempotency_writes"] == {"comments": 1,
                                                                                               "orders": 1}
    assert all(v["ok"] for k, v in cross.items() if k.startswith("login_")) and len(
        [k for k in cross if k.startswith("login_")]) == 2
    assert write["webhooks"]["pending"] == 0 and write["webhooks"]["delivered"] == 4 * totals["orders"] + 1
    md = (tmp_path / "load.md").read_text()
    assert "| 2 servers × 1 gunicorn workers, 0 Celery workers, 2 users | write |" in md
    assert "servers=2" in (tmp_path / "load.txt").read_text()

    # The checks are not vacuous: a reservation and an invoice put wrong are found.
    invariants = _bench().INVARIANTS
    with psycopg.connect(**params) as conn:
        conn.execute("UPDATE catalog_product SET qty_reserved = qty_reserved + 1 WHERE sku = 'LOAD-01'")
        conn.execute("UPDATE sales_invoice SET grand_total = grand_total - 1 WHERE id = (SELECT MAX(id) FROM sales_invoice)")
        found = {name: len(conn.execute(sql).fetchall()) for name, sql in invariants.items()}
    assert found == {name: (1 if name.startswith(("reserved", "invoices")) else 0) for name in invariants}
