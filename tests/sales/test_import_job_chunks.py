"""Import jobs split into chunks (SPEC §13, issue 12): a large upload becomes chunks of
IMPORT_JOB_CHUNK documents that any worker takes; the job adds up their counts, keeps the first 100
errors in line order whatever order the chunks end in, numbers stay gap-free and stock exact. Two
chunks run at once on PostgreSQL with real threads; tests/sales/test_import_job_worker.py runs them
on two real Celery workers."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection

from catalog.models import Product, ProductInventory
from customers.models import Customer
from sales.models import ImportJob, ImportJobChunk, Order, Shipment
from sales.services.counters import counters_repair
from sales.services.import_jobs import (
    _slices,
    import_job_chunk_run,
    import_job_create,
    import_job_run,
    import_jobs_resume,
)
from tests.catalog.factories import ProductFactory
from tests.sales.helpers import import_document as doc

pytestmark = pytest.mark.django_db


def stocked(sku: str) -> dict:
    """One unit of a catalog product, paid in cash and not shipped: the import reserves it."""
    return {"items": [{"sku": sku, "name": "Stocked", "quantity": 1, "price": {"amount": 1000, "tax": 0}}],
            "payments": [{"driver": "cash", "amount": 1000}]}


def split(upload: str, capture) -> ImportJob:
    """Create and split a job; its chunks' tasks are not sent (the test runs them)."""
    with capture(execute=False):
        job = import_job_create(upload=upload, skip_existing=False, actor=None)
    with capture(execute=False):
        import_job_run(job_id=job.id)
    return ImportJob.objects.get(id=job.id)


def numbers(model=Order) -> list[int]:
    return sorted(int(n) for n in model.objects.values_list("number", flat=True))


def assert_gap_free(values: list[int]) -> None:
    assert values == list(range(values[0], values[0] + len(values)))


def test_json_lines_are_cut_into_chunks_that_keep_the_uploads_line_numbers(settings, django_capture_on_commit_callbacks):
    settings.IMPORT_JOB_CHUNK, settings.IMPORT_JOB_BATCH = 3, 2
    lines = []
    for n in range(1, 11):
        lines.append(json.dumps(doc(f"L-{n}", email="bad") if n in (2, 9) else doc(f"L-{n}")))
        if n in (3, 4):
            lines.append("   ")  # blank lines count as lines, not as documents
    lines.insert(6, "{not json")
    job = split("\n".join(lines) + "\n", django_capture_on_commit_callbacks)
    chunks = list(job.chunks.order_by("index"))
    assert [(c.index, c.first_line, c.total) for c in chunks] == [(0, 1, 3), (1, 5, 3), (2, 9, 3), (3, 12, 2)]
    assert all(c.status == "queued" and c.processed == 0 for c in chunks)
    # The chunks end in any order (here the last first): the job's errors stay in line order.
    for chunk in reversed(chunks):
        import_job_chunk_run(chunk_id=chunk.id)
        job.refresh_from_db()
        assert job.status == ("done" if chunk.index == 0 else "running")
    assert (job.total, job.processed, job.imported, job.failed_count) == (11, 11, 8, 3)
    assert [(e["line"], e["code"]) for e in job.errors] == [(2, "validation_error"), (7, "parse_error"),
                                                           (12, "validation_error")]
    assert job.finished_at is not None
    assert_gap_free(numbers())
    assert [c.processed for c in job.chunks.order_by("index")] == [3, 3, 3, 2]
    assert {c.worker for c in job.chunks.all()} != {""}


def test_an_array_is_cut_into_chunks_of_one_document_per_line(settings, django_capture_on_commit_callbacks):
    settings.IMPORT_JOB_CHUNK = 2
    documents = [doc(f"A-{n}", name="Zoë\u2028Brontë") if n == 2 else doc(f"A-{n}") for n in range(1, 6)]
    documents[3]["email"] = "bad"
    job = split(json.dumps(documents, indent=2), django_capture_on_commit_callbacks)
    assert [(c.first_line, c.total) for c in job.chunks.order_by("index")] == [(1, 2), (3, 2), (5, 1)]
    for chunk in job.chunks.all():
        assert len(chunk.documents.splitlines()) == chunk.total  # U+2028 inside a document does not split it
        import_job_chunk_run(chunk_id=chunk.id)
    job.refresh_from_db()
    assert (job.status, job.imported, job.failed_count) == ("done", 4, 1)
    assert [e["line"] for e in job.errors] == [4]
    assert Order.objects.get(reference="A-1").source_document == documents[0]  # kept as sent


def test_stock_stays_exact_across_chunks(settings, django_capture_on_commit_callbacks):
    settings.IMPORT_JOB_CHUNK = 3
    product = ProductFactory(stock=5)
    documents = [doc(f"S-{n}", **stocked(product.sku)) for n in range(1, 9)]
    job = split(json.dumps(documents), django_capture_on_commit_callbacks)
    for chunk in job.chunks.all():
        import_job_chunk_run(chunk_id=chunk.id)
    job.refresh_from_db()
    assert (job.imported, job.failed_count) == (5, 3)
    assert {e["code"] for e in job.errors} == {"insufficient_stock"} and [e["line"] for e in job.errors] == [6, 7, 8]
    assert Product.objects.get(id=product.id).qty_reserved == 5


def test_a_queued_chunk_whose_task_was_lost_is_sent_again(settings, django_capture_on_commit_callbacks):
    settings.IMPORT_JOB_CHUNK = 1
    job = split(json.dumps([doc("Q-1"), doc("Q-2")]), django_capture_on_commit_callbacks)
    assert import_jobs_resume() == 0  # just split: their tasks are on their way
    settings.IMPORT_JOB_STALE_SECONDS = 0
    with django_capture_on_commit_callbacks(execute=True):
        assert import_jobs_resume() == 2
    job.refresh_from_db()
    assert (job.status, job.imported) == ("done", 2)
    assert import_jobs_resume() == 0


# ---------------------------------------------------------------- two chunks at once (PostgreSQL)

def _worker(chunk_id: int, barrier: threading.Barrier, failures: list[BaseException]) -> None:
    try:
        barrier.wait()
        import_job_chunk_run(chunk_id=chunk_id)
    except BaseException as exc:  # noqa: BLE001 - reported by the main thread
        failures.append(exc)
    finally:
        connection.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_chunks_imported_at_once_keep_numbers_stock_and_customers_exact(settings):
    """Two threads, each a worker with its own connection, import the two chunks of one job at the
    same time; they share products (stock rows locked in turn), new customers (one row each) and
    the numbering (gap-free). Three rounds, so the writes really interleave."""
    if connection.vendor != "postgresql":
        pytest.skip("select_for_update is a no-op on SQLite; run with DATABASE_URL=postgres://…")
    settings.IMPORT_JOB_BATCH, settings.IMPORT_JOB_CHUNK = 5, 40
    for round_ in range(3):
        products = [ProductFactory(stock=30), ProductFactory(stock=30)]
        documents = []
        for n in range(80):
            body = stocked(products[n % 2].sku)
            if n % 3 == 0:
                body["fulfillments"] = [{"state": "successful"}]
            # The same seven new customers in both chunks.
            documents.append(doc(f"T{round_}-{n}", email=f"shared-{round_}-{n % 7}@example.com", **body))
        documents[10]["email"] = "bad"
        # The job as a POST leaves it, split as its first task does; the chunks' tasks go to the threads.
        upload = json.dumps(documents)
        job = ImportJob.objects.create(format="json", upload=upload, total=80, status="running")
        ImportJobChunk.objects.bulk_create(_slices(job))
        chunks = list(job.chunks.order_by("index").values_list("id", flat=True))
        assert len(chunks) == 2
        barrier = threading.Barrier(2)
        failures: list[BaseException] = []
        threads = [threading.Thread(target=_worker, args=(c, barrier, failures)) for c in chunks]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not failures, failures
        job.refresh_from_db()
        # 39 good documents for the first product, 40 for the second, 30 units each.
        assert (job.status, job.processed, job.imported, job.failed_count) == ("done", 80, 60, 20)
        assert sorted(e["code"] for e in job.errors).count("insufficient_stock") == 19
        assert [e["line"] for e in job.errors if e["code"] == "validation_error"] == [11]
        for p in products:
            orders = Order.objects.filter(reference__startswith=f"T{round_}-", items__product=p)
            shipped = orders.filter(items__qty_shipped__gt=0).count()
            p.refresh_from_db()
            assert orders.count() == 30
            assert p.qty_reserved == 30 - shipped
            assert ProductInventory.objects.get(product=p).qty == 30 - shipped
        assert Customer.objects.filter(email__startswith=f"shared-{round_}-").count() == 7
        assert len({c.worker for c in job.chunks.all()}) == 1  # one process, two threads: the same name
    assert_gap_free(numbers())
    assert_gap_free(numbers(Shipment))
    counters_repair()
