"""Archive / restore (SPEC §7.3): archived orders leave default lists and counts, keep everything else."""

from __future__ import annotations

from django.db import DatabaseError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from sales.errors import BulkIncomplete
from sales.events import event_archived, events_archived_bulk, events_scope
from sales.locks import order_lock
from sales.models import Order
from sales.services.counters import order_counted, orders_archived


def order_archive(*, order_id: int, actor: User | None) -> Order:
    """Idempotent: archiving an archived order changes nothing."""
    with transaction.atomic(), events_scope():
        order = order_lock(order_id)
        if order.archived_at is None:
            order.archived_at = timezone.now()
            order.save(update_fields=["archived_at", "updated_at"])
            order_counted(order)
            event_archived(order, actor)
    return order


def order_restore(*, order_id: int, actor: User | None) -> Order:
    with transaction.atomic(), events_scope():
        order = order_lock(order_id)
        if order.archived_at is not None:
            order.archived_at = None
            order.save(update_fields=["archived_at", "updated_at"])
            order_counted(order)
            event_archived(order, actor, archived=False)
    return order


BULK_BATCH = 1000  # SPEC §7.3: bulk work in transactions of at most 1,000 orders


def orders_archive_matching(*, queryset: QuerySet[Order], actor: User | None, batch_size: int = BULK_BATCH) -> int:
    """Archive every not-yet-archived order of the queryset, in batches; one event per order."""
    return _bulk_set_archived(queryset.filter(archived_at__isnull=True), archive=True, actor=actor,
                              batch_size=batch_size)


def orders_restore_matching(*, queryset: QuerySet[Order], actor: User | None, batch_size: int = BULK_BATCH) -> int:
    """Restore every archived order of the queryset, in batches; one event per order."""
    return _bulk_set_archived(queryset.filter(archived_at__isnull=False), archive=False,
                              actor=actor, batch_size=batch_size)


def _bulk_set_archived(queryset: QuerySet[Order], *, archive: bool, actor: User | None, batch_size: int) -> int:
    """Each batch is its own transaction and re-checks the state under the update, so an order
    archived or restored meanwhile by someone else is neither counted nor given a second event."""
    assert 1 <= batch_size <= BULK_BATCH
    actor_id = actor.pk if actor and actor.pk else None
    total = 0
    ids = list(queryset.order_by("id").values_list("id", flat=True))
    for start in range(0, len(ids), batch_size):
        chunk = ids[start:start + batch_size]
        try:
            with transaction.atomic(), events_scope():
                now = timezone.now()
                matching = (Order.objects.select_for_update().filter(id__in=chunk, archived_at__isnull=archive)
                            .order_by("id"))
                changed_ids = list(matching.values_list("id", flat=True))
                Order.objects.filter(id__in=changed_ids).update(archived_at=now if archive else None, updated_at=now)
                orders_archived(changed_ids, archived=archive)
                events_archived_bulk(changed_ids, actor_id, archived=archive)
        except DatabaseError as exc:
            if not total:
                raise  # nothing committed: the generic "nothing was changed" answer is true
            # Earlier batches are committed (each is its own transaction): say so, never "nothing changed".
            raise BulkIncomplete(f"The database failed after {total} order(s) were "
                                 f"{'archived' if archive else 'restored'}; those stay so. "
                                 f"Send the same request again to finish the rest.") from exc
        total += len(changed_ids)
    return total
