"""Load test (issue 12): gunicorn on PostgreSQL with 100,000 orders, driven by locust, then the stock and
money invariants checked over the whole database.

One command (PostgreSQL and, with Celery workers, Redis on 127.0.0.1):

    .venv/bin/python bench/load_test.py                                 # 1 server, 1 Celery worker
    .venv/bin/python bench/load_test.py --servers 2 --celery-workers 2  # "beyond one machine", simulated

Options: ``--orders 100000`` (seeded when the database holds fewer), ``--users 16`` (fixed concurrency: a
closed loop, each locust user sends its next request when the last answered), ``--duration 60`` (seconds per
mix), ``--workers 2`` (gunicorn workers per server), ``--mixes read,write``, ``--results-dir bench/results``.

What it does:
1. Prepares ``BENCH_DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/od_load_bench``; created when
   missing): migrate, collectstatic, ``seed_demo --orders <missing>``, ANALYZE; eight ``LOAD-0n`` products
   (25.00, no tax) with 1,000,000 units at the default source; a superuser ``load-admin@example.com`` with a new
   random password and a new API token; a webhook endpoint (order created / invoiced / shipped / refunded) on a
   receiver inside this process, so every write sends four deliveries.
2. Starts ``--servers`` gunicorn processes (``config.wsgi``, ``--workers`` each, DEBUG off, on free loopback
   ports) and ``--celery-workers`` ``celery -A config worker`` processes (concurrency 2 each) on Redis database
   ``--redis-db`` (flushed first; Redis is started as .ci/run does when it is down). With 0 workers the
   tasks run in the app servers after each commit.
3. With two servers: an Idempotency-Key request (a comment, and a direct create) sent to server A and retried
   on server B must replay A's answer byte for byte with ``Idempotent-Replayed: true`` and write once; an admin
   login (session) made on either server must open the admin on the other.
4. Runs locust (bench/load_locust.py, headless) for each mix: ``read`` (order list with filters, order detail,
   count by status) and ``write`` (direct create → invoice → ship → refund 1 unit to stock → one invoice
   more, refused 409 ``order_not_invoiceable``). Users are spread over the servers. Every answer must be the
   expected one; errors and 5xx are counted apart.
5. Waits for the webhook outbox to drain, then checks over the whole database with SQL: every product's
   qty_reserved = Σ qty_to_ship of the stocked shippable lines of open orders; no negative on-hand; every
   order total_refunded ≤ total_invoiced ≤ grand_total, its invoices sum to total_invoiced and its refunds
   to total_refunded, and settled orders (nothing left to invoice) total_invoiced + total_canceled =
   grand_total. And the run's own totals: its orders and documents match the successful requests, each
   finished order has the same totals, and (with two servers) those are the totals of the last one-server run.
6. Prints a line per mix and a markdown table; appends to ``<results-dir>/load.txt`` (with the load average)
   and ``load.jsonl``, and rewrites ``load.md`` (the latest run of each configuration and mix).

Exit status 1 when any request failed, any answer was a 5xx, any invariant was violated or a check failed.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

ADMIN_EMAIL = "load-admin@example.com"
LOAD_SKUS = [f"LOAD-0{n}" for n in range(1, 9)]
LOAD_PRICE = Decimal("25.00")
LOAD_STOCK = 1_000_000
WEBHOOK_EVENTS = ["order.created", "order.invoiced", "order.shipped", "order.refunded"]


# ---------------------------------------------------------------------------------------------------- set-up

def configure_env(args: argparse.Namespace) -> dict[str, str]:
    url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/od_load_bench")
    if not url.startswith("postgres"):
        raise SystemExit("BENCH_DATABASE_URL must be a PostgreSQL URL (the app servers are other processes)")
    env = {
        "DATABASE_URL": url, "DEBUG": "false", "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "load-test-only-" + secrets.token_urlsafe(48),
        "WEBHOOK_ALLOW_PRIVATE_URLS": "true",  # the receiver is on loopback
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",  # receipts are made, not printed
        "DJANGO_SETTINGS_MODULE": "config.settings", "LOG_LEVEL": "WARNING",
    }
    if args.celery_workers:
        env["CELERY_BROKER_URL"] = f"redis://127.0.0.1:6379/{args.redis_db}"
    else:
        env["CELERY_BROKER_URL"] = ""
    os.environ.update(env)
    return {**os.environ}


def ensure_redis(db: int) -> None:
    def ping() -> bool:
        return subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "ping"], capture_output=True,
                              text=True).stdout.strip() == "PONG"

    if not ping():
        subprocess.run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379", "--save", ""],
                       check=False)
        for _ in range(30):
            if ping():
                break
            time.sleep(1)
        else:
            raise SystemExit("Redis is not answering on 127.0.0.1:6379")
    subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "-n", str(db), "flushdb"], check=True,
                   capture_output=True)


def ensure_database(url: str) -> None:
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    params = {k: v for k, v in dict(host=cfg["HOST"] or None, port=cfg["PORT"] or None, user=cfg["USER"] or None,
                                    password=cfg["PASSWORD"] or None, dbname="postgres", autocommit=True).items()
              if v is not None}
    with psycopg.connect(**params) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (cfg["NAME"],)).fetchone():
            conn.execute(f'CREATE DATABASE "{cfg["NAME"]}"')


class Receiver:
    """The webhook receiver: answers 200 to every POST and counts them."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                with receiver.lock:
                    receiver.count += 1

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def prepare(args: argparse.Namespace, receiver: Receiver, tmp: Path) -> dict:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import User
    from accounts.services.auth import token_issue
    from catalog.models import InventorySource, Product, ProductInventory
    from catalog.services.products import product_create
    from catalog.services.stock import inventory_set
    from sales.models import Order
    from webhooks.models import WebhookEndpoint
    from webhooks.services.endpoints import endpoint_create

    call_command("migrate", verbosity=0)
    from django.conf import settings

    if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():  # DEBUG is off: the manifest storage
        call_command("collectstatic", interactive=False, verbosity=0)  # (minutes on a busy machine: once)
    have = Order.objects.count()
    if have < args.orders:
        print(f"seeding: {have} orders present, {args.orders} wanted", flush=True)
        start = time.perf_counter()
        call_command("seed_demo", orders=args.orders - have, no_progress=True)
        print(f"seed_demo --orders {args.orders - have}: {time.perf_counter() - start:.1f} s", flush=True)
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    source = InventorySource.objects.filter(active=True).order_by("priority", "id").first()
    if source is None:
        raise SystemExit("no active inventory source (seed_demo makes one)")
    products = []
    for n, sku in enumerate(LOAD_SKUS, 1):
        product = Product.objects.filter(sku=sku).first()
        if product is None:
            product = product_create(data={"sku": sku, "name": f"Load test item {n}", "price": LOAD_PRICE},
                                     inventories=[{"source_id": source.id, "qty": LOAD_STOCK}])
        else:
            on_hand = ProductInventory.objects.filter(product=product, source=source).values_list("qty", flat=True)
            if (on_hand.first() or 0) < LOAD_STOCK // 2:
                inventory_set(product=product, levels={source.id: LOAD_STOCK})
        products.append(product.id)
    password = secrets.token_urlsafe(18)
    admin = User.objects.filter(email=ADMIN_EMAIL).first()
    if admin is None:
        admin = User.objects.create_superuser(ADMIN_EMAIL, password, name="Load Test")
    else:
        admin.set_password(password)
        admin.is_active = admin.is_staff = admin.is_superuser = True
        admin.save()
    token = token_issue(user=admin).token
    WebhookEndpoint.objects.filter(description="load test").update(is_active=False)
    endpoint = endpoint_create(url=receiver.url, events=WEBHOOK_EVENTS, description="load test")
    ids_file = tmp / "order_ids.txt"
    with connection.cursor() as cur:
        cur.execute("SELECT id FROM sales_order WHERE archived_at IS NULL ORDER BY random() LIMIT 5000")
        ids_file.write_text("\n".join(str(r[0]) for r in cur.fetchall()))
    connection.close()
    return {"token": token, "password": password, "products": products, "source": source.id,
            "endpoint": endpoint.id, "ids_file": str(ids_file)}


# ---------------------------------------------------------------------------------------------------- processes

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_servers(n: int, workers: int, env: dict, tmp: Path) -> tuple[list[subprocess.Popen], list[str]]:
    procs, hosts = [], []
    for i in range(n):
        port = free_port()
        log = (tmp / f"gunicorn{i}.log").open("w")
        procs.append(subprocess.Popen(
            [str(BIN / "gunicorn"), "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(workers),
             "--log-level", "warning", "--timeout", "60"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        hosts.append(f"http://127.0.0.1:{port}")
    for host, proc in zip(hosts, procs, strict=True):
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(host + "/admin/login/", timeout=5).read()
                break
            except Exception:  # noqa: BLE001 - not up yet
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"gunicorn at {host} did not start:\n" +
                                     "\n".join(p.read_text()[-3000:] for p in tmp.glob("gunicorn*.log")))
                time.sleep(0.3)
    return procs, hosts


def start_celery(n: int, env: dict, tmp: Path) -> list[subprocess.Popen]:
    procs, logs = [], []
    for i in range(n):
        log = tmp / f"celery{i}.log"
        logs.append(log)
        procs.append(subprocess.Popen(
            [str(BIN / "celery"), "-A", "config", "worker", "-l", "info", "--concurrency", "2",
             "--hostname", f"load{i}-{os.getpid()}@%h", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True))
    deadline = time.monotonic() + 90
    while not all(" ready." in log.read_text() for log in logs):
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            raise SystemExit("Celery workers did not start:\n" + "\n".join(log.read_text()[-2000:] for log in logs))
        time.sleep(0.2)
    return procs


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(10)


# ---------------------------------------------------------------------------------------------------- checks

def cross_server_checks(hosts: list[str], token: str, password: str, order_id: int, product_id: int, run: str) -> dict:
    """An Idempotency-Key retried on the other server replays the first answer; a session works on both."""
    import requests

    from sales.models import Order, OrderComment

    a, b = hosts[0], hosts[1]
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    out: dict[str, object] = {}
    problems: list[str] = []

    def replay(name: str, path: str, body: dict) -> tuple[requests.Response, requests.Response]:
        headers = {**auth, "Idempotency-Key": f"{run}-{name}"}
        first = requests.post(a + path, json=body, headers=headers, timeout=30)
        again = requests.post(b + path, json=body, headers=headers, timeout=30)
        same = (again.status_code == first.status_code and again.content == first.content
                and again.headers.get("Idempotent-Replayed") == "true" and "Idempotent-Replayed" not in first.headers)
        out[f"idempotency_{name}"] = {"first": first.status_code, "retry_on_other_server": again.status_code,
                                      "replayed_header": again.headers.get("Idempotent-Replayed"),
                                      "same_body": again.content == first.content}
        if not same:
            problems.append(f"Idempotency-Key {name}: first {first.status_code} {first.content[:200]!r}, "
                            f"retry {again.status_code} {again.headers.get('Idempotent-Replayed')} {again.content[:200]!r}")
        return first, again

    text = f"load test {run}: one comment, whatever server the retry reaches"
    first, _ = replay("comment", f"/api/admin/orders/{order_id}/comments", {"comment": text})
    comments = OrderComment.objects.filter(order_id=order_id, comment=text).count()
    if first.status_code != 201 or comments != 1:
        problems.append(f"comment: status {first.status_code}, {comments} comments written (want 201 and 1)")
    tag = f"{run}-idempotency"
    first, _ = replay("direct_create", "/api/admin/orders", {
        "email": "load-idempotency@example.com", "payment_method": "cashondelivery",
        "items": [{"product_id": product_id, "quantity": 1}], "metadata": {"load_run": tag}})
    orders = Order.objects.filter(metadata__load_run=tag).count()
    if first.status_code != 201 or orders != 1:
        problems.append(f"direct create: status {first.status_code}, {orders} orders written (want 201 and 1)")
    out["idempotency_writes"] = {"comments": comments, "orders": orders}

    for login_at, use_at in ((a, b), (b, a)):
        with requests.Session() as browser:
            page = browser.get(login_at + "/admin/login/?next=/admin/", timeout=30)
            csrf = browser.cookies.get("csrftoken")
            resp = browser.post(login_at + "/admin/login/?next=/admin/", allow_redirects=False, timeout=30, data={
                "username": ADMIN_EMAIL, "password": password, "csrfmiddlewaretoken": csrf, "next": "/admin/"})
            elsewhere = browser.get(use_at + "/admin/sales/order/", allow_redirects=False, timeout=60)
            ok = (page.status_code == 200 and resp.status_code == 302 and "sessionid" in browser.cookies
                  and elsewhere.status_code == 200 and "/admin/logout/" in elsewhere.text)
            out[f"login_{login_at.rsplit(':', 1)[1]}_used_on_{use_at.rsplit(':', 1)[1]}"] = {
                "login": resp.status_code, "other_server_orders_page": elsewhere.status_code, "ok": ok}
            if not ok:
                problems.append(f"admin login on {login_at} (status {resp.status_code}) then {use_at}/admin/sales/order/ "
                                f"answered {elsewhere.status_code}")
    out["problems"] = problems
    return out


INVARIANTS = {
    "reserved ≠ Σ qty_to_ship of open orders' stocked lines": """
        WITH want AS (
            SELECT i.product_id, SUM(GREATEST(0, i.qty_ordered - i.qty_shipped - (i.qty_refunded - i.qty_returned)
                                                 - i.qty_canceled)) AS n
            FROM sales_orderitem i JOIN sales_order o ON o.id = i.order_id
            WHERE i.is_stocked AND i.is_shippable AND i.product_id IS NOT NULL AND o.status NOT IN (5, 6)
            GROUP BY i.product_id)
        SELECT p.id, p.sku, p.qty_reserved, COALESCE(w.n, 0) FROM catalog_product p
        LEFT JOIN want w ON w.product_id = p.id WHERE p.qty_reserved <> COALESCE(w.n, 0)""",
    "canceled or closed order with units to ship": """
        SELECT o.id, o.status FROM sales_order o JOIN sales_orderitem i ON i.order_id = o.id
        WHERE o.status IN (5, 6) AND i.is_shippable
          AND i.qty_ordered - i.qty_shipped - (i.qty_refunded - i.qty_returned) - i.qty_canceled > 0""",
    "negative on hand": "SELECT product_id, source_id, qty FROM catalog_productinventory WHERE qty < 0",
    "not 0 ≤ total_refunded ≤ total_invoiced ≤ grand_total": """
        SELECT id, total_refunded, total_invoiced, grand_total FROM sales_order
        WHERE NOT (0 <= total_refunded AND total_refunded <= total_invoiced AND total_invoiced <= grand_total)""",
    "invoices do not sum to total_invoiced": """
        SELECT o.id, o.total_invoiced, COALESCE(s.n, 0) FROM sales_order o
        LEFT JOIN (SELECT order_id, SUM(grand_total) AS n FROM sales_invoice GROUP BY order_id) s ON s.order_id = o.id
        WHERE o.total_invoiced <> COALESCE(s.n, 0)""",
    "refunds do not sum to total_refunded": """
        SELECT o.id, o.total_refunded, COALESCE(s.n, 0) FROM sales_order o
        LEFT JOIN (SELECT order_id, SUM(grand_total) AS n FROM sales_refund GROUP BY order_id) s ON s.order_id = o.id
        WHERE o.total_refunded <> COALESCE(s.n, 0)""",
    "settled order: total_invoiced + total_canceled ≠ grand_total": """
        SELECT o.id, o.total_invoiced, o.total_canceled, o.grand_total FROM sales_order o
        WHERE NOT EXISTS (SELECT 1 FROM sales_orderitem i WHERE i.order_id = o.id
                          AND i.qty_ordered - i.qty_invoiced - i.qty_canceled > 0)
          AND EXISTS (SELECT 1 FROM sales_orderitem i WHERE i.order_id = o.id)
          AND o.total_invoiced + o.total_canceled <> o.grand_total""",
}


def check_invariants() -> dict:
    from django.db import connection

    out = {}
    start = time.perf_counter()
    with connection.cursor() as cur:
        for name, sql in INVARIANTS.items():
            cur.execute(sql)
            rows = cur.fetchall()
            out[name] = {"violations": len(rows), "examples": [list(map(str, r)) for r in rows[:5]]}
    return {"checks": out, "violations": sum(v["violations"] for v in out.values()),
            "orders": _scalar("SELECT COUNT(*) FROM sales_order"), "seconds": round(time.perf_counter() - start, 1)}


def _scalar(sql: str, params: tuple = ()):
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()[0]


def run_totals(run: str) -> dict:
    """What the write mix left: its orders by (status, totals), and its documents."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("""SELECT status, grand_total, total_invoiced, total_refunded, total_canceled, COUNT(*)
                       FROM sales_order WHERE metadata->>'load_run' = %s GROUP BY 1, 2, 3, 4, 5 ORDER BY 6 DESC""",
                    (run,))
        shapes = [{"status": r[0], "grand_total": str(r[1]), "total_invoiced": str(r[2]), "total_refunded": str(r[3]),
                   "total_canceled": str(r[4]), "orders": r[5]} for r in cur.fetchall()]
        docs = {}
        for table in ("invoice", "shipment", "refund"):
            cur.execute(f"""SELECT COUNT(*) FROM sales_{table} d JOIN sales_order o ON o.id = d.order_id
                            WHERE o.metadata->>'load_run' = %s""", (run,))
            docs[table + "s"] = cur.fetchone()[0]
        cur.execute("""SELECT COALESCE(SUM(grand_total), 0), COALESCE(SUM(total_invoiced), 0),
                              COALESCE(SUM(total_refunded), 0) FROM sales_order WHERE metadata->>'load_run' = %s""", (run,))
        sums = [str(x) for x in cur.fetchone()]
    return {"orders": sum(s["orders"] for s in shapes), "shapes": shapes, "documents": docs,
            "sum_grand_total": sums[0], "sum_invoiced": sums[1], "sum_refunded": sums[2]}


def drain_outbox(endpoint_id: int, timeout: float) -> dict:
    from webhooks.models import WebhookDelivery

    start = time.monotonic()
    while True:
        pending = WebhookDelivery.objects.filter(endpoint_id=endpoint_id, status="pending").count()
        if pending == 0 or time.monotonic() - start > timeout:
            break
        time.sleep(1)
    counts = {s: WebhookDelivery.objects.filter(endpoint_id=endpoint_id, status=s).count()
              for s in ("pending", "delivered", "failed")}
    return {**counts, "waited_s": round(time.monotonic() - start, 1)}


# ---------------------------------------------------------------------------------------------------- locust

def run_locust(mix: str, args: argparse.Namespace, hosts: list[str], setup: dict, run: str, env: dict,
               tmp: Path) -> dict:
    summary = tmp / f"{mix}.json"
    user_class = {"read": "ReadUser", "write": "WriteUser"}[mix]
    locust_env = {**env, "LOAD_HOSTS": ",".join(hosts), "LOAD_TOKEN": setup["token"], "LOAD_RUN": run,
                  "LOAD_ORDER_IDS": setup["ids_file"], "LOAD_SUMMARY": str(summary),
                  "LOAD_PRODUCT_IDS": ",".join(map(str, setup["products"])), "LOAD_SOURCE_ID": str(setup["source"])}
    load_before = os.getloadavg()
    cmd = [str(BIN / "locust"), "-f", str(ROOT / "bench" / "load_locust.py"), "--headless", "-u", str(args.users),
           "-r", str(args.users), "-t", f"{args.duration}s", "--stop-timeout", "30", "--only-summary",
           "--loglevel", "WARNING", "--skip-log-setup", user_class]
    log = tmp / f"locust-{mix}.log"
    with log.open("w") as fh:
        subprocess.run(cmd, cwd=tmp, env=locust_env, stdout=fh, stderr=subprocess.STDOUT, check=False,
                       timeout=args.duration + 180)
    if not summary.exists():
        raise SystemExit(f"locust wrote no summary:\n{log.read_text()[-3000:]}")
    result = json.loads(summary.read_text())
    result["load_before"] = [round(x, 2) for x in load_before]
    result["load_after"] = [round(x, 2) for x in os.getloadavg()]
    return result


# ---------------------------------------------------------------------------------------------------- results

def config_name(r: dict) -> str:
    return (f"{r['servers']} server{'s' if r['servers'] > 1 else ''} × {r['gunicorn_workers']} gunicorn workers, "
            f"{r['celery_workers']} Celery worker{'s' if r['celery_workers'] != 1 else ''}, {r['users']} users")


def markdown(rows: list[dict]) -> str:
    lines = ["| configuration | mix | requests/s | p50 ms | p95 ms | p99 ms | requests | expected 409s | "
             "unexpected answers | of them 5xx | invariant violations | load average (1/5/15 min, at the end) | when |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        t = r["total"]
        lines.append(f"| {config_name(r)} | {r['mix']} | {t['rps']:.1f} | {t['p50']:.0f} | {t['p95']:.0f} | "
                     f"{t['p99']:.0f} | {t['requests']} | {r['counts']['expected_4xx']} | {r['counts']['errors']} | "
                     f"{r['counts']['server_errors']} | "
                     f"{r['violations']} | {' / '.join(f'{x:.1f}' for x in r['load_after'])} | {r['when']} |")
    return "\n".join(lines) + "\n"


def record(rows: list[dict], results_dir: Path) -> None:
    results_dir.mkdir(parents=True, exist_ok=True)
    with (results_dir / "load.txt").open("a") as fh:
        for r in rows:
            t = r["total"]
            fh.write(f"{r['when']} servers={r['servers']} gunicorn_workers={r['gunicorn_workers']} "
                     f"celery_workers={r['celery_workers']} users={r['users']} duration={r['duration']}s mix={r['mix']} "
                     f"orders={r['orders_in_db']} requests={t['requests']} rps={t['rps']:.1f} p50={t['p50']:.0f}ms "
                     f"p95={t['p95']:.0f}ms p99={t['p99']:.0f}ms errors={r['counts']['errors']} "
                     f"5xx={r['counts']['server_errors']} expected_4xx={r['counts']['expected_4xx']} "
                     f"violations={r['violations']} load_before={'/'.join(map(str, r['load_before']))} "
                     f"load_after={'/'.join(map(str, r['load_after']))} cpus={os.cpu_count()}\n")
    with (results_dir / "load.jsonl").open("a") as fh:
        for r in rows:
            fh.write(json.dumps(r) + "\n")
    latest: dict[tuple, dict] = {}
    for line in (results_dir / "load.jsonl").read_text().splitlines():
        r = json.loads(line)
        latest[(r["servers"], r["gunicorn_workers"], r["celery_workers"], r["users"], r["duration"], r["mix"])] = r
    (results_dir / "load.md").write_text(
        "Load test (`bench/load_test.py`): the latest run of each configuration and mix, "
        f"{list(latest.values())[-1]['duration'] if latest else 60} s per mix, PostgreSQL, "
        "on a 2-core machine shared with other work (see the load average).\n\n" + markdown(list(latest.values())))


def last_one_server_shapes(results_dir: Path) -> list[dict] | None:
    path = results_dir / "load.jsonl"
    if not path.exists():
        return None
    found = None
    for line in path.read_text().splitlines():
        r = json.loads(line)
        if r["servers"] == 1 and r["mix"] == "write" and r.get("run_totals"):
            found = r["run_totals"]["shapes"]
    return found


def shape_key(shapes: list[dict]) -> list[tuple]:
    return sorted((s["status"], s["grand_total"], s["total_invoiced"], s["total_refunded"], s["total_canceled"])
                  for s in shapes)


# ---------------------------------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--duration", type=int, default=60, help="seconds per mix")
    parser.add_argument("--servers", type=int, default=1, choices=(1, 2))
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument("--celery-workers", type=int, default=1)
    parser.add_argument("--redis-db", type=int, default=9)
    parser.add_argument("--mixes", default="read,write")
    parser.add_argument("--results-dir", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    mixes = [m for m in args.mixes.split(",") if m]
    if not mixes or set(mixes) - {"read", "write"}:
        parser.error("--mixes is a comma-separated list of read and write")

    env = configure_env(args)
    if args.celery_workers:
        ensure_redis(args.redis_db)
    ensure_database(env["DATABASE_URL"])
    tmp = Path(tempfile.mkdtemp(prefix="load-test-"))
    receiver = Receiver()
    setup = prepare(args, receiver, tmp)
    from django.db import connection

    run = f"load-{time.strftime('%Y%m%d-%H%M%S')}-s{args.servers}"
    print(f"run {run}: {args.servers} server(s) × {args.workers} gunicorn workers, {args.celery_workers} Celery "
          f"worker(s), {args.users} users, {args.duration} s per mix; logs in {tmp}", flush=True)
    before = check_invariants()
    print(f"invariants before: {before['violations']} violations over {before['orders']} orders "
          f"({before['seconds']} s)", flush=True)
    connection.close()

    procs: list[subprocess.Popen] = []
    results: dict[str, dict] = {}
    cross: dict | None = None
    try:
        servers, hosts = start_servers(args.servers, args.workers, env, tmp)
        procs += servers
        procs += start_celery(args.celery_workers, env, tmp)
        if args.servers == 2:
            ids = Path(setup["ids_file"]).read_text().split()
            cross = cross_server_checks(hosts, setup["token"], setup["password"], int(ids[0]), setup["products"][0], run)
            print("two servers:", "ok" if not cross["problems"] else "; ".join(cross["problems"]), flush=True)
        for mix in mixes:
            results[mix] = run_locust(mix, args, hosts, setup, run, env, tmp)
            t, c = results[mix]["total"], results[mix]["counts"]
            print(f"{mix:5s}: {t['requests']} requests, {t['rps']:.1f}/s, p50 {t['p50']:.0f} ms, p95 {t['p95']:.0f} ms, "
                  f"p99 {t['p99']:.0f} ms, errors {c['errors']}, 5xx {c['server_errors']}, expected 4xx "
                  f"{c['expected_4xx']}, load {results[mix]['load_after']}", flush=True)
            for sample in results[mix]["samples"][:5]:
                print("   ", sample, flush=True)
        outbox = drain_outbox(setup["endpoint"], timeout=120 if args.celery_workers else 10)
    finally:
        stop(procs)
        receiver.server.shutdown()
        from webhooks.models import WebhookEndpoint

        # the receiver is gone: leave no active endpoint that every later action of this database would send to
        WebhookEndpoint.objects.filter(id=setup["endpoint"]).update(is_active=False)
    print(f"webhooks: {outbox['delivered']} delivered, {outbox['pending']} pending, {outbox['failed']} failed "
          f"(receiver got {receiver.count}; waited {outbox['waited_s']} s after the load)", flush=True)

    after = check_invariants()
    print(f"invariants after: {after['violations']} violations over {after['orders']} orders ({after['seconds']} s)",
          flush=True)
    for name, check in after["checks"].items():
        if check["violations"]:
            print(f"   {name}: {check['violations']} e.g. {check['examples']}", flush=True)
    problems = list(cross["problems"]) if cross else []
    totals = run_totals(run) if "write" in results else None
    if totals is not None:
        by_name = results["write"]["by_name"]

        def ok_count(name: str) -> int:
            entry = by_name.get(name, {"requests": 0, "failures": 0})
            return entry["requests"] - entry["failures"]

        expect = {"orders": ok_count("POST /orders (direct create)"),
                  "invoices": ok_count("POST /orders/{id}/invoices"),
                  "shipments": ok_count("POST /orders/{id}/shipments"), "refunds": ok_count("POST /orders/{id}/refunds")}
        got = {"orders": totals["orders"], **totals["documents"]}
        if got != expect:
            problems.append(f"the run's rows {got} do not match its successful requests {expect}")
        finished = [s for s in totals["shapes"] if s["status"] == 4]
        if len(finished) != 1 or finished[0]["grand_total"] != "50.00" or finished[0]["total_refunded"] != "25.00":
            problems.append(f"finished orders do not all have the same totals: {totals['shapes']}")
        if args.servers == 2:
            reference = last_one_server_shapes(args.results_dir)
            if reference is None:
                print("totals: no one-server run recorded to compare with", flush=True)
            elif shape_key([s for s in reference if s["status"] == 4]) != shape_key(finished):
                problems.append(f"two servers' finished orders {finished} differ from one server's {reference}")
            else:
                print("totals: each finished order's totals are those of the one-server run", flush=True)
        print(f"write mix rows: {got} (successful requests: {expect}); Σ grand_total {totals['sum_grand_total']}, "
              f"invoiced {totals['sum_invoiced']}, refunded {totals['sum_refunded']}", flush=True)

    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    rows = []
    for mix, r in results.items():
        rows.append({"when": when, "run": run, "mix": mix, "servers": args.servers, "gunicorn_workers": args.workers,
                     "celery_workers": args.celery_workers, "users": args.users, "duration": args.duration,
                     "orders_in_db": after["orders"], "violations": after["violations"],
                     "invariants": after["checks"], "cross_server": cross, "webhooks": outbox,
                     "run_totals": totals if mix == "write" else None, "problems": problems, **r})
    record(rows, args.results_dir)
    print("\n" + markdown(rows), flush=True)
    print(f"written to {args.results_dir / 'load.txt'} and {args.results_dir / 'load.md'}", flush=True)
    failed = (after["violations"] or problems or outbox["pending"] or outbox["failed"]
              or any(r["counts"]["errors"] or r["counts"]["server_errors"] for r in results.values()))
    for p in problems:
        print("PROBLEM:", p, flush=True)
    print("RESULT:", "FAILED" if failed else "OK", flush=True)
    if not failed:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
