from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

# How long an answer is kept and replayed (SPEC §11); the purge removes older ones.
TTL = timedelta(hours=24)


class IdempotencyRecord(models.Model):
    """The first response to a (user, key, method, path) — replayed for 24 hours (SPEC §11)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=2048)
    request_hash = models.CharField(max_length=64)
    finished = models.BooleanField(default=False)
    status_code = models.PositiveSmallIntegerField(null=True)
    content_type = models.CharField(max_length=128, blank=True)
    body = models.BinaryField(null=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key", "method", "path"], name="idempotency_unique")]
