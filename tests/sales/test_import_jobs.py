"""Import jobs (SPEC §13): POST /api/admin/import-jobs with a JSON array or a JSON Lines / array
file, the job's counts and first 100 errors with line numbers, nothing half-written for a
refused document, skip_existing, permissions, refusals that write nothing, and the list / detail.
Without a broker the job runs inside the POST (here); tests/sales/test_import_job_worker.py runs
it on a real worker."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.models import Product
from sales.models import ImportJob, ImportJobChunk, Order
from sales.services.import_jobs import import_job_chunk_run, import_job_create, import_job_run
from tests.catalog.factories import ProductFactory
from tests.sales.helpers import import_document as doc
from tests.sales.lifecycle_support import assert_error

pytestmark = pytest.mark.django_db

URL = "/api/admin/import-jobs"


def upload(text: str, name: str = "orders.jsonl") -> dict:
    return {"file": SimpleUploadedFile(name, text.encode(), content_type="application/octet-stream")}


@pytest.fixture
def post(api, django_capture_on_commit_callbacks):
    """POST as the superuser (or ``client``); the job starts when the POST's transaction commits (in a
    test: when the block ends). A 202 is answered with the job re-read after it ran (a GET, so 200)."""
    def send(*args, client=None, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            response = (client or api).post(*args, **kwargs)
        if response.status_code == 202:  # answered with the job as it stood (queued): read it again, finished
            assert response.json()["status"] == "queued"
            return (client or api).get(f"{URL}/{response.json()['id']}")
        return response
    return send


def refs() -> list[str]:
    return sorted(Order.objects.values_list("reference", flat=True))


def test_a_json_array_with_good_and_bad_documents(api, post):
    widget = ProductFactory(sku="WIDGET", stock=3)
    documents = [
        doc("A-1"),
        doc("A-2", email="not-an-email"),
        doc("A-3", items=[{"variant_id": widget.id, "quantity": 2, "price": {"amount": 500, "tax": 0}}]),
        doc("A-4", items=[{"variant_id": widget.id, "quantity": 2, "price": {"amount": 500, "tax": 0}}]),  # 1 left
        doc("A-1"),  # the same reference again
        doc("A-6"),
    ]
    response = post(URL, documents, format="json")
    assert response.status_code == 200, response.json()
    job = response.json()
    assert set(job) == {"id", "status", "total", "processed", "imported", "skipped", "failed_count", "errors",
                        "created_at", "finished_at"}
    assert (job["status"], job["total"], job["processed"], job["imported"], job["skipped"], job["failed_count"]) == \
        ("done", 6, 6, 3, 0, 3)
    assert job["finished_at"] is not None
    assert [(e["line"], e["reference"], e["code"]) for e in job["errors"]] == [
        (2, "A-2", "validation_error"), (4, "A-4", "insufficient_stock"), (5, "A-1", "duplicate_reference")]
    assert all(e["message"] for e in job["errors"])
    assert refs() == ["A-1", "A-3", "A-6"]
    # The refused document wrote nothing: its stock is still there to reserve, no order, no line.
    assert Product.objects.get(id=widget.id).qty_reserved == 2
    # Numbers stay gap-free.
    numbers = sorted(int(n) for n in Order.objects.values_list("number", flat=True))
    assert numbers == list(range(numbers[0], numbers[0] + 3))
    assert api.get(f"{URL}/{job['id']}").json() == job


def test_a_json_lines_file_reports_errors_by_line(post):
    lines = [json.dumps(doc("L-1")), "", "{not json", json.dumps(doc("L-4", email="bad")), "[1, 2]",
             json.dumps(doc("L-6"))]
    response = post(URL, upload("\n".join(lines) + "\n"), format="multipart")
    assert response.status_code == 200, response.json()
    job = response.json()
    assert (job["status"], job["total"], job["processed"], job["imported"], job["failed_count"]) == ("done", 5, 5, 2, 3)
    assert [(e["line"], e["reference"], e["code"]) for e in job["errors"]] == [
        (3, None, "parse_error"), (4, "L-4", "validation_error"), (5, None, "validation_error")]
    assert refs() == ["L-1", "L-6"]


def test_a_json_array_file(post):
    response = post(URL, upload(json.dumps([doc("F-1"), doc("F-2")], indent=2), "orders.json"),
                        format="multipart")
    assert response.status_code == 200 and response.json()["imported"] == 2


def test_skip_existing(post):
    post(URL, [doc("S-1")], format="json")
    again = post(f"{URL}?skip_existing=true", [doc("S-1"), doc("S-2")], format="json").json()
    assert (again["imported"], again["skipped"], again["failed_count"]) == (1, 1, 0)
    strict = post(URL, [doc("S-1")], format="json").json()
    assert (strict["imported"], strict["failed_count"], strict["errors"][0]["code"]) == (0, 1, "duplicate_reference")


def test_only_the_first_100_errors_are_kept_in_line_order_across_batches(post, settings):
    settings.IMPORT_JOB_BATCH = 7
    documents = [doc(f"E-{n}", email="bad") if n % 10 else doc(f"E-{n}") for n in range(1, 121)]
    job = post(URL, documents, format="json").json()
    assert (job["total"], job["processed"], job["imported"], job["failed_count"]) == (120, 120, 12, 108)
    assert len(job["errors"]) == 100
    lines = [e["line"] for e in job["errors"]]
    assert lines == sorted(lines) and lines[0] == 1 and lines[-1] == 111  # 100 bad ones among the first 111


def test_a_job_runs_once(settings, django_capture_on_commit_callbacks):
    settings.IMPORT_JOB_BATCH = 2
    with django_capture_on_commit_callbacks(execute=False) as start:
        job = import_job_create(upload="\n".join(json.dumps(doc(f"P-{n}")) for n in range(5)), skip_existing=False,
                                actor=None)
    assert len(start) == 1
    assert ImportJob.objects.get(id=job.id).status == "queued"
    with django_capture_on_commit_callbacks(execute=True) as chunks:
        import_job_run(job_id=job.id)
    assert len(chunks) == 1  # the chunks' tasks go out after the split commits
    job = ImportJob.objects.get(id=job.id)
    assert (job.status, job.processed, job.imported) == ("done", 5, 5)
    assert import_job_run(job_id=job.id) is None  # a job runs once
    assert import_job_chunk_run(chunk_id=job.chunks.get().id) is None  # and so does its chunk


def test_a_job_that_cannot_run_is_failed_and_says_why(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = import_job_create(upload=json.dumps([doc("X-1")]), skip_existing=False, actor=None)
    ImportJob.objects.filter(id=job.id).update(upload="[not json")  # the stored upload went bad
    job = import_job_run(job_id=job.id)
    assert job.status == "failed" and job.finished_at is not None
    assert ImportJob.objects.get(id=job.id).failure.startswith("JSONDecodeError")
    assert refs() == []


@pytest.mark.parametrize(("body", "fmt", "code"), [
    ({"reference": "X"}, "json", "validation_error"),  # an object, not an array
    ([], "json", "validation_error"),  # nothing to import
    ({"other": SimpleUploadedFile("a.jsonl", b"{}")}, "multipart", "validation_error"),  # no 'file'
    ({"file": SimpleUploadedFile("a.jsonl", b"\xff\xfe{")}, "multipart", "validation_error"),  # not UTF-8
    ({"file": SimpleUploadedFile("a.json", b"[{\"reference\": ")}, "multipart", "parse_error"),
    ({"file": SimpleUploadedFile("a.jsonl", b"\n\n")}, "multipart", "validation_error"),
    ({"file": SimpleUploadedFile("a.jsonl", b'{"a": "\x00"}')}, "multipart", "validation_error"),
])
def test_bad_uploads_are_refused_and_write_nothing(post, body, fmt, code):
    response = post(URL, body, format=fmt)
    assert_error(response, 400, code, field="file")
    assert ImportJob.objects.count() == 0 and refs() == []


def test_a_json_body_must_be_an_array_of_objects(post):
    assert_error(post(URL, [doc("O-1"), "x"], format="json"), 400, "validation_error", field="1")
    assert ImportJob.objects.count() == 0 and refs() == []


def test_unknown_and_bad_query_parameters(post):
    assert_error(post(f"{URL}?skip=true", [doc("Q-1")], format="json"), 400, "unknown_parameter")
    assert_error(post(f"{URL}?skip_existing=maybe", [doc("Q-1")], format="json"), 400, "validation_error")
    assert ImportJob.objects.count() == 0


def test_permission_sales_import_order(staff_api, post):
    without = staff_api("sales.view_order")
    assert_error(post(URL, [doc("P-1")], format="json", client=without), 403, "permission_denied")
    assert_error(without.get(URL), 403, "permission_denied")
    with_perm = staff_api("sales.import_order")
    assert post(URL, [doc("P-1")], format="json", client=with_perm).json()["imported"] == 1
    assert with_perm.get(URL).json()["count"] == 1
    assert refs() == ["P-1"]


def test_the_job_records_who_imported(post, admin_user):
    job = post(URL, [doc("W-1")], format="json").json()
    assert ImportJob.objects.get(id=job["id"]).created_by_id == admin_user.id
    assert Order.objects.get(reference="W-1").events.get(type="imported").actor_id == admin_user.id


def test_list_newest_first_without_the_upload_and_in_few_queries(api, post, django_assert_max_num_queries):
    for n in range(3):
        post(URL, [doc(f"N-{n}")], format="json")
    with django_assert_max_num_queries(4):
        body = api.get(URL).json()
    assert body["count"] == 3 and [j["imported"] for j in body["results"]] == [1, 1, 1]
    ids = [j["id"] for j in body["results"]]
    assert ids == sorted(ids, reverse=True)
    assert_error(api.get(f"{URL}/999999"), 404, "not_found")


@pytest.mark.django_db(transaction=True)
def test_without_a_broker_the_post_answers_with_the_finished_job(api):
    """No test transaction around the request: the job starts at the POST's commit and has finished
    when the POST answers."""
    response = api.post(URL, [doc("T-1"), doc("T-2", email="bad")], format="json")
    assert response.status_code == 202
    job = response.json()
    assert (job["status"], job["imported"], job["failed_count"]) == ("done", 1, 1)
    assert job["errors"][0]["line"] == 2 and job["finished_at"] is not None


def _died_after_first_batch(settings, capture) -> ImportJob:
    """A job whose worker saved its first batch (2 of 5 documents) and died: what the database holds
    then, made by really running its chunk with the first 2 documents and giving it the rest back."""
    settings.IMPORT_JOB_BATCH = 2
    documents = [doc(f"R-{n}") for n in range(1, 6)]
    documents[3]["email"] = "bad"
    with capture(execute=False):
        job = import_job_create(upload=json.dumps(documents), skip_existing=False, actor=None)
    with capture(execute=False):  # split, its chunk's task not sent
        import_job_run(job_id=job.id)
    chunk = job.chunks.get()
    whole = chunk.documents
    ImportJobChunk.objects.filter(id=chunk.id).update(documents="\n".join(whole.splitlines()[:2]), total=2)
    import_job_chunk_run(chunk_id=chunk.id)
    ImportJobChunk.objects.filter(id=chunk.id).update(documents=whole, total=5, status="running")
    ImportJob.objects.filter(id=job.id).update(status="running", finished_at=None)
    return ImportJob.objects.get(id=job.id)


def test_a_job_whose_worker_died_is_resumed_after_its_last_saved_batch(settings, django_capture_on_commit_callbacks):
    from django.core.management import call_command

    job = _died_after_first_batch(settings, django_capture_on_commit_callbacks)
    assert (job.processed, job.imported) == (2, 2) and refs() == ["R-1", "R-2"]
    assert job.chunks.get().processed == 2
    # Still beating: nobody else takes it.
    assert import_job_chunk_run(chunk_id=job.chunks.get().id) is None
    from sales.services.import_jobs import import_jobs_resume

    assert import_jobs_resume() == 0
    # Silent for longer than IMPORT_JOB_STALE_SECONDS: the beat job (or its command) hands it out again.
    settings.IMPORT_JOB_STALE_SECONDS = 0
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_jobs_resume", stdout=__import__("io").StringIO())
    job = ImportJob.objects.get(id=job.id)
    assert (job.status, job.processed, job.imported, job.failed_count) == ("done", 5, 4, 1)
    assert [(e["line"], e["reference"]) for e in job.errors] == [(4, "R-4")]
    assert refs() == ["R-1", "R-2", "R-3", "R-5"]  # nothing imported twice, no duplicate_reference


def test_a_queued_job_whose_task_was_lost_is_sent_again(settings, django_capture_on_commit_callbacks):
    from sales.services.import_jobs import import_jobs_resume

    with django_capture_on_commit_callbacks(execute=False):
        job = import_job_create(upload=json.dumps([doc("LOST-1")]), skip_existing=False, actor=None)
    assert import_jobs_resume() == 0  # just queued: its task is on its way
    settings.IMPORT_JOB_STALE_SECONDS = 0
    with django_capture_on_commit_callbacks(execute=True):
        assert import_jobs_resume() == 1
    assert ImportJob.objects.get(id=job.id).status == "done" and refs() == ["LOST-1"]
    assert import_jobs_resume() == 0


def test_beat_runs_the_resume_job():
    from django.conf import settings

    from config.celery import app

    assert "sales.import_jobs_resume" in {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    app.loader.import_default_modules()
    assert "sales.import_jobs_resume" in app.tasks
