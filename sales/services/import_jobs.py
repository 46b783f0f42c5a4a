"""Import jobs (SPEC §13): an upload of order documents imported in the background, by as many
workers as there are.

``import_job_create`` checks the upload (a JSON array of §7.2 documents, or JSON Lines), keeps
it in the database — so whichever worker runs the job can read it — and sends the task
``sales.import_job_run`` after the commit: to a worker with a broker, in-process without one
(then the job has finished when the POST answers).

``import_job_run`` claims the job (``queued`` → ``running``) and splits it, in one transaction,
into chunks of ``IMPORT_JOB_CHUNK`` documents (``ImportJobChunk``: the slice as JSON Lines that
keep the upload's line numbers), then sends one task ``sales.import_job_chunk_run`` per chunk
after the commit. Each worker that takes a chunk imports it in batches exactly as ``manage.py
import_orders`` does — each batch validated, planned and written with the bulk writer, and
document by document when that write fails.

Why several workers at once stay exact:

- Numbers stay gap-free: a batch takes its order, invoice and shipment numbers in one step per
  kind (``numbers_reserve``) inside its own transaction, so a rolled-back batch gives them back
  and two batches never interleave numbers; the Sequence row is held from there to the commit.
- Stock stays exact: a batch locks its products (primary-key order) before its stock verdicts
  and keeps the locks to the commit, as every live action does; a document its stock refuses is
  refused on its own (409 ``insufficient_stock``).
- New customers are inserted in e-mail order with ``ON CONFLICT DO NOTHING`` and read back, so
  two chunks naming the same new customer share one row instead of failing on the unique key.
- A reference that appears in two chunks is imported once; the other is ``duplicate_reference``
  (or skipped with ``skip_existing``). Which one wins is the first to commit, not the upload's
  order; within a chunk the earlier line wins.
- The job row keeps the sums and the first 100 errors in line order: each batch adds its counts
  and merges its errors into the job row as its *last* write (locked for a moment at its commit,
  never for the batch), and saves its chunk's progress with them. So ``GET
  /api/admin/import-jobs/{id}`` always matches what is written, and a chunk whose worker died (no
  heartbeat for ``IMPORT_JOB_STALE_SECONDS``) is taken again by the beat job
  ``sales.import_jobs_resume`` and goes on after its last saved batch: nothing imported twice,
  nothing lost.

A document that fails is counted and reported with its line (its line in JSON Lines, its
position in an array) and the job goes on; nothing of a refused document is written. The job
ends ``done`` when every chunk has, whatever ``failed_count``, and ``failed`` only when it could
not run at all (its upload unreadable, or a chunk stopped by an error that is not a document's).
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from config.errors import InvalidInput
from sales.models import ImportJob, ImportJobChunk, ImportJobFormat, ImportJobStatus

# The import itself, called exactly as `manage.py import_orders` calls it. This block is the one
# place import jobs reach the importer: repoint these names when the importer moves.
from sales.api.importing import ImportDocumentChecker  # isort: skip
from sales.importing import ImportLookups, error_describe, json_no_constants  # isort: skip
from sales.importing.batch import CheckedDocument, batch_import  # isort: skip

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
    error: tuple[str, str] | None = None  # (code, message) of a line that is not JSON
    raw: bytes | None = None  # the line's JSON text (lets the checks skip work the text rules out)

    @property
    def reference(self) -> str | None:
        ref = self.document.get("reference") if isinstance(self.document, dict) else None
        return ref if isinstance(ref, str) else None


class _Run:
    """One run of one chunk: the command's batch logic, with the job's counters instead of a terminal."""

    def __init__(self, chunk: ImportJobChunk) -> None:
        self.chunk = chunk
        self.job = chunk.job
        self.actor = self.job.created_by
        self.checker = ImportDocumentChecker()
        self.lookups = ImportLookups()
        self.processed = chunk.processed  # a resumed chunk goes on from what its last batch saved
        self.reset()

    def reset(self) -> None:
        """The counts of the batch under way: added to the job's when the batch commits."""
        self.imported = self.skipped = self.failed = 0
        self.batch_errors: list[dict[str, Any]] = []

    def documents(self) -> Iterator[_Line]:
        first = self.chunk.first_line
        for offset, raw in enumerate(self.chunk.documents.splitlines()):
            if not raw.strip():
                continue
            try:
                document = json.loads(raw, parse_constant=json_no_constants)
            except (ValueError, RecursionError) as exc:
                yield _Line(first + offset, None, error=("parse_error", f"invalid JSON: {exc}"))
                continue
            yield _Line(first + offset, document, raw=raw.encode())

    def run(self) -> None:
        batch: list[_Line] = []
        size = max(1, int(settings.IMPORT_JOB_BATCH))
        done = self.processed  # documents a previous run of this chunk wrote (or refused) and saved
        for n, line in enumerate(self.documents(), start=1):
            if n <= done:
                continue
            batch.append(line)
            if len(batch) >= size:
                self.batch(batch)
                batch = []
        if batch:
            self.batch(batch)

    def fail(self, number: int, reference: str | None, code: str, message: str) -> None:
        self.failed += 1
        self.batch_errors.append({"line": number, "reference": reference, "code": code, "message": message})

    def batch(self, lines: list[_Line]) -> None:
        checked: list[CheckedDocument] = []
        for line in lines:
            if line.error is not None:
                self.fail(line.number, line.reference, *line.error)
                continue
            result = self.checker(line.document, raw=line.raw)
            if isinstance(result, tuple):
                self.fail(line.number, line.reference, *result)
            else:
                checked.append(CheckedDocument(line.number, line.document, result, raw=line.raw))
        try:
            # The batch's orders and its progress commit together: a resumed chunk starts right after.
            with transaction.atomic():
                outcome = batch_import(checked, lookups=self.lookups, actor=self.actor,
                                       skip_existing=self.job.skip_existing, earlier="earlier in this upload")
                self.imported, self.skipped = outcome.imported, outcome.skipped
                for document, error in outcome.refused:
                    reference = document.data.get("reference")
                    self.fail(document.number, reference if isinstance(reference, str) else None, error.code,
                              error_describe(error))
                self.save(len(lines))
        finally:
            self.reset()

    def save(self, count: int) -> None:
        """The batch's last writes: its chunk's progress, and its counts and errors added to the job's.
        The job row, which every batch of every chunk updates, is locked only from here to the commit."""
        now = timezone.now()
        ImportJobChunk.objects.filter(id=self.chunk.id).update(processed=self.processed + count, heartbeat_at=now)
        job = ImportJob.objects.select_for_update(no_key=True).only("errors").get(id=self.job.id)
        # The first 100 errors of the upload, whichever order the chunks' batches commit in.
        errors = sorted([*(job.errors or []), *self.batch_errors], key=lambda e: e["line"])[:ImportJob.MAX_ERRORS]
        ImportJob.objects.filter(id=self.job.id).update(
            processed=F("processed") + count, imported=F("imported") + self.imported,
            skipped=F("skipped") + self.skipped, failed_count=F("failed_count") + self.failed, errors=errors,
            heartbeat_at=now)
        self.processed += count


def _stale(now: Any) -> Q:
    """A running chunk whose worker has not saved a batch for IMPORT_JOB_STALE_SECONDS: it died."""
    return Q(status=ImportJobStatus.RUNNING,
             heartbeat_at__lt=now - timedelta(seconds=float(settings.IMPORT_JOB_STALE_SECONDS)))


def _slices(job: ImportJob) -> list[ImportJobChunk]:
    """The upload cut into chunks of IMPORT_JOB_CHUNK documents, each as JSON Lines whose line k is
    the upload's line ``first_line + k`` (an array's documents one per line, ASCII-escaped so no
    character inside one splits it)."""
    size = max(1, int(settings.IMPORT_JOB_CHUNK))
    chunks: list[ImportJobChunk] = []

    def add(first_line: int, total: int, text: str) -> None:
        chunks.append(ImportJobChunk(job=job, index=len(chunks), first_line=first_line, total=total, documents=text))

    if job.format == ImportJobFormat.JSON_ARRAY:
        documents = json.loads(job.upload, parse_constant=json_no_constants)
        if not isinstance(documents, list):
            raise InvalidInput("The upload must be a JSON array of order documents.", field="file")
        for start in range(0, len(documents), size):
            part = documents[start:start + size]
            add(start + 1, len(part), "\n".join(json.dumps(d) for d in part))
        return chunks
    lines = job.upload.splitlines()
    first: int | None = None
    count = 0
    for i, raw in enumerate(lines):
        if not raw.strip():
            continue
        first = i if first is None else first
        count += 1
        if count == size:
            add(first + 1, count, "\n".join(lines[first:i + 1]))
            first, count = None, 0
    if first is not None:
        add(first + 1, count, "\n".join(lines[first:]))
    return chunks


def _send_chunks(chunk_ids: list[int]) -> None:
    """A task per chunk. A queued chunk's heartbeat is when its task was last sent: one whose task a
    dead worker had taken (prefetched, never run) is sent again once that is IMPORT_JOB_STALE_SECONDS
    old — and a chunk merely waiting its turn behind others gets at most one extra message per such
    period, which finds it taken and does nothing."""
    from sales.tasks import import_job_chunk_run_task

    ImportJobChunk.objects.filter(id__in=chunk_ids, status=ImportJobStatus.QUEUED).update(heartbeat_at=timezone.now())
    for chunk_id in chunk_ids:
        import_job_chunk_run_task.delay(chunk_id)


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Start a queued job: split it into chunks and send a task per chunk after the commit (without
    a broker they run there and then). None when the job was started already."""
    now = timezone.now()
    try:
        with transaction.atomic():
            claimed = ImportJob.objects.filter(id=job_id, status=ImportJobStatus.QUEUED).update(
                status=ImportJobStatus.RUNNING, heartbeat_at=now, started_at=Coalesce("started_at", now))
            if not claimed:
                return None
            job = ImportJob.objects.get(id=job_id)
            chunks = _slices(job)
            for chunk in chunks:
                chunk.heartbeat_at = now  # its task is sent at the commit
            ImportJobChunk.objects.bulk_create(chunks)
            ids = [c.id for c in chunks]
            transaction.on_commit(lambda: _send_chunks(ids), robust=True)
    except Exception as exc:  # the upload cannot be read: the job says so
        logger.exception("Import job %s failed", job_id)
        ImportJob.objects.filter(id=job_id).update(status=ImportJobStatus.FAILED, finished_at=timezone.now(),
                                                   failure=f"{type(exc).__name__}: {exc}"[:2000])
    return import_job_get(job_id)


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


def import_job_chunk_run(*, chunk_id: int) -> ImportJobChunk | None:
    """Import one chunk (or resume a stale one) to its end; None when another worker has it or it
    has ended. The chunk that ends the job's last open chunk ends the job."""
    now = timezone.now()
    claimed = ImportJobChunk.objects.filter(Q(status=ImportJobStatus.QUEUED) | _stale(now), id=chunk_id).update(
        status=ImportJobStatus.RUNNING, heartbeat_at=now, worker=_worker_name())
    if not claimed:
        return None
    chunk = ImportJobChunk.objects.select_related("job", "job__created_by").get(id=chunk_id)
    job_id = chunk.job_id
    try:
        _Run(chunk).run()
    except Exception as exc:  # not a document's refusal: the chunk (and so the job) could not go on
        logger.exception("Import job %s chunk %s failed", job_id, chunk.index)
        failure = f"{type(exc).__name__}: {exc}"[:2000]
        ImportJobChunk.objects.filter(id=chunk_id).update(status=ImportJobStatus.FAILED, failure=failure)
        ImportJob.objects.filter(id=job_id, status=ImportJobStatus.RUNNING).update(
            status=ImportJobStatus.FAILED, finished_at=timezone.now(), failure=f"chunk {chunk.index}: {failure}")
    else:
        ImportJobChunk.objects.filter(id=chunk_id).update(status=ImportJobStatus.DONE)
        # Each chunk's end is committed before it looks, so the last one to end sees every other ended.
        if not ImportJobChunk.objects.filter(job_id=job_id).exclude(status=ImportJobStatus.DONE).exists():
            ImportJob.objects.filter(id=job_id, status=ImportJobStatus.RUNNING).update(
                status=ImportJobStatus.DONE, finished_at=timezone.now())
    return ImportJobChunk.objects.get(id=chunk_id)


def import_jobs_resume() -> int:
    """Beat: hand every stale running chunk (its worker died) to a worker again, every chunk still
    queued after IMPORT_JOB_STALE_SECONDS (its task was lost), and every job still queued after it;
    returns how many tasks were sent."""
    from sales.tasks import import_job_run_task

    now = timezone.now()
    cutoff = now - timedelta(seconds=float(settings.IMPORT_JOB_STALE_SECONDS))
    jobs = list(ImportJob.objects.filter(status=ImportJobStatus.QUEUED, created_at__lt=cutoff)
                .order_by("id").values_list("id", flat=True))
    chunks = list(ImportJobChunk.objects.filter(_stale(now) | Q(status=ImportJobStatus.QUEUED, heartbeat_at__lt=cutoff))
                  .order_by("id").values_list("id", flat=True))
    for job_id in jobs:
        import_job_run_task.delay(job_id)
    _send_chunks(chunks)
    return len(jobs) + len(chunks)
