"""Page speed at scale (SPEC §10, §14): API order list / detail / count, admin change list, order
page, and the admin index with its dashboard (plus sales.dashboard.dashboard_figures on its own).

Usage:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/orderdesk_bench \
        .venv/bin/python bench/pages_bench.py --orders 100000 --runs 60

Seeds the database with `seed_demo --orders N` when it holds fewer orders, then measures each
page in-process (Django test client) and over HTTP (gunicorn on 127.0.0.1, DEBUG off), and
prints medians and p95 in milliseconds, with the load average before and after (the machine may
be shared). Results are appended to bench/results/pages.txt. ``--only dashboard`` measures just
the dashboard rows.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/orderdesk_bench")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-" + "x" * 40)
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")


def ensure_database(url: str) -> None:
    if not url.startswith("postgres"):
        return
    import psycopg

    name = url.rsplit("/", 1)[1]
    base = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(base, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def timed(fn, runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def calibrate() -> float:
    """The time of a fixed pure-Python loop (as bench/seed_bench.py): how busy the machine is."""
    started = time.perf_counter()
    x = 0
    for i in range(5_000_000):
        x += i
    return time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--only", default="", help="measure only the pages whose name contains this (case-insensitive)")
    args = parser.parse_args()

    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # DEBUG is off: manifest storage
    from accounts.models import User
    from accounts.services.auth import token_issue
    from sales import dashboard, selectors
    from sales.dashboard import dashboard_figures
    from sales.models import Order

    have = Order.objects.count()
    if have < args.orders:
        print(f"seeding: {have} orders present, {args.orders} wanted", flush=True)
        from catalog.models import Product

        if Product.objects.exists():
            raise SystemExit("database has data but too few orders; drop it or use another DATABASE_URL")
        start = time.perf_counter()
        call_command("seed_demo", orders=args.orders)
        print(f"seed_demo --orders {args.orders}: {time.perf_counter() - start:.1f} s", flush=True)
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("ANALYZE")
    admin = User.objects.filter(is_superuser=True).order_by("id").first()
    token = token_issue(user=admin).token
    ids = list(Order.objects.order_by("?").values_list("id", flat=True)[:200])
    rng = random.Random(7)

    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    web = Client()
    web.force_login(admin)

    def check(resp):
        assert resp.status_code == 200, resp.status_code
        return resp

    pages = {
        "API order list (page of 50)": lambda: check(api.get("/api/admin/orders?page_size=50")),
        "API order list, status filter": lambda: check(api.get("/api/admin/orders?status=processing&page_size=50")),
        "API order detail": lambda: check(api.get(f"/api/admin/orders/{rng.choice(ids)}")),
        "API count by status": lambda: check(api.get("/api/admin/orders/count")),
        "Admin Sales → Orders change list": lambda: check(web.get("/admin/sales/order/")),
        "Admin order page": lambda: check(web.get(f"/admin/sales/order/{rng.choice(ids)}/change/")),
        "Admin index (dashboard)": lambda: check(web.get("/admin/")),
        "dashboard_figures() alone": dashboard_figures,
    }
    # Each of the dashboard's five reads on its own (which one the time goes to).
    end = datetime.now(UTC).date()
    start = end - timedelta(days=dashboard.DAYS - 1)
    pages.update({
        "dashboard read revenue_by_day": lambda: selectors.revenue_by_day(start, end),
        "dashboard read orders_placed_summary": lambda: selectors.orders_placed_summary(start, end),
        "dashboard read order_count_by_status": selectors.order_count_by_status,
        "dashboard read top_products": lambda: selectors.top_products(start, end),
        "dashboard read orders_waiting": selectors.orders_waiting,
    })
    only = args.only.lower()
    pages = {name: fn for name, fn in pages.items() if only in name.lower()}
    load_before = os.getloadavg()
    lines = [f"# {time.strftime('%Y-%m-%d %H:%M')} {connection.vendor}, {Order.objects.count()} orders, "
             f"{args.runs} runs each (median / p95 ms); load average before {load_before[0]:.2f} "
             f"{load_before[1]:.2f} {load_before[2]:.2f} on {os.cpu_count()} CPUs; calibration "
             f"{calibrate():.2f} s (a fixed pure-Python loop, ~0.2 s on an idle core)"]
    for name, fn in pages.items():
        fn()  # warm
        median, p95 = timed(fn, args.runs)
        lines.append(f"in-process  {name:40s} {median:7.1f} / {p95:7.1f}")
        print(lines[-1], flush=True)

    if not args.no_http:
        port = free_port()
        env = {**os.environ}
        server = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "config.wsgi", "-b", f"127.0.0.1:{port}",
                                   "-w", "2", "--log-level", "warning"], cwd=ROOT, env=env)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    urllib.request.urlopen(base + "/admin/login/", timeout=2)
                    break
                except Exception:
                    time.sleep(0.2)
            session = web.cookies["sessionid"].value

            def http(path, *, bearer=True):
                req = urllib.request.Request(base + path)
                if bearer:
                    req.add_header("Authorization", f"Bearer {token}")
                else:
                    req.add_header("Cookie", f"sessionid={session}")
                with urllib.request.urlopen(req, timeout=30) as resp:
                    resp.read()
                    assert resp.status == 200

            http_pages = {
                "API order list (page of 50)": lambda: http("/api/admin/orders?page_size=50"),
                "API order detail": lambda: http(f"/api/admin/orders/{rng.choice(ids)}"),
                "API count by status": lambda: http("/api/admin/orders/count"),
                "Admin Sales → Orders change list": lambda: http("/admin/sales/order/", bearer=False),
                "Admin order page": lambda: http(f"/admin/sales/order/{rng.choice(ids)}/change/", bearer=False),
                "Admin index (dashboard)": lambda: http("/admin/", bearer=False),
            }
            http_pages = {name: fn for name, fn in http_pages.items() if only in name.lower()}
            for name, fn in http_pages.items():
                fn()
                median, p95 = timed(fn, args.runs)
                lines.append(f"over HTTP   {name:40s} {median:7.1f} / {p95:7.1f}")
                print(lines[-1], flush=True)
        finally:
            server.terminate()
            server.wait(timeout=10)

    load_after = os.getloadavg()
    lines.append(f"# load average after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    out = ROOT / "bench" / "results" / "pages.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a") as fh:
        fh.write("\n".join(lines) + "\n\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
