"""Celery tasks of sales: thin, they call services (config/celery.py says how they run)."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from sales.services.emails import email_retry_schedule, order_email_failed, order_email_send
from sales.services.expiring import orders_expire_unpaid
from sales.services.import_jobs import import_job_chunk_run, import_job_run, import_jobs_resume

logger = logging.getLogger(__name__)


@shared_task(name="sales.expire_unpaid_orders", ignore_result=True)
def expire_unpaid_orders() -> int:
    """Beat, every UNPAID_ORDER_SWEEP_SECONDS: cancel the gateway orders left unpaid too long."""
    return orders_expire_unpaid()


@shared_task(name="sales.send_order_email", bind=True, ignore_result=True, max_retries=None)
def send_order_email(self: Any, order_id: int, kind: str, context_extra: dict[str, Any]) -> None:
    """One customer e-mail (sales.services.emails): retried after each delay of
    EMAIL_RETRY_SCHEDULE, then noted as email_failed in the order's history."""
    schedule = email_retry_schedule()
    attempt = self.request.retries + 1
    try:
        order_email_send(order_id=order_id, kind=kind, context_extra=context_extra)
    except Exception as exc:  # the mail server's (or the rendering's) failure: retried, then noted
        if self.request.retries >= len(schedule):
            order_email_failed(order_id=order_id, kind=kind, context_extra=context_extra, attempts=attempt, error=exc)
            return
        delay = schedule[self.request.retries]
        logger.warning("The %s e-mail for order %s failed (attempt %d); retrying in %ss: %s", kind, order_id, attempt,
                       delay, exc)
        raise self.retry(exc=exc, countdown=delay) from exc


@shared_task(name="sales.import_job_run", ignore_result=True)
def import_job_run_task(job_id: int) -> None:
    """Start an import job: split it into chunks, one task each (sales.services.import_jobs); a job
    already started is left alone."""
    import_job_run(job_id=job_id)


@shared_task(name="sales.import_job_chunk_run", ignore_result=True)
def import_job_chunk_run_task(chunk_id: int) -> None:
    """Import one chunk of an import job; a chunk another worker has is left alone."""
    import_job_chunk_run(chunk_id=chunk_id)


@shared_task(name="sales.import_jobs_resume", ignore_result=True)
def import_jobs_resume_task() -> int:
    """Beat, every minute: resume the import jobs whose worker died, send the ones whose task was lost."""
    return import_jobs_resume()
