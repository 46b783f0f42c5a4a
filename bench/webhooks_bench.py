"""Benchmark webhooks (SPEC §13, issue 11): events delivered per second by 2 Celery workers to a
local receiver, and the latency an order action gains with 3 endpoints subscribed, without a
broker (sent in-process after the commit) and with one (published to Redis after the commit).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/orderdesk .venv/bin/python bench/webhooks_bench.py \\
        [--events 2000] [--actions 200] [--concurrency 1] [--broker redis://127.0.0.1:6379/6]

PostgreSQL only (the workers are other processes). It never touches the database DATABASE_URL
names: it works on a scratch ``<name>_webhooks_bench`` database that it creates and drops, and
on its own Redis database number (flushed first). Prints the figures and appends them to
``bench/results/webhooks.txt``.

- Throughput: ``seed_demo`` orders, one endpoint on a local receiver (http.server, 200 at once),
  every order archived (bulk archive: one ``order.archived`` event each, with the full order
  body, ~3 KB) while no worker runs, so the backlog waits in the outbox and in Redis; then 2
  workers (``celery -A config worker``, prefork, ``--concurrency`` each, no beat) start, and
  the rate is deliveries / (last request received − first request received).
- Latency: ``comment_add`` (a cheap action, so the added part shows) on one order, median of
  ``--actions`` runs each, the workers stopped: with no endpoint; 3 endpoints without a broker
  (the three POSTs are made in-process right after the commit, before the call returns); 3
  endpoints with Redis (three messages published after the commit, for the workers).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "webhooks.txt"
sys.path.insert(0, str(ROOT))


class Receiver:
    def __init__(self) -> None:
        self.times: list[float] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body leave at once (no 40 ms delayed-ACK stall)

            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                with receiver.lock:
                    receiver.times.append(time.monotonic())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def count(self) -> int:
        with self.lock:
            return len(self.times)


def _scratch_database(url: str):
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    name = f"{cfg['NAME']}_webhooks_bench"
    admin = {k: v for k, v in dict(host=cfg["HOST"] or None, port=cfg["PORT"] or None, user=cfg["USER"] or None,
                                   password=cfg["PASSWORD"] or None, dbname="postgres", autocommit=True).items()
             if v is not None}

    def run(sql: str) -> None:
        with psycopg.connect(**admin) as conn:
            conn.execute(sql)

    run(f'DROP DATABASE IF EXISTS "{name}"')
    run(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        from django.db import connections

        connections.close_all()
        run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url.rsplit("/", 1)[0] + "/" + name, drop


def _use_broker(url: str | None) -> None:
    from kombu import pools

    from config.celery import app

    app.conf.update(task_always_eager=url is None, broker_url=url or "memory://localhost//")
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


def _start_workers(n: int, concurrency: int, env: dict, tmp: Path) -> list[subprocess.Popen]:
    procs = []
    logs = []
    for i in range(n):
        log = tmp / f"worker{i}.log"
        logs.append(log)
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "info", "--concurrency", str(concurrency),
             "--hostname", f"bench{i}-{os.getpid()}@%h", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True))
    deadline = time.monotonic() + 60
    while not all(" ready." in log.read_text() for log in logs):
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            raise SystemExit("workers did not start:\n" + "\n".join(log.read_text()[-2000:] for log in logs))
        time.sleep(0.05)
    return procs


def _stop(procs: list[subprocess.Popen]) -> None:
    import signal

    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


def _median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--actions", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=1, help="pool processes per worker (default 1)")
    parser.add_argument("--broker", default=os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/6"))
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("Set DATABASE_URL=postgres://…: the workers are separate processes (PostgreSQL only).")
    import redis

    redis.Redis.from_url(args.broker).flushdb()
    scratch, drop = _scratch_database(url)
    os.environ["DATABASE_URL"] = scratch
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    receiver = Receiver()
    procs: list[subprocess.Popen] = []
    tmp = Path(tempfile.mkdtemp(prefix="webhooks_bench_"))
    env = {**os.environ, "DATABASE_URL": scratch, "CELERY_BROKER_URL": args.broker,
           "WEBHOOK_ALLOW_PRIVATE_URLS": "true", "LOG_LEVEL": "WARNING"}
    try:
        call_command("migrate", verbosity=0)
        call_command("seed_demo", orders=args.events, no_progress=True, verbosity=0)
        from sales.models import Order
        from sales.services.archiving import orders_archive_matching
        from sales.services.comments import comment_add
        from webhooks.models import WebhookDelivery, WebhookEndpoint
        from webhooks.services.endpoints import endpoint_create

        # --- throughput: a backlog of order.archived deliveries, then 2 workers
        _use_broker(args.broker)
        endpoint = endpoint_create(url=receiver.url + "/throughput", events=["order.archived"])
        started = time.perf_counter()
        n = orders_archive_matching(queryset=Order.objects.all(), actor=None)
        write_s = time.perf_counter() - started
        total = WebhookDelivery.objects.count()
        print(f"backlog: {n} orders archived, {total} deliveries written in {write_s:.1f} s (outbox + publish)",
              flush=True)
        procs = _start_workers(2, args.concurrency, env, tmp)
        deadline = time.monotonic() + 600
        while receiver.count() < total and time.monotonic() < deadline:
            time.sleep(0.05)
        times = sorted(receiver.times)
        span = times[-1] - times[0]
        rate = (len(times) - 1) / span if span > 0 else float("nan")
        time.sleep(1)
        delivered = WebhookDelivery.objects.filter(status="delivered").count()
        print(f"throughput: {len(times)} deliveries received in {span:.2f} s by 2 workers × {args.concurrency} "
              f"→ {rate:.0f} events/s ({delivered} marked delivered)", flush=True)
        WebhookEndpoint.objects.filter(id=endpoint.id).delete()
        _stop(procs)  # the latency of the action alone: no worker competes for the CPUs meanwhile
        procs = []

        # --- latency of one order action
        order = Order.objects.order_by("id").first()

        def act():
            comment_add(order_id=order.id, comment="bench", actor=None)

        _use_broker(None)
        _median_ms(act, 20)  # warm-up
        base = _median_ms(act, args.actions)
        for k in range(3):
            endpoint_create(url=receiver.url + f"/latency{k}", events=["*"])
        before = receiver.count()
        eager = _median_ms(act, args.actions)
        assert receiver.count() - before == 3 * args.actions, "eager deliveries missing"
        _use_broker(args.broker)
        act()  # the first publish opens the connection
        brokered = _median_ms(act, args.actions)
        print(f"latency of comment_add (median of {args.actions}): no endpoint {base:.2f} ms; 3 endpoints, no broker "
              f"{eager:.2f} ms (+{eager - base:.2f}); 3 endpoints, Redis {brokered:.2f} ms (+{brokered - base:.2f})",
              flush=True)
        line = (f"{datetime.now(UTC):%Y-%m-%d %H:%M} {platform.node()} PostgreSQL, Redis; {total} events: "
                f"{rate:.0f} deliveries/s by 2 workers × {args.concurrency}; comment_add median {base:.2f} ms, "
                f"+{eager - base:.2f} ms with 3 endpoints and no broker, +{brokered - base:.2f} ms with Redis\n")
        RESULTS.parent.mkdir(exist_ok=True)
        with RESULTS.open("a") as fh:
            fh.write(line)
        print(line, end="")
    finally:
        _stop(procs)
        _use_broker(None)
        drop()


if __name__ == "__main__":
    main()
