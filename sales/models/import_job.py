from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils import timezone


class ImportJobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ImportJobFormat(models.TextChoices):
    JSON_LINES = "jsonl", "JSON Lines"
    JSON_ARRAY = "json", "JSON array"


class ImportJob(models.Model):
    """An order import run in the background (SPEC §13): the upload is kept here, in the database,
    so whichever worker runs the job can read it; the counters and the first errors are updated
    as it goes (sales.services.import_jobs)."""

    MAX_ERRORS = 100

    status = models.CharField(max_length=8, choices=ImportJobStatus.choices, default=ImportJobStatus.QUEUED,
                              db_default=ImportJobStatus.QUEUED)
    format = models.CharField(max_length=8, choices=ImportJobFormat.choices)
    upload = models.TextField(help_text="The uploaded documents, as sent (UTF-8)")
    skip_existing = models.BooleanField(default=False, db_default=False)
    total = models.PositiveIntegerField(default=0, db_default=0)
    processed = models.PositiveIntegerField(default=0, db_default=0)
    imported = models.PositiveIntegerField(default=0, db_default=0)
    skipped = models.PositiveIntegerField(default=0, db_default=0)
    failed_count = models.PositiveIntegerField(default=0, db_default=0)
    errors = models.JSONField(default=list, db_default=[], blank=True,
                              help_text="The first 100: [{line, reference, code, message}]")
    failure = models.TextField(blank=True, default="", db_default="", help_text="Why the job itself could not run")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_default=Now())
    started_at = models.DateTimeField(null=True, blank=True)
    # Saved with every batch: a running job whose worker died stops beating and is resumed.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"Import job {self.id} ({self.status})"


class ImportJobChunk(models.Model):
    """A slice of an import job's documents, imported by whichever worker claims it (SPEC §13:
    a large upload is split so several workers import it at once). ``documents`` holds the
    slice as JSON Lines whose first line is the upload's line ``first_line``, so every error
    names its line in the upload. The job row keeps the sums; ``processed`` here says how far
    this slice got, so a slice whose worker died goes on after its last saved batch."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    first_line = models.PositiveIntegerField()
    total = models.PositiveIntegerField()
    documents = models.TextField()
    status = models.CharField(max_length=8, choices=ImportJobStatus.choices, default=ImportJobStatus.QUEUED,
                              db_default=ImportJobStatus.QUEUED)
    processed = models.PositiveIntegerField(default=0, db_default=0)
    worker = models.CharField(max_length=200, blank=True, default="", db_default="",
                              help_text="The worker that ran it last (host and process)")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    failure = models.TextField(blank=True, default="", db_default="")

    class Meta:
        ordering = ["job_id", "index"]
        constraints = [models.UniqueConstraint(fields=["job", "index"], name="import_chunk_job_index_uniq")]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="import_chunk_status_beat")]

    def __str__(self) -> str:
        return f"Import job {self.job_id} chunk {self.index} ({self.status})"
