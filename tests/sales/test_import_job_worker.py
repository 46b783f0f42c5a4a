"""Import jobs on a real Celery worker (SPEC §13): the POST answers 202 with the job queued, a
worker process reads the upload from the database and runs it, and GET follows it to `done` with
the same counts and line-numbered errors as in-process. PostgreSQL and Redis, like the webhook
worker tests whose fixtures these reuse."""

from __future__ import annotations

import json

import pytest

from sales.models import Order
from tests.sales.helpers import import_document as doc
from tests.webhooks.test_celery_worker import broker, wait_until, workers  # noqa: F401 - fixtures

pytestmark = [pytest.mark.celery, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

URL = "/api/admin/import-jobs"


def test_a_worker_runs_the_job_the_post_queued(api, workers, monkeypatch):  # noqa: F811
    monkeypatch.setenv("IMPORT_JOB_BATCH", "50")
    documents = [doc(f"WK-{n}", email="bad") if n % 25 == 0 else doc(f"WK-{n}") for n in range(1, 201)]
    response = api.post(URL, documents, format="json")
    assert response.status_code == 202
    job = response.json()
    assert job["status"] == "queued" and job["total"] == 200 and job["processed"] == 0  # no worker yet
    workers()
    done = wait_until(lambda: (j := api.get(f"{URL}/{job['id']}").json())["status"] == "done" and j, timeout=60,
                      what="the job done")
    assert (done["processed"], done["imported"], done["failed_count"]) == (200, 192, 8)
    assert [e["line"] for e in done["errors"]] == [25, 50, 75, 100, 125, 150, 175, 200]
    assert Order.objects.count() == 192
    numbers = sorted(int(n) for n in Order.objects.values_list("number", flat=True))
    assert numbers == list(range(numbers[0], numbers[0] + 192))  # gap-free
    assert json.loads(json.dumps(done))["finished_at"] is not None


def test_two_workers_import_the_chunks_of_one_job_at_once(api, workers, monkeypatch):  # noqa: F811
    """A job of 8 chunks on two workers (two processes each): the chunks are spread over several
    processes, the numbers stay gap-free and the counts are those of one process."""
    from sales.models import ImportJobChunk

    monkeypatch.setenv("IMPORT_JOB_BATCH", "20")
    monkeypatch.setenv("IMPORT_JOB_CHUNK", "50")
    workers(), workers()
    documents = [doc(f"TW-{n}", email="bad") if n % 40 == 0 else doc(f"TW-{n}", email=f"c{n % 9}@example.com")
                 for n in range(1, 401)]
    job = api.post(URL, documents, format="json").json()
    done = wait_until(lambda: (j := api.get(f"{URL}/{job['id']}").json())["status"] == "done" and j, timeout=90,
                      what="the job done")
    assert (done["total"], done["processed"], done["imported"], done["failed_count"]) == (400, 400, 390, 10)
    assert [e["line"] for e in done["errors"]] == list(range(40, 401, 40))
    chunks = list(ImportJobChunk.objects.filter(job_id=job["id"]))
    assert len(chunks) == 8 and {c.status for c in chunks} == {"done"}
    assert len({c.worker for c in chunks}) >= 2, [c.worker for c in chunks]
    numbers = sorted(int(n) for n in Order.objects.values_list("number", flat=True))
    assert numbers == list(range(numbers[0], numbers[0] + 390))
    from customers.models import Customer

    assert Customer.objects.filter(email__regex=r"^c[0-8]@example\.com$").count() == 9


def test_a_chunk_whose_worker_is_killed_is_finished_by_another(api, workers, monkeypatch):  # noqa: F811
    """SIGKILL to a worker in the middle of a chunk: after IMPORT_JOB_STALE_SECONDS the other
    worker's beat sends the chunk again, which goes on after its last saved batch; the queued
    chunks the dead worker had taken are sent again too. Nothing imported twice, nothing lost."""
    from sales.models import ImportJobChunk

    monkeypatch.setenv("IMPORT_JOB_BATCH", "5")
    monkeypatch.setenv("IMPORT_JOB_CHUNK", "60")
    monkeypatch.setenv("IMPORT_JOB_STALE_SECONDS", "4")
    monkeypatch.setenv("IMPORT_JOB_SWEEP_SECONDS", "1")
    documents = [doc(f"KL-{n}") for n in range(1, 361)]
    first = workers()
    job = api.post(URL, documents, format="json").json()
    wait_until(lambda: ImportJobChunk.objects.filter(job_id=job["id"], status="running", processed__gt=0).exists(),
               timeout=60, what="a chunk half done")
    first.kill()
    cut = {c.id: c.processed for c in ImportJobChunk.objects.filter(job_id=job["id"])}
    assert any(0 < n < 60 for n in cut.values()), cut  # killed in the middle of a chunk
    workers()
    done = wait_until(lambda: (j := api.get(f"{URL}/{job['id']}").json())["status"] == "done" and j, timeout=120,
                      what="the job finished by the second worker")
    assert (done["processed"], done["imported"], done["failed_count"]) == (360, 360, 0)
    references = list(Order.objects.values_list("reference", flat=True))
    assert sorted(references) == sorted(f"KL-{n}" for n in range(1, 361))  # each once
    numbers = sorted(int(n) for n in Order.objects.values_list("number", flat=True))
    assert numbers == list(range(numbers[0], numbers[0] + 360))
