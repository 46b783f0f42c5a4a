"""Unpaid orders expire (SPEC §12): a ``pending_payment`` order with a gateway payment method,
nothing captured, not on hold, placed (an imported order: imported) more than
``UNPAID_ORDER_TTL_MINUTES`` ago is canceled by the system — its stock released, a ``canceled``
event with no actor and ``data.reason = "payment_expired"``.

The periodic job (Celery beat ``sales.expire_unpaid_orders``, or ``manage.py
expire_unpaid_orders``) selects the candidates without locks, then cancels each one in its own
transaction: it locks the order, checks every condition again under the lock (the customer may
have paid, or staff held it, since the selection) and cancels through the cancel service.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import DateTimeField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from carts.models.methods import GATEWAY_PAYMENT_METHODS
from config.money import ZERO
from sales.events import events_scope
from sales.locks import order_items_lock, order_lock
from sales.models import EventType, Order, OrderEvent, OrderStatus
from sales.services.canceling import cancel_apply

logger = logging.getLogger(__name__)

REASON = "payment_expired"


def unpaid_ttl() -> timedelta | None:
    """The time an unpaid gateway order is kept; None when orders never expire (setting 0)."""
    minutes = int(settings.UNPAID_ORDER_TTL_MINUTES)
    return timedelta(minutes=minutes) if minutes > 0 else None


def _unpaid(qs: QuerySet[Order]) -> QuerySet[Any]:  # Any: annotated with `since`
    """The conditions that do not depend on time, and each order's age reference (``since``):
    the time of its ``imported`` event when it was imported, else its ``created_at``."""
    imported_at = (OrderEvent.objects.filter(order_id=OuterRef("pk"), type=EventType.IMPORTED)
                   .order_by("id").values("created_at")[:1])
    return (qs.filter(status=OrderStatus.PENDING_PAYMENT, payment_method_code__in=sorted(GATEWAY_PAYMENT_METHODS),
                      payment_captured=False, held_at__isnull=True, total_invoiced=ZERO)
            .annotate(since=Coalesce(Subquery(imported_at, output_field=DateTimeField()), "created_at")))


def expired_candidates(*, now: datetime) -> list[int]:
    """Ids of the orders that have expired at ``now`` (strictly older than the TTL), oldest first."""
    ttl = unpaid_ttl()
    if ttl is None:
        return []
    return list(_unpaid(Order.objects.all()).filter(since__lt=now - ttl).order_by("id").values_list("id", flat=True))


def order_expire(*, order_id: int, now: datetime) -> bool:
    """Cancel one expired order; False (nothing written) when, under its lock, it no longer qualifies."""
    ttl = unpaid_ttl()
    if ttl is None:
        return False
    with transaction.atomic(), events_scope():
        order = order_lock(order_id)
        still = _unpaid(Order.objects.filter(id=order.id)).filter(since__lt=now - ttl).exists()
        if not still:
            return False
        items = order_items_lock(order)
        to_cancel = {i.id: i.qty_to_cancel for i in items if i.qty_to_cancel > 0}
        if not to_cancel:
            return False
        cancel_apply(order, items, to_cancel, actor=None, reason=REASON)
        return True


def orders_expire_unpaid(*, now: datetime | None = None) -> int:
    """The periodic job: cancel every expired unpaid order, each in its own transaction. Returns
    how many it canceled. One order that fails is logged and the job goes on."""
    now = now or timezone.now()
    canceled = 0
    for order_id in expired_candidates(now=now):
        try:
            if order_expire(order_id=order_id, now=now):
                canceled += 1
        except Exception:  # one broken order must not stop the others expiring
            logger.exception("Expiring unpaid order %s failed", order_id)
    return canceled
