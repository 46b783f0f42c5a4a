"""Count by status and the dashboard's reads at scale (SPEC §10, §14, §15; issue 15).

Usage:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/od_counters_bench \
        .venv/bin/python bench/counts_bench.py --orders 100000 --runs 60

Seeds the database with `seed_demo --orders N` when it holds fewer orders (seed_demo keeps the
counters as it writes), checks once that the counters and rollups equal a recount (and how long
that recount takes), then times in-process: the count endpoint and the selector under it, the
GROUP BY it replaced, the API list (unfiltered and by status: their `count` reads the counters),
and the dashboard's read functions over 30 days. Medians and p95 in ms of --runs runs each, the
machine's load average noted. Results are appended to bench/results/counts.txt.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/od_counters_bench")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-" + "x" * 40)
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")


def timed(fn, runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(int(len(samples) * 0.95) - 1, 0)]


def pad(connection, have: int, wanted: int) -> None:
    """Copy order rows (not their lines or documents) until ``wanted``: unique columns get new values."""
    from sales.models import Order

    fields = [f for f in Order._meta.concrete_fields if not f.primary_key]
    columns = [f.column for f in fields]
    fresh = {"number": "'P' || o.id || '-' || g", "reference": "NULL", "cart_id": "NULL", "checkout_token": "NULL",
             "work_left": "0", "source_document": "NULL"}
    select = [fresh.get(c, f"o.{c}") for c in columns]
    copies = 0
    with connection.cursor() as cur:
        cur.execute("SELECT max(id) FROM sales_order")
        top = cur.fetchone()[0]
        g = 0
        while have + copies < wanted:
            g += 1
            chunk = min(have, wanted - have - copies)
            for start in range(0, chunk, 50_000):
                n = min(50_000, chunk - start)
                cur.execute(f"INSERT INTO sales_order ({', '.join(columns)}) SELECT {', '.join(select)} "
                            f"FROM sales_order o CROSS JOIN (SELECT {g} AS g) gg WHERE o.id <= %s "
                            f"ORDER BY o.id OFFSET %s LIMIT %s", [top, start, n])
                copies += n
                print(f"  padded {have + copies}", flush=True)
        cur.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--skip-check", action="store_true", help="do not run the full recount first")
    parser.add_argument("--pad", action="store_true",
                        help="PostgreSQL: reach --orders by copying the seeded order rows (INSERT … SELECT, no "
                             "lines, work_left 0) instead of seeding, then rebuild the counters with "
                             "recount_order_counters --repair (for 1M when seed_demo is too slow on a loaded box)")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT / "bench"))
    from pages_bench import ensure_database

    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from accounts.models import User
    from accounts.services.auth import token_issue
    from sales import selectors
    from sales.models import Order
    from sales.services.counters import counters_check

    notes = []
    have = Order.objects.count()
    if have < args.orders and args.pad and have:
        start = time.perf_counter()
        pad(connection, have, args.orders)
        notes.append(f"padded {have} -> {args.orders} orders by row copies in {time.perf_counter() - start:.0f} s")
        print(notes[-1], flush=True)
        start = time.perf_counter()
        call_command("recount_order_counters", "--repair", stdout=StringIO())
        notes.append(f"recount_order_counters --repair at {args.orders}: {time.perf_counter() - start:.1f} s")
        print(notes[-1], flush=True)
        have = Order.objects.count()
    if have < args.orders:
        print(f"seeding: {have} orders present, {args.orders} wanted", flush=True)
        from catalog.models import Product

        if have and Product.objects.exists():
            raise SystemExit("database has data but too few orders; drop it or use another DATABASE_URL")
        start = time.perf_counter()
        call_command("seed_demo", orders=args.orders - have)
        took = time.perf_counter() - start
        notes.append(f"seed_demo --orders {args.orders - have}: {took:.1f} s ({(args.orders - have) / took:.0f}/s, "
                     f"counters kept as it writes)")
        print(notes[-1], flush=True)
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("ANALYZE")
    if not args.skip_check:
        start = time.perf_counter()
        found = counters_check()
        notes.append(f"full recount (counters_check): {time.perf_counter() - start:.1f} s, "
                     f"{'exact' if not found else 'DIFFERENCES: ' + '; '.join(found.lines(5))}")
        print(notes[-1], flush=True)
    admin = User.objects.filter(is_superuser=True).order_by("id").first()
    if admin is None:
        admin = User.objects.create_superuser("bench@example.com", "bench-password-1", name="Bench")
    token = token_issue(user=admin).token
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    def check(resp):
        assert resp.status_code == 200, resp.status_code
        return resp

    today = timezone.now().date()
    start_day = today - timedelta(days=29)

    def group_by():
        return dict(Order.objects.filter(archived_at__isnull=True).order_by().values_list("status")
                    .annotate(n=Count("*")))

    reads = {
        "API count by status (endpoint)": lambda: check(api.get("/api/admin/orders/count")),
        "order_count_by_status() (counters)": selectors.order_count_by_status,
        "  the GROUP BY it replaced": group_by,
        "API order list (page of 50, count)": lambda: check(api.get("/api/admin/orders?page_size=50")),
        "API order list, status=processing": lambda: check(api.get("/api/admin/orders?status=processing&page_size=50")),
        "orders_waiting()": selectors.orders_waiting,
        "revenue_by_day(30 days)": lambda: selectors.revenue_by_day(start_day, today),
        "orders_placed_summary(30 days)": lambda: selectors.orders_placed_summary(start_day, today),
        "top_products(30 days, 10)": lambda: selectors.top_products(start_day, today),
        "all four dashboard reads": lambda: (selectors.orders_waiting(), selectors.revenue_by_day(start_day, today),
                                             selectors.orders_placed_summary(start_day, today),
                                             selectors.top_products(start_day, today)),
    }
    load_before = os.getloadavg()
    lines = [f"# {time.strftime('%Y-%m-%d %H:%M')} {connection.vendor}, {Order.objects.count()} orders, "
             f"{args.runs} runs each (median / p95 ms), load avg before {load_before[0]:.2f} "
             f"({os.cpu_count()} cores, shared with other agents)", *notes]
    for name, fn in reads.items():
        fn()  # warm
        median, p95 = timed(fn, args.runs)
        lines.append(f"in-process  {name:38s} {median:8.2f} / {p95:8.2f}")
        print(lines[-1], flush=True)
    lines.append(f"load avg after {os.getloadavg()[0]:.2f}")
    out = ROOT / "bench" / "results" / "counts.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a") as fh:
        fh.write("\n".join(lines) + "\n\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
