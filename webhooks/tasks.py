"""Celery tasks: thin, they call services (config/celery.py says how they run)."""

from __future__ import annotations

from celery import shared_task
from django.utils.dateparse import parse_datetime

from webhooks.services.deliveries import deliveries_purge, deliveries_retry_due, delivery_attempt


@shared_task(name="webhooks.deliver", ignore_result=True)
def deliver(delivery_id: str, force: bool = False, token: str | None = None) -> None:
    """One attempt of one delivery (see webhooks.services.deliveries)."""
    delivery_attempt(delivery_id=delivery_id, force=force, token=parse_datetime(token) if token else None)


@shared_task(name="webhooks.retry_due", ignore_result=True)
def retry_due() -> int:
    """Beat, every WEBHOOK_SWEEP_SECONDS: hand out the deliveries whose next attempt is due."""
    return deliveries_retry_due()


@shared_task(name="webhooks.purge", ignore_result=True)
def purge() -> int:
    """Beat, hourly: delivered rows after WEBHOOK_RETENTION_DAYS, failed ones after 30 days."""
    return deliveries_purge()
