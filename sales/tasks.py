"""Celery tasks of sales: thin, they call services (config/celery.py says how they run)."""

from __future__ import annotations

from celery import shared_task

from sales.services.expiring import orders_expire_unpaid


@shared_task(name="sales.expire_unpaid_orders", ignore_result=True)
def expire_unpaid_orders() -> int:
    """Beat, every UNPAID_ORDER_SWEEP_SECONDS: cancel the gateway orders left unpaid too long."""
    return orders_expire_unpaid()
