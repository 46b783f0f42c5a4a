"""Against a real broker: a Celery worker process (started by the fixture, stopped after) with
beat delivers to a local receiver (SPEC §13, issue 11).

PostgreSQL only: the worker is another process and must reach the test database (committed
data, ``transactional_db``; the test database's name goes to the worker in DATABASE_URL).
The broker is Redis, database 5 (``WEBHOOK_TEST_BROKER_URL`` overrides). Outside CI a missing
Redis skips these with a reason; under CI=true it fails them (``.ci/run`` starts Redis)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection, transaction

from config.celery import app as celery_app
from sales.services.comments import comment_add
from sales.services.invoicing import invoice_create
from tests.catalog.factories import ProductFactory
from tests.conftest import IS_CI
from tests.sales.helpers import placed_order
from webhooks.models import WebhookDelivery
from webhooks.services.endpoints import endpoint_create
from webhooks.services.sender import signature_verify

pytestmark = [pytest.mark.celery, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BROKER_URL = os.environ.get("WEBHOOK_TEST_BROKER_URL", "redis://127.0.0.1:6379/5")
ROOT = Path(__file__).resolve().parents[2]
SECRET = "worker-secret-0123456789"
LEASE_SECONDS = 3


def _broker_up() -> str | None:
    try:
        import redis

        redis.Redis.from_url(BROKER_URL, socket_connect_timeout=1).ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "no broker here"
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest.fixture
def broker():
    """The test process publishes to the broker (not in-process) while the test runs."""
    problem = _broker_up()
    if problem:
        message = f"needs Redis at {BROKER_URL} for the real-worker tests ({problem}); start it with " \
                  f"`redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save ''`"
        if IS_CI:
            pytest.fail(message)
        pytest.skip(message)
    import redis

    redis.Redis.from_url(BROKER_URL).flushdb()  # our own database number: no stale messages
    saved = {k: celery_app.conf[k] for k in ("task_always_eager", "broker_url")}
    celery_app.conf.update(task_always_eager=False, broker_url=BROKER_URL)
    _fresh_connections()
    yield BROKER_URL
    celery_app.conf.update(saved)
    _fresh_connections()


def _fresh_connections() -> None:
    """Drop the app's cached broker connections, so it connects to the broker configured now."""
    from kombu import pools

    pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def _database_url() -> str:
    s = connection.settings_dict
    user = s.get("USER") or "postgres"
    auth = f"{user}:{s['PASSWORD']}" if s.get("PASSWORD") else user
    return f"postgres://{auth}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


class Worker:
    """``celery -A config worker -B`` in its own process group, on the test database."""

    def __init__(self, tmp: Path, n: int):
        self.log = tmp / f"worker-{n}.log"
        env = {**os.environ, "DATABASE_URL": _database_url(), "CELERY_BROKER_URL": BROKER_URL, "CONN_MAX_AGE": "0",
               "WEBHOOK_ALLOW_PRIVATE_URLS": "true", "WEBHOOK_RETRY_SCHEDULE": "1,1",
               "WEBHOOK_LEASE_SECONDS": str(LEASE_SECONDS), "WEBHOOK_SWEEP_SECONDS": "1",
               "WEBHOOK_TIMEOUT_SECONDS": "8", "DEBUG": "true"}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-B", "-l", "info", "--concurrency", "2",
             "--hostname", f"test{n}-{os.getpid()}@%h", "-s", str(tmp / f"beat-{n}")],
            cwd=ROOT, env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the worker exited: {self.log.read_text()[-3000:]}")
            if " ready." in self.log.read_text():
                return
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"the worker did not start: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL to the worker, its pool processes and beat, at once."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def workers(broker, tmp_path):
    """Start workers on demand (``workers()``); every one is stopped after the test."""
    started: list[Worker] = []

    def start() -> Worker:
        worker = Worker(tmp_path, len(started) + 1)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def wait_until(check, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def an_order():
    return placed_order((ProductFactory(price=Decimal("10.00"), stock=10), 2))


def test_a_worker_delivers_and_retries_500_twice_then_200_with_the_same_delivery(workers, receiver):
    workers()
    receiver.script = [500, 500, 200]
    endpoint_create(url=receiver.url + "/hook", events=["order.commented"], secret=SECRET)
    order = an_order()
    comment_add(order_id=order.id, comment="to the worker", actor=None)  # commits; sent after the commit
    got = receiver.wait_for(3, timeout=30)
    delivery = wait_until(lambda: WebhookDelivery.objects.filter(status="delivered").first(), what="delivered")
    assert delivery.attempts == 3 and delivery.last_response_status == 200
    assert [r.delivery for r in got] == [str(delivery.id)] * 3
    assert len({r.body for r in got}) == 1  # byte-identical on every attempt
    for r in got:
        assert signature_verify(SECRET, r.body, r.headers["x-orderdesk-signature"])
        assert r.event == "order.commented"
    assert got[0].json()["data"]["document"]["comment"] == "to the worker"
    assert got[1].at - got[0].at >= 0.9 and got[2].at - got[1].at >= 0.9  # the schedule: 1 s, 1 s
    time.sleep(1.5)
    assert len(receiver.requests) == 3


def test_a_worker_killed_mid_attempt_loses_nothing(workers, receiver):
    """The worker dies (SIGKILL) while the receiver holds its request; a new worker sends the same
    delivery again once the attempt's lease runs out: at least once, never lost."""
    first = workers()
    receiver.delays = [6.0]  # the first request hangs; the worker is killed meanwhile
    endpoint_create(url=receiver.url + "/hook", events=["order.invoiced"], secret=SECRET)
    order = an_order()
    invoice_create(order_id=order.id, items=None, actor=None)
    receiver.wait_for(1, timeout=20)
    first.kill()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.attempts == 1  # claimed, never answered
    workers()
    got = receiver.wait_for(2, timeout=LEASE_SECONDS + 20)
    assert got[0].delivery == got[1].delivery == str(delivery.id) and got[0].body == got[1].body
    delivery = wait_until(lambda: WebhookDelivery.objects.filter(status="delivered").first(), what="delivered")
    assert delivery.attempts == 2
    assert signature_verify(SECRET, got[1].body, got[1].headers["x-orderdesk-signature"])


def test_a_worker_down_at_commit_delivers_when_it_starts(broker, workers, receiver):
    """No worker when the action commits: the message waits in the broker (and the row in the outbox)."""
    endpoint_create(url=receiver.url + "/hook", events=["order.commented"], secret=SECRET)
    order = an_order()
    comment_add(order_id=order.id, comment="queued", actor=None)
    time.sleep(0.5)
    assert receiver.requests == []
    workers()
    (got,) = receiver.wait_for(1, timeout=20)
    assert got.json()["data"]["document"]["comment"] == "queued"


def test_a_rolled_back_action_a_dry_run_and_a_refusal_send_nothing(workers, receiver, api):
    workers()
    endpoint_create(url=receiver.url + "/hook", events=["*"], secret=SECRET)
    order, canceled = an_order(), an_order()
    from sales.services.canceling import order_cancel

    order_cancel(order_id=canceled.id, actor=None)
    before = 3  # two order.placed and an order.canceled: the worker is live
    assert sorted(r.event for r in receiver.wait_for(before, timeout=20)) == \
        ["order.canceled", "order.placed", "order.placed"]

    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        invoice_create(order_id=order.id, items=None, actor=None)
        raise Boom
    r = api.post(f"/api/admin/orders/{order.id}/invoices?dry_run=true", {}, format="json")
    assert r.status_code == 200 and r.json()["dry_run"] is True
    r = api.post(f"/api/admin/orders/{canceled.id}/invoices", {}, format="json")
    assert r.status_code == 409
    comment_add(order_id=order.id, comment="marker", actor=None)  # the one event that happened
    got = receiver.wait_for(before + 1, timeout=20)
    time.sleep(2.5)  # a sweep or two: nothing else arrives
    assert [r.event for r in receiver.requests[before:]] == ["order.commented"]
    assert got[-1].json()["data"]["document"]["comment"] == "marker"
    assert not WebhookDelivery.objects.filter(type="order.invoiced").exists()
