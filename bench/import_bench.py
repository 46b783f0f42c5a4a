"""Benchmark ``manage.py import_orders`` (SPEC §10: ≥ 2,000 orders/s).

    .venv/bin/python bench/import_bench.py [--orders 20000] [--rounds 3] [--batch-size 500] [--existing 1000000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/orderdesk .venv/bin/python bench/import_bench.py
    DATABASE_URL=postgres://… .venv/bin/python bench/import_bench.py --job-workers 1,2 [--chunk 2500]

With ``--job-workers`` each round is an import job (SPEC §13) instead of the command: the
upload goes in through ``import_job_create``, ``N`` Celery worker processes (Redis at
``BENCH_BROKER_URL``, default redis://127.0.0.1:6379/14), started before the clock, import its
chunks, and the time runs from the job's creation to its ``done``; rounds alternate between the
worker counts given, so both see the same machine.

Generates varied seed-002 documents (1–5 lines by sku, product id, variant id or custom;
nested and tax-inclusive prices; line and order discounts; several currencies, statuses and
customers; payments that cover the total or not; successful and pending fulfillments;
comments; ``buy_items`` true or false) to a temporary ``.jsonl`` file per round, and times
the command in-process (Django start-up excluded) on the database engine DATABASE_URL names.

As deployed, the command's Celery tasks (the order e-mails of documents with ``notify``) go to
a broker: Redis at ``BENCH_BROKER_URL`` when it answers (the queue is emptied after; no worker
runs them), else they run in-process as under ``make run`` (``--eager-tasks`` forces that).
With ``--existing N`` the scratch database first gets ``seed_demo --orders N`` (SPEC §15: the
figure at 1,000,000 orders), and the rounds import next to them. On PostgreSQL each round starts
after an (untimed) ``VACUUM ANALYZE`` (``_vacuum``).

It never touches the database DATABASE_URL points at: it works on a scratch copy of the same
engine (a temporary SQLite file, or a ``<name>_import_bench`` PostgreSQL database that it
creates and drops). Prints orders/s per round and the median, and appends the result to
``bench/results/import.txt``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "import.txt"
sys.path.insert(0, str(ROOT))

N_PRODUCTS = 200
N_CUSTOMERS = 2000


def _scratch_database() -> tuple[str, callable]:
    """A scratch database URL of the configured engine, and a function that removes it."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        import dj_database_url
        import psycopg

        cfg = dj_database_url.parse(url)
        name = f"{cfg['NAME']}_import_bench"
        admin = dict(host=cfg["HOST"] or None, port=cfg["PORT"] or None, user=cfg["USER"] or None,
                     password=cfg["PASSWORD"] or None, dbname="postgres", autocommit=True)

        def run(sql: str) -> None:
            with psycopg.connect(**{k: v for k, v in admin.items() if v is not None}) as conn:
                conn.execute(sql)

        run(f'DROP DATABASE IF EXISTS "{name}"')
        run(f'CREATE DATABASE "{name}"')
        scratch = url.rsplit("/", 1)[0] + "/" + name

        def drop() -> None:
            from django.db import connections

            connections.close_all()
            run(f'DROP DATABASE IF EXISTS "{name}"')

        return scratch, drop
    fd, path = tempfile.mkstemp(prefix="import_bench_", suffix=".sqlite3")
    os.close(fd)
    return f"sqlite:///{path}", lambda: os.path.exists(path) and os.unlink(path)


def _setup_store() -> dict:
    from decimal import Decimal

    from catalog.models import InventorySource, Product, ProductInventory, TaxCategory, TaxRate
    from customers.models import Customer

    standard = TaxCategory.objects.create(code="standard", name="Standard")
    for country, rate in (("GB", "20"), ("DE", "19"), ("US", "0"), ("FR", "20")):
        TaxRate.objects.create(category=standard, country=country, rate=Decimal(rate))
    source = InventorySource.objects.get(code="default")
    products = Product.objects.bulk_create([
        Product(sku=f"BENCH-{n:04d}", name=f"Bench product {n}", price=Decimal("10.00"),
                tax_category=standard if n % 3 else None, type="virtual" if n % 25 == 0 else "simple")
        for n in range(N_PRODUCTS)])
    parent = Product.objects.create(sku="BENCH-PARENT", name="Configurable", price=Decimal("20.00"),
                                    type="configurable")
    variants = Product.objects.bulk_create([
        Product(sku=f"BENCH-VAR-{n}", name=f"Variant {n}", price=Decimal("20.00"), parent=parent) for n in range(3)])
    ProductInventory.objects.bulk_create([ProductInventory(product=p, source=source, qty=10_000_000)
                                          for p in [*products, *variants]])
    customers = Customer.objects.bulk_create([Customer(email=f"bench{n}@example.com", first_name="Bench",
                                                       last_name=str(n)) for n in range(N_CUSTOMERS)])
    return {"products": [p for p in products], "variants": variants, "parent": parent,
            "customer_ids": [c.id for c in customers]}


STATES = ["pending", "processing", "completed", "canceled", "closed", "fraud", "pending_payment"]
CITIES = [("GB", "London", "EC1A 1BB"), ("DE", "Berlin", "10115"), ("US", "Austin", "73301"), ("FR", "Paris", "75001")]


def _document(rng: random.Random, n: int, prefix: str, store: dict) -> dict:
    country, city, postcode = rng.choice(CITIES)
    address = {"first_name": rng.choice(["Ada", "Alan", "Grace", "Linus"]), "last_name": f"Buyer{n % 997}",
               "company": None, "mobile": "+44 7700 900123" if rng.random() < 0.3 else None,
               "phone": None if rng.random() < 0.5 else "+1 555 0100", "line_1": f"{n % 200 + 1} High St",
               "line_2": None, "city": city, "zone": None, "postcode": postcode, "country": country,
               "reference": None, "eori_number": None}
    items, gross_total = [], 0.0
    for k in range(rng.randint(1, 5)):
        qty = rng.randint(1, 4)
        kind = rng.random()
        item: dict = {"quantity": qty}
        if kind < 0.55:
            item["sku"] = rng.choice(store["products"]).sku
        elif kind < 0.7:
            item["product_id"] = str(rng.choice(store["products"]).id)
        elif kind < 0.8:
            item["variant_id"] = rng.choice(store["variants"]).id
        elif kind < 0.85:
            item["product_id"] = store["parent"].id
        else:
            item.update(sku=f"CUSTOM-{n}-{k}", name="Gift wrap" if kind < 0.95 else "Engraving",
                        shippable=rng.random() < 0.5)
        amount = round(rng.uniform(100, 20000), 2)
        if rng.random() < 0.2:
            item["price"] = round(amount * 1.2, 2)
            gross = item["price"] * qty
        else:
            tax = round(amount * rng.choice([0, 0.05, 0.2]), 2)
            item["price"] = {"amount": amount, "tax": tax}
            gross = (amount + tax) * qty
        if rng.random() < 0.3:
            disc = round(amount * qty * 0.1, 2)
            disc_tax = round(disc * 0.2, 2) if isinstance(item["price"], dict) and item["price"]["tax"] else 0
            item["discount"] = {"amount": disc, "tax": disc_tax}
            gross -= disc + disc_tax
        gross_total += gross
        items.append(item)
    doc: dict = {"reference": f"{prefix}-{n:07d}", "currency": rng.choice(["GBP", "GBP", "USD", "EUR"]),
                 "billing_address": address, "items": items, "eori_number": "GB123456789000" if n % 7 == 0 else None}
    if rng.random() < 0.6:
        doc["shipping_address"] = dict(address)
    who = rng.random()
    if who < 0.15:
        doc["customer_id"] = rng.choice(store["customer_ids"])
    elif who < 0.6:
        doc["email"] = f"bench{rng.randrange(N_CUSTOMERS)}@example.com"
    else:
        doc["email"] = f"new-{prefix}-{n % 5000}@example.com"
    if rng.random() < 0.8:
        doc["ordered_at"] = (datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=n)).isoformat().replace("+00:00", "Z")
        if rng.random() < 0.7:
            doc["status_id"] = rng.randint(1, 7)
        else:
            doc["state"] = rng.choice(STATES)
    shipping = rng.choice([0, 0, 499, 1000])
    if shipping:
        doc["shipping"] = {"amount": round(shipping / 1.2, 2), "tax": round(shipping - shipping / 1.2, 2)}
        gross_total += shipping
    if rng.random() < 0.1:  # an order-level discount beyond the lines' (5% more of the net subtotal)
        net = sum((i["price"]["amount"] if isinstance(i["price"], dict) else i["price"] / 1.2) * i["quantity"]
                  for i in items)
        doc["discount"] = {"amount": round(sum(i.get("discount", {}).get("amount", 0) for i in items) + net * 0.05, 2),
                           "tax": round(sum(i.get("discount", {}).get("tax", 0) for i in items), 2)}
    pay = rng.random()
    if pay < 0.7:
        doc["payments"] = [{"driver": rng.choice(["cash", "moneytransfer", "cashondelivery", "stripe"]),
                            "amount": round(gross_total + 5, 2), "reference": f"PAY-{prefix}-{n}"}]
    elif pay < 0.85:
        doc["payments"] = [{"driver": "stripe", "amount": round(gross_total / 2, 2),
                            "state": rng.choice(["authorized", "pending", "partially captured", "refunded"])}]
    if rng.random() < 0.25:
        fulfillment: dict = {"state": "successful" if rng.random() < 0.7 else rng.choice(["pending", "open"]),
                             "method": rng.choice(["Royal Mail", "DHL", 3]), "tracking_code": f"TRK{n}",
                             "reference": f"FUL-{n}"}
        shippable_skus = [i["sku"] for i in items if i.get("sku", "").startswith("BENCH-")
                          and int(i["sku"][6:]) % 25]
        if shippable_skus and rng.random() < 0.3:
            fulfillment["items"] = [{"sku": shippable_skus[0], "quantity": 1}]
        doc["fulfillments"] = [fulfillment]
    if rng.random() < 0.3:
        doc["comments"] = [{"admin": rng.choice(["support@example.com", "Legacy system"]),
                            "message": "Imported from the old shop", "customer_facing": rng.random() < 0.2,
                            "created_at": "2024-02-01 10:00:00"}]
    doc["buy_items"] = rng.random() < 0.8
    doc["notify"] = rng.random() < 0.01
    return doc


def _write_file(path: Path, count: int, prefix: str, store: dict, seed: int) -> None:
    rng = random.Random(seed)
    with path.open("w") as fh:
        for n in range(count):
            fh.write(json.dumps(_document(rng, n, prefix, store)) + "\n")


def _start_workers(count: int, env: dict[str, str], logdir: Path) -> list:
    import subprocess

    procs = []
    logs = []
    for n in range(count):
        logs.append(logdir / f"worker{n}.log")
        with logs[-1].open("w") as log:
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency", "1", "-l", "info",
                 "--hostname", f"bench{n}-{os.getpid()}@%h", "--without-gossip", "--without-mingle"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
    deadline = time.monotonic() + 60
    for log in logs:
        while " ready." not in Path(log).read_text():
            if time.monotonic() > deadline:
                raise SystemExit(f"a worker did not start: {Path(log).read_text()[-2000:]}")
            time.sleep(0.2)
    return procs


def _stop_workers(procs: list) -> None:
    import signal

    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(20)
        except Exception:  # noqa: BLE001 - a worker that does not stop is killed
            os.killpg(p.pid, signal.SIGKILL)


def _empty_orders() -> None:
    """Remove the orders (and everything that hangs on them) and the jobs of earlier rounds."""
    from django.db import connection

    from sales.models import ImportJob, Order, OrderCounter, SalesDay

    if connection.vendor == "postgresql":
        tables = ", ".join(f'"{m._meta.db_table}"' for m in (Order, ImportJob, OrderCounter, SalesDay))
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {tables} CASCADE")
            cursor.execute("VACUUM ANALYZE")
        return
    for model in (ImportJob, OrderCounter, SalesDay, Order):
        model.objects.all().delete()


def _job_round(path: Path, workers: int, env: dict[str, str]) -> tuple[int, float, int]:
    """Import ``path`` as one job on ``workers`` fresh worker processes: (imported, seconds, chunks)."""
    from sales.models import ImportJob
    from sales.services.import_jobs import import_job_create

    procs = _start_workers(workers, env, path.parent)
    try:
        started = time.perf_counter()
        job = import_job_create(upload=path.read_text(), skip_existing=False, actor=None)
        while True:
            job = ImportJob.objects.get(id=job.id)
            if job.status in ("done", "failed"):
                break
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        if job.status != "done":
            raise SystemExit(f"job {job.id} failed: {job.failure}")
        by_worker = Counter(job.chunks.values_list("worker", flat=True))
        print("   chunks by worker process:", dict(sorted(by_worker.items())), flush=True)
        return job.imported, elapsed, job.chunks.count()
    finally:
        _stop_workers(procs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--profile", metavar="FILE",
                        help="Run the last round under cProfile and write its stats to FILE (pstats); that "
                             "round's rate is not comparable and the result line is not appended")
    parser.add_argument("--no-append", action="store_true", help="Print the result line only")
    parser.add_argument("--job-workers", metavar="N[,M…]",
                        help="Import each round as an import job on N Celery worker processes (rounds alternate "
                             "between the counts given)")
    parser.add_argument("--chunk", type=int, default=2500, help="IMPORT_JOB_CHUNK for --job-workers")
    parser.add_argument("--existing", type=int, default=0, metavar="N",
                        help="seed_demo N orders into the scratch database first (the rounds import next to them)")
    parser.add_argument("--eager-tasks", action="store_true",
                        help="Run the command's Celery tasks (e-mails) in-process even when Redis is up")
    args = parser.parse_args()
    if args.job_workers:
        return _main_jobs(args)

    engine = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    scratch, drop = _scratch_database()
    os.environ["DATABASE_URL"] = scratch
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.dummy.EmailBackend"
    os.environ["DEBUG"] = "false"  # as in production: no SQL logging
    os.environ.setdefault("SECRET_KEY", "import-bench-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # As deployed (README, SPEC §13), the command hands its e-mails to Celery's broker rather than
    # sending them itself; without Redis (or with --eager-tasks) they run in-process, as under `make run`.
    broker = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14")
    tasks = "in-process (eager)"
    if not args.eager_tasks and _redis_up(broker):
        os.environ["CELERY_BROKER_URL"] = broker
        tasks = f"queued to {broker}"
    import django

    django.setup()
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from sales.models import Order

    _flush_broker(os.environ.get("CELERY_BROKER_URL"))
    try:
        call_command("migrate", verbosity=0)
        store = _setup_store()
        if args.existing:  # the table as a shop that has been trading holds it (SPEC §15: at 1,000,000)
            started = time.perf_counter()
            call_command("seed_demo", orders=args.existing, no_progress=True, verbosity=0)
            seeded = time.perf_counter() - started
            _vacuum(engine)
            print(f"{Order.objects.count():,} orders there before the rounds (seed_demo {seeded:.0f} s, then "
                  f"VACUUM ANALYZE; load {os.getloadavg()[0]:.1f})", flush=True)
        rates: list[float] = []
        cpu_ms: list[float] = []
        with tempfile.TemporaryDirectory() as tmp:
            for r in range(args.rounds):
                path = Path(tmp) / f"round{r}.jsonl"
                _write_file(path, args.orders, f"R{r}", store, seed=r)
                _vacuum(engine)
                before = Order.objects.count()
                cpu_started = time.process_time()
                started = time.perf_counter()
                profiler = None
                if args.profile and r == args.rounds - 1:
                    import cProfile

                    profiler = cProfile.Profile()
                    profiler.enable()
                try:
                    call_command("import_orders", str(path), batch_size=args.batch_size, verbosity=0)
                except CommandError as exc:  # failed lines are reported above; the rate counts what was imported
                    print(f"round {r + 1}: {exc}", flush=True)
                elapsed = time.perf_counter() - started
                cpu = time.process_time() - cpu_started
                if profiler is not None:
                    profiler.disable()
                    profiler.dump_stats(args.profile)
                imported = Order.objects.count() - before
                rate = imported / elapsed
                rates.append(rate)
                cpu_ms.append(cpu / imported * 1000)
                print(f"round {r + 1}: {imported} orders in {elapsed:.2f} s = {rate:,.0f} orders/s "
                      f"({cpu_ms[-1]:.2f} ms CPU an order in this process; load {os.getloadavg()[0]:.1f})", flush=True)
        median = statistics.median(rates)
        line = (f"{datetime.now(UTC):%Y-%m-%d %H:%M} import_orders {engine}: {args.orders} docs x {args.rounds} "
                f"rounds, batch {args.batch_size}, {args.existing:,} orders there before: median {median:,.0f} orders/s "
                f"(rounds: {', '.join(f'{x:,.0f}' for x in rates)}; target >= 2,000); "
                f"{statistics.median(cpu_ms):.2f} ms CPU an order in the importing process; tasks {tasks} "
                f"[python {platform.python_version()}, {os.cpu_count()} cpus, load average {os.getloadavg()[0]:.1f}]")
        print(line)
        if args.profile or args.no_append:
            return
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        with RESULTS.open("a") as fh:
            fh.write(line + "\n")
    finally:
        _flush_broker(os.environ.get("CELERY_BROKER_URL"))
        drop()


def _vacuum(engine: str) -> None:
    """Before each round (untimed), on PostgreSQL: VACUUM ANALYZE, so every round starts from a
    database as autovacuum keeps a trading shop's. Without it autovacuum's passes over the grown
    tables (the seeded million, or the rounds before) land inside some rounds, on the same two
    cores as the import: rounds then vary by ±15 %."""
    if engine != "postgresql":
        return
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")


def _redis_up(url: str) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except Exception:  # no redis package, or no server: tasks run in-process
        return False


def _flush_broker(url: str | None) -> None:
    """Empty the bench's broker database (the e-mail tasks the rounds queued; no worker runs them)."""
    if url:
        import redis

        redis.Redis.from_url(url).flushdb()


def _main_jobs(args: argparse.Namespace) -> None:
    counts = [int(x) for x in args.job_workers.split(",")]
    engine = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    scratch, drop = _scratch_database()
    broker = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14")
    env = {**os.environ, "DATABASE_URL": scratch, "CELERY_BROKER_URL": broker, "DEBUG": "false",
           "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend", "SECRET_KEY": "import-bench-only",
           "IMPORT_JOB_CHUNK": str(args.chunk), "IMPORT_JOB_BATCH": str(args.batch_size), "CONN_MAX_AGE": "0"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "CELERY_BROKER_URL", "DEBUG", "EMAIL_BACKEND",
                                           "SECRET_KEY", "IMPORT_JOB_CHUNK", "IMPORT_JOB_BATCH")})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    import redis
    from django.core.management import call_command

    redis.Redis.from_url(broker).flushdb()
    rates: dict[int, list[float]] = {c: [] for c in counts}
    try:
        call_command("migrate", verbosity=0)
        store = _setup_store()
        from django.db import connections

        connections.close_all()
        with tempfile.TemporaryDirectory() as tmp:
            for r in range(args.rounds * len(counts)):
                workers = counts[r % len(counts)]
                path = Path(tmp) / f"round{r}.jsonl"
                _empty_orders()  # every round starts from the same database, whichever ran before
                _write_file(path, args.orders, f"J{r}", store, seed=r)
                imported, elapsed, chunks = _job_round(path, workers, env)
                rates[workers].append(imported / elapsed)
                print(f"round {r + 1}: {workers} worker(s), {chunks} chunks: {imported} orders in {elapsed:.2f} s = "
                      f"{imported / elapsed:,.0f} orders/s (load {os.getloadavg()[0]:.1f})", flush=True)
        figures = "; ".join(f"{c} worker(s) median {statistics.median(v):,.0f} orders/s "
                            f"(rounds: {', '.join(f'{x:,.0f}' for x in v)})" for c, v in rates.items())
        line = (f"{datetime.now(UTC):%Y-%m-%d %H:%M} import job {engine}: {args.orders} docs, chunks of {args.chunk}, "
                f"batch {args.batch_size}, {args.rounds} rounds each: {figures} "
                f"[python {platform.python_version()}, {os.cpu_count()} cpus, load average {os.getloadavg()[0]:.1f}]")
        print(line)
        if not args.no_append:
            with RESULTS.open("a") as fh:
                fh.write(line + "\n")
    finally:
        redis.Redis.from_url(broker).flushdb()
        drop()


if __name__ == "__main__":
    main()
