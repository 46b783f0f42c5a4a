"""Archive / restore (SPEC §7.3): archived orders leave default lists and counts, keep everything else."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from sales.locks import order_lock
from sales.models import EventType, Order, OrderEvent
from sales.services.common import event_record


def order_archive(*, order_id: int, actor: User | None) -> Order:
    """Idempotent: archiving an archived order changes nothing."""
    with transaction.atomic():
        order = order_lock(order_id)
        if order.archived_at is None:
            order.archived_at = timezone.now()
            order.save(update_fields=["archived_at", "updated_at"])
            event_record(order, EventType.ARCHIVED, actor)
    return order


def order_restore(*, order_id: int, actor: User | None) -> Order:
    with transaction.atomic():
        order = order_lock(order_id)
        if order.archived_at is not None:
            order.archived_at = None
            order.save(update_fields=["archived_at", "updated_at"])
            event_record(order, EventType.RESTORED, actor)
    return order


def orders_archive_matching(*, queryset: QuerySet[Order], actor: User | None, batch_size: int = 2000) -> int:
    """Archive every not-yet-archived order of the queryset, in batches; one event per order."""
    now = timezone.now()
    total = 0
    ids = list(queryset.filter(archived_at__isnull=True).order_by().values_list("id", flat=True))
    for start in range(0, len(ids), batch_size):
        chunk = ids[start:start + batch_size]
        with transaction.atomic():
            changed = Order.objects.filter(id__in=chunk, archived_at__isnull=True).update(archived_at=now,
                                                                                          updated_at=now)
            OrderEvent.objects.bulk_create([
                OrderEvent(order_id=oid, type=EventType.ARCHIVED, actor=actor if actor and actor.pk else None,
                           data={"bulk": True}) for oid in chunk])
            total += changed
    return total
