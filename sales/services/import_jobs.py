"""Import jobs (SPEC §13): an upload of order documents imported in the background.

``import_job_create`` checks the upload (a JSON array of §7.2 documents, or JSON Lines), keeps
it in the database — so whichever worker runs the job can read it — and sends the task
``sales.import_job_run`` after the commit: to a worker with a broker, in-process without one
(then the job has finished when the POST answers).

``import_job_run`` claims the job (``queued`` → ``running``), then imports its documents in
batches exactly as ``manage.py import_orders`` does — each batch validated, planned and written
with the bulk writer, and document by document when that write fails — and saves the counters,
the first 100 errors and a heartbeat *in the batch's own transaction*, so ``GET
/api/admin/import-jobs/{id}`` shows the progress and the saved progress always matches what is
written. A job whose worker died (no heartbeat for ``IMPORT_JOB_STALE_SECONDS``) is claimed
again by the beat job ``sales.import_jobs_resume`` and goes on after its last saved batch:
nothing imported twice, nothing lost. A document that fails is counted and reported
with its line (its line in JSON Lines, its position in an array) and the job goes on; nothing of
a refused document is written. The job ends ``done`` whatever ``failed_count``, and ``failed``
only when it could not run at all.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from accounts.models import User
from config.errors import DomainError, InvalidInput
from config.parsers import _nul_path
from sales.events import events_scope
from sales.models import ImportJob, ImportJobFormat, ImportJobStatus

# The import itself, called exactly as `manage.py import_orders` calls it. This block is the one
# place import jobs reach the importer: repoint these names when the importer moves.
from sales.api.importing import FastDocumentValidator, OrderImportSerializer  # isort: skip
from sales.importing import (  # isort: skip
    DuplicateReference,
    ImportLookups,
    error_describe,
    import_plan,
    order_import,
    orders_import_bulk,
    json_no_constants,
    validation_error,
)

logger = logging.getLogger(__name__)


def upload_format(text: str) -> str:
    """A JSON array when the upload starts with ``[``, else JSON Lines."""
    return ImportJobFormat.JSON_ARRAY if text.lstrip().startswith("[") else ImportJobFormat.JSON_LINES


def _count(text: str, fmt: str) -> int:
    """How many documents the upload holds; refuses one that is not a JSON array or JSON Lines."""
    if fmt == ImportJobFormat.JSON_ARRAY:
        try:
            documents = json.loads(text, parse_constant=json_no_constants)
        except (ValueError, RecursionError) as exc:
            raise InvalidInput(f"The upload starts a JSON array but is not valid JSON: {exc}", field="file",
                               code="parse_error") from None
        if not isinstance(documents, list):
            raise InvalidInput("The upload must be a JSON array of order documents, or JSON Lines.", field="file")
        return len(documents)
    return sum(1 for line in text.splitlines() if line.strip())


def import_job_create(*, upload: str, skip_existing: bool, actor: User | None) -> ImportJob:
    """Keep the upload as a queued job and start it after the commit. ``upload`` is the file's
    text (a JSON array or JSON Lines)."""
    if "\x00" in upload:
        raise InvalidInput("The upload holds a NUL character; it must be JSON text.", field="file")
    limit = int(settings.IMPORT_JOB_MAX_BYTES)
    if len(upload.encode()) > limit:
        raise InvalidInput(f"The upload is larger than {limit} bytes; split it into smaller files.", field="file")
    fmt = upload_format(upload)
    total = _count(upload, fmt)
    if total == 0:
        raise InvalidInput("The upload holds no documents.", field="file")
    with transaction.atomic():
        job = ImportJob.objects.create(format=fmt, upload=upload, skip_existing=skip_existing, total=total,
                                       created_by=actor if actor is not None and actor.pk else None)
        job_id = job.id

        def start() -> None:
            from sales.tasks import import_job_run_task

            import_job_run_task.delay(job_id)

        transaction.on_commit(start, robust=True)
    return job


def import_job_get(job_id: int) -> ImportJob:
    from config.errors import NotFound

    job = ImportJob.objects.defer("upload").filter(id=job_id).first()
    if job is None:
        raise NotFound(f"Import job {job_id} not found.")
    return job


@dataclass
class _Line:
    number: int
    document: Any
    data: dict[str, Any] | None = None
    error: tuple[str, str] | None = None  # (code, message) of a document refused before planning

    @property
    def reference(self) -> str | None:
        ref = self.document.get("reference") if isinstance(self.document, dict) else None
        return ref if isinstance(ref, str) else None


class _Run:
    """One run of one job: the command's batch logic, with the job's counters instead of a terminal."""

    def __init__(self, job: ImportJob) -> None:
        self.job = job
        self.actor = job.created_by
        self.validator = FastDocumentValidator()
        self.serializer = OrderImportSerializer()
        self.lookups = ImportLookups()
        # A resumed job goes on from what its last batch saved.
        self.processed, self.imported, self.skipped = job.processed, job.imported, job.skipped
        self.failed = job.failed_count
        self.errors: list[dict[str, Any]] = list(job.errors or [])
        self.batch_errors: list[dict[str, Any]] = []

    def counters(self) -> dict[str, Any]:
        return {"processed": self.processed, "imported": self.imported, "skipped": self.skipped,
                "failed_count": self.failed, "errors": self.errors}

    def documents(self) -> Iterator[_Line]:
        text = self.job.upload
        if self.job.format == ImportJobFormat.JSON_ARRAY:
            for index, document in enumerate(json.loads(text, parse_constant=json_no_constants), start=1):
                yield _Line(index, document)
            return
        for number, raw in enumerate(text.splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                document = json.loads(raw, parse_constant=json_no_constants)
            except (ValueError, RecursionError) as exc:
                yield _Line(number, None, error=("parse_error", f"invalid JSON: {exc}"))
                continue
            yield _Line(number, document)

    def run(self) -> None:
        batch: list[_Line] = []
        size = max(1, int(settings.IMPORT_JOB_BATCH))
        done = self.processed  # documents a previous run of this job wrote (or refused) and saved
        for n, line in enumerate(self.documents(), start=1):
            if n <= done:
                continue
            batch.append(line)
            if len(batch) >= size:
                self.batch(batch)
                batch = []
        if batch:
            self.batch(batch)

    def fail(self, line: _Line, code: str, message: str) -> None:
        self.failed += 1
        self.batch_errors.append({"line": line.number, "reference": line.reference, "code": code, "message": message})

    def validate(self, line: _Line) -> None:
        if line.error is not None:
            return
        document = line.document
        if not isinstance(document, dict):
            line.error = ("validation_error", f"a document must be one JSON object, not {type(document).__name__}")
            return
        where = _nul_path(document)
        if where is not None:
            line.error = ("validation_error", f"{where}: NUL characters (\\u0000) are not allowed.")
            return
        data = self.validator(document)
        if data is None:
            try:
                data = self.serializer.run_validation(document)
            except ValidationError as exc:  # the same errors the API answers with
                error = validation_error(exc.detail)
                line.error = (error.code, error_describe(error))
                return
        line.data = data

    def batch(self, lines: list[_Line]) -> None:
        for line in lines:
            self.validate(line)
        saved = (self.processed, self.imported, self.skipped, self.failed, len(self.errors))
        try:
            # The batch's orders and the job's progress commit together: a resumed job starts right after.
            with transaction.atomic():
                failures = [line for line in lines if line.error is not None]
                planned = self.plan([line for line in lines if line.error is None])
                if planned:
                    self.write(planned)
                for line in failures:
                    assert line.error is not None
                    self.fail(line, *line.error)
                # Batches go in upload order: the batch's errors in line order keep the first 100 of the upload.
                room = ImportJob.MAX_ERRORS - len(self.errors)
                self.errors.extend(sorted(self.batch_errors, key=lambda e: e["line"])[:max(room, 0)])
                self.processed += len(lines)
                ImportJob.objects.filter(id=self.job.id).update(heartbeat_at=timezone.now(), **self.counters())
        except BaseException:  # rolled back: the counters are what the database says
            self.processed, self.imported, self.skipped, self.failed, kept = saved
            del self.errors[kept:]
            raise
        finally:
            self.batch_errors = []

    def plan(self, lines: list[_Line]) -> list[tuple[_Line, Any]]:
        if not lines:
            return []
        lookups = self.lookups
        lookups.prefetch([line.data for line in lines if line.data is not None])
        seen: set[str] = set()
        planned: list[tuple[_Line, Any]] = []
        now = timezone.now()
        for line in lines:
            assert line.data is not None
            reference = line.data["reference"]
            if self.job.skip_existing and (reference in lookups.references_taken or reference in seen):
                self.skipped += 1
                continue
            try:
                if reference in seen:
                    raise DuplicateReference(f"Reference {reference!r} appears earlier in this upload.",
                                             field="reference")
                plan = import_plan(line.data, line.document, lookups, actor=self.actor, now=now)
            except DomainError as exc:
                self.fail(line, exc.code, error_describe(exc))
                continue
            seen.add(reference)
            planned.append((line, plan))
        return planned

    def write(self, planned: list[tuple[_Line, Any]]) -> None:
        try:
            with transaction.atomic(), events_scope():
                results = orders_import_bulk([plan for _, plan in planned], actor=self.actor, lookups=self.lookups)
        except (IntegrityError, DomainError):  # e.g. a reference imported meanwhile: each document on its own
            self.one_by_one([line for line, _ in planned])
            return
        for (line, _), result in zip(planned, results, strict=True):
            if isinstance(result, DomainError):
                self.fail(line, result.code, error_describe(result))
            else:
                self.imported += 1

    def one_by_one(self, lines: list[_Line]) -> None:
        for line in lines:
            try:
                assert line.data is not None  # lines refused before planning never get here
                order_import(document=line.document, actor=self.actor, validated=line.data)
            except DuplicateReference as exc:
                if self.job.skip_existing:
                    self.skipped += 1
                else:
                    self.fail(line, exc.code, error_describe(exc))
            except DomainError as exc:
                self.fail(line, exc.code, error_describe(exc))
            else:
                self.imported += 1



def _stale(now: Any) -> Q:
    """A running job whose worker has not saved a batch for IMPORT_JOB_STALE_SECONDS: it died."""
    return Q(status=ImportJobStatus.RUNNING,
             heartbeat_at__lt=now - timedelta(seconds=float(settings.IMPORT_JOB_STALE_SECONDS)))


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Run a queued job (or resume a stale one) to its end; None when another worker has it or it
    has ended."""
    now = timezone.now()
    claimed = ImportJob.objects.filter(Q(status=ImportJobStatus.QUEUED) | _stale(now), id=job_id).update(
        status=ImportJobStatus.RUNNING, heartbeat_at=now, started_at=Coalesce("started_at", now))
    if not claimed:
        return None
    job = ImportJob.objects.select_related("created_by").get(id=job_id)
    run = _Run(job)
    try:
        run.run()
    except Exception as exc:  # the job itself could not go on: it says so, and what it did stands
        logger.exception("Import job %s failed", job_id)
        ImportJob.objects.filter(id=job_id).update(status=ImportJobStatus.FAILED, finished_at=timezone.now(),
                                                   failure=f"{type(exc).__name__}: {exc}"[:2000], **run.counters())
    else:
        ImportJob.objects.filter(id=job_id).update(status=ImportJobStatus.DONE, finished_at=timezone.now(),
                                                   **run.counters())
    return import_job_get(job_id)


def import_jobs_resume() -> int:
    """Beat: hand every stale running job (its worker died) to a worker again, and every job still
    queued after IMPORT_JOB_STALE_SECONDS (its task was lost); returns how many were sent."""
    from sales.tasks import import_job_run_task

    now = timezone.now()
    lost = Q(status=ImportJobStatus.QUEUED,
             created_at__lt=now - timedelta(seconds=float(settings.IMPORT_JOB_STALE_SECONDS)))
    ids = list(ImportJob.objects.filter(_stale(now) | lost).order_by("id").values_list("id", flat=True))
    for job_id in ids:
        import_job_run_task.delay(job_id)
    return len(ids)
