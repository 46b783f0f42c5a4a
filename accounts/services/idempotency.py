"""Stored Idempotency-Key answers (SPEC §11) live 24 hours; the purge removes older ones."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from accounts.models import IdempotencyRecord
from accounts.models.idempotency import TTL

_BATCH = 5000


def idempotency_keys_purge(*, now: datetime | None = None) -> int:
    """Delete every stored answer older than 24 h (in batches); returns how many. Beat runs it
    hourly (``accounts.idempotency_keys_purge``); ``manage.py purge_idempotency_keys`` once."""
    cutoff = (now or timezone.now()) - TTL
    total = 0
    while True:
        ids = list(IdempotencyRecord.objects.filter(created_at__lt=cutoff).values_list("id", flat=True)[:_BATCH])
        if not ids:
            return total
        total += IdempotencyRecord.objects.filter(id__in=ids).delete()[0]
