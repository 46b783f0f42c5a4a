"""Celery tasks: thin, they call services (config/celery.py says how they run)."""

from celery import shared_task

from accounts.services.idempotency import idempotency_keys_purge


@shared_task(name="accounts.idempotency_keys_purge", ignore_result=True)
def purge_idempotency_keys() -> int:
    """Beat, hourly: stored Idempotency-Key answers older than 24 h."""
    return idempotency_keys_purge()
