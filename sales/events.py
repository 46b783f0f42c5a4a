"""History events: the one writer of OrderEvent rows, and the one hook through which they leave sales.

Every history event of an order is written here: one at a time by ``events_record``, many at
once by ``events_record_bulk`` (bulk archive / restore, the import's bulk writer). Other apps
follow the events through *sinks* registered with ``events_sink_register`` (the webhooks app
registers its outbox writer in its ``AppConfig.ready``); sales imports none of them.

The flush point
---------------
An action may record several events (a capture records ``invoiced`` and ``payment_captured``;
direct create records ``placed`` and then ``created``) and may keep writing after recording one
(an invoice refreshes the order's status after its event). A sink must see the order as it
stands after the *whole* action, and still inside the action's transaction: the webhook outbox
renders the order and writes its deliveries there, so they commit — or roll back — with the
action. So a recorded event is not handed to the sinks at once; it is buffered in the current
*action scope*, and the scope hands every buffered event over when it ends. A service opens
the scope inside its transaction, on the same ``with``::

    with transaction.atomic(), events_scope():
        ...writes, events_record(...), more writes...
    # leaving the block: the scope ends first — the sinks get the action's events, inside the
    # transaction and after its last write — then the transaction commits

- Scopes nest (direct create calls placing inside its own transaction): only the
  outermost one hands its events over, so every event of the action sees the same final order.
- A scope left by an exception drops its events: its savepoint or transaction rolled back, so
  the rows never existed — even when an outer scope catches the exception and goes on.
- A dry run (``sales/services/dry_run.py``) runs the real action, scope and sinks included,
  inside a transaction it always rolls back: whatever the sinks wrote is rolled back with it.
- An event recorded outside any scope is an action of its own and is handed over at once
  (``email_sent``, recorded after the commit that sent the mail).

A sink is called with the list of ``RecordedEvent`` and may read and write the database; an
error in a sink fails the action (an outbox commits with its action or not at all). The scope
stack is per thread, like Django's connections. ``seed_demo`` writes demo history with the shared
bulk writer (``sales.importing.bulk``) and does not come through here (it builds its payloads
with the ``*_data`` builders below): demo data sends no webhooks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from sales.models import EventType, Invoice, Order, OrderEvent, Refund, Shipment


@dataclass(frozen=True)
class RecordedEvent:
    """What a sink learns of one history event (the row is already written)."""

    id: int
    order_id: int
    type: str
    created_at: datetime
    data: dict[str, Any]


Sink = Callable[[list[RecordedEvent]], None]
_SINKS: list[Sink] = []
_state = threading.local()


def events_sink_register(sink: Sink) -> None:
    """Add a sink (idempotent: registering the same function twice keeps one)."""
    if sink not in _SINKS:
        _SINKS.append(sink)


def events_sink_unregister(sink: Sink) -> None:
    if sink in _SINKS:
        _SINKS.remove(sink)


def _scopes() -> list[list[RecordedEvent]]:
    stack = getattr(_state, "scopes", None)
    if stack is None:
        stack = _state.scopes = []
    return stack


@contextmanager
def events_scope() -> Iterator[None]:
    """An action's event scope, opened inside its transaction (see the module docstring)."""
    stack = _scopes()
    stack.append([])
    try:
        yield
    except BaseException:
        stack.pop()
        raise
    events = stack.pop()
    if stack:
        stack[-1].extend(events)
    elif events:
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("events_scope() ended outside its transaction: open it inside transaction.atomic() "
                               "(`with transaction.atomic(), events_scope():`) so the sinks write with the action.")
        _flush(events)


def _flush(events: list[RecordedEvent]) -> None:
    if not events:
        return
    for sink in list(_SINKS):
        sink(events)


def _buffer(events: list[RecordedEvent]) -> None:
    stack = _scopes()
    if stack:
        stack[-1].extend(events)
    else:
        _flush(events)


def events_record(*, order_id: int, type: str, actor: User | None, data: dict[str, Any] | None = None,
                  created_at: datetime | None = None) -> OrderEvent:
    """Write one history event of ``order_id`` and hand it to the sinks at the end of the action."""
    event = OrderEvent.objects.create(order_id=order_id, type=type, actor=actor if actor and actor.pk else None,
                                      data=data or {}, created_at=created_at or timezone.now())
    _buffer([RecordedEvent(id=event.id, order_id=order_id, type=str(event.type), created_at=event.created_at,
                           data=event.data)])
    return event


def _bulk_create(rows: list[dict[str, Any]]) -> list[int]:
    made = OrderEvent.objects.bulk_create([OrderEvent(**row) for row in rows])
    return [e.id for e in made]


def events_record_bulk(rows: Sequence[dict[str, Any]], *,
                       insert: Callable[[list[dict[str, Any]]], list[int]] | None = None) -> list[int]:
    """Write many history events at once; each row is ``{order_id, type, actor_id, data[, created_at]}``.

    ``insert`` writes the rows and returns their new ids in row order (the import's raw bulk
    writer passes its own); by default ``bulk_create``. Returns the ids."""
    now = timezone.now()
    rows = [{**row, "created_at": row.get("created_at") or now, "data": row.get("data") or {}} for row in rows]
    if not rows:
        return []
    ids = (insert or _bulk_create)(rows)
    _buffer([RecordedEvent(id=pk, order_id=row["order_id"], type=str(row["type"]), created_at=row["created_at"],
                           data=row["data"]) for pk, row in zip(ids, rows, strict=True)])
    return ids


# One typed recorder per event type: each event's payload (its ``data``) is built in one place,
# here; the bulk writers (import, seed_demo) take the same payload from the ``*_data`` builders.

def line_ref(order_item_id: int, sku: str | None, quantity: int) -> dict[str, Any]:
    """One line of an event's ``items``."""
    return {"order_item_id": order_item_id, "sku": sku, "quantity": quantity}


class PlacedOrder(Protocol):
    """What ``placed_data`` reads: an Order, or seed_demo's planned stand-in."""

    @property
    def number(self) -> str: ...
    @property
    def grand_total(self) -> Decimal: ...


def placed_data(order: PlacedOrder, *, cart_id: int | None, items: int) -> dict[str, Any]:
    return {"cart_id": cart_id, "number": order.number, "grand_total": str(order.grand_total), "items": items}


def event_placed(order: Order, actor: User | None, *, cart_id: int, items: int) -> OrderEvent:
    return events_record(order_id=order.id, type=EventType.PLACED, actor=actor,
                         data=placed_data(order, cart_id=cart_id, items=items))


def event_created(order: Order, actor: User | None, *, channel: str, cost: Decimal | None = None) -> OrderEvent:
    data: dict[str, Any] = {"channel": channel}
    if cost is not None:
        data["cost"] = str(cost)
    return events_record(order_id=order.id, type=EventType.CREATED, actor=actor, data=data)


def imported_data(number: str, summary: dict[str, Any]) -> dict[str, Any]:
    return {"number": number, **summary}


def event_imported(order: Order, actor: User | None, *, summary: dict[str, Any]) -> OrderEvent:
    return events_record(order_id=order.id, type=EventType.IMPORTED, actor=actor,
                         data=imported_data(order.number, summary))


def invoiced_data(*, invoice_id: int, number: str, grand_total: Decimal, items: list[dict[str, Any]]
                  ) -> dict[str, Any]:
    return {"invoice_id": invoice_id, "number": number, "grand_total": str(grand_total), "items": items}


def event_invoiced(order: Order, invoice: Invoice, actor: User | None, *, items: list[dict[str, Any]]) -> OrderEvent:
    return events_record(order_id=order.id, type=EventType.INVOICED, actor=actor,
                         data=invoiced_data(invoice_id=invoice.id, number=invoice.number,
                                            grand_total=invoice.grand_total, items=items))


def payment_captured_data(*, provider: str, reference: str, amount: Decimal, invoice_id: int) -> dict[str, Any]:
    return {"provider": provider, "reference": reference, "amount": str(amount), "invoice_id": invoice_id}


def event_payment_captured(order: Order, *, provider: str, reference: str, amount: Decimal,
                           invoice_id: int) -> OrderEvent:
    return events_record(order_id=order.id, type=EventType.PAYMENT_CAPTURED, actor=None,
                         data=payment_captured_data(provider=provider, reference=reference, amount=amount,
                                                    invoice_id=invoice_id))


def shipped_data(*, shipment_id: int, number: str, source_id: int, source_code: str, total_qty: int,
                 carrier_title: str, track_number: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"shipment_id": shipment_id, "number": number, "inventory_source_id": source_id,
            "inventory_source": source_code, "total_qty": total_qty, "carrier_title": carrier_title,
            "track_number": track_number, "items": items}


def event_shipped(order: Order, shipment: Shipment, actor: User | None, *, source_code: str,
                  items: list[dict[str, Any]]) -> OrderEvent:
    return events_record(order_id=order.id, type=EventType.SHIPPED, actor=actor, data=shipped_data(
        shipment_id=shipment.id, number=shipment.number, source_id=shipment.inventory_source_id,
        source_code=source_code, total_qty=shipment.total_qty, carrier_title=shipment.carrier_title,
        track_number=shipment.track_number, items=items))


def refunded_data(*, refund_id: int, number: str, grand_total: Decimal, shipping_amount: Decimal,
                  adjustment_refund: Decimal, adjustment_fee: Decimal, return_to_stock: bool,
                  items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"refund_id": refund_id, "number": number, "grand_total": str(grand_total),
            "shipping_amount": str(shipping_amount), "adjustment_refund": str(adjustment_refund),
            "adjustment_fee": str(adjustment_fee), "return_to_stock": return_to_stock, "items": items}


def event_refunded(order: Order, refund: Refund, actor: User | None, *, shipping_amount: Decimal,
                   adjustment_refund: Decimal, adjustment_fee: Decimal, return_to_stock: bool,
                   items: list[dict[str, Any]]) -> OrderEvent:
    return events_record(order_id=order.id, type=EventType.REFUNDED, actor=actor, data=refunded_data(
        refund_id=refund.id, number=refund.number, grand_total=refund.grand_total, shipping_amount=shipping_amount,
        adjustment_refund=adjustment_refund, adjustment_fee=adjustment_fee, return_to_stock=return_to_stock,
        items=items))


def canceled_data(*, items: list[dict[str, Any]], amount: Decimal, fully: bool,
                  reason: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"items": items, "amount": str(amount), "fully": fully}
    if reason is not None:
        data["reason"] = reason
    return data


def event_canceled(order: Order, actor: User | None, *, items: list[dict[str, Any]], amount: Decimal,
                   fully: bool, reason: str | None = None) -> OrderEvent:
    """``reason`` is set by the system's own cancels (``payment_expired``); a person's cancel has none."""
    return events_record(order_id=order.id, type=EventType.CANCELED, actor=actor,
                         data=canceled_data(items=items, amount=amount, fully=fully, reason=reason))


def event_commented(order: Order, actor: User | None, *, comment_id: int, customer_notified: bool) -> OrderEvent:
    return events_record(order_id=order.id, type=EventType.COMMENTED, actor=actor,
                         data={"comment_id": comment_id, "customer_notified": customer_notified})


def event_edited(order: Order, actor: User | None, *, grand_total_before: Decimal, added: list[dict[str, Any]],
                 changed: list[dict[str, Any]] | None = None, removed: list[dict[str, Any]] | None = None,
                 canceled: list[dict[str, Any]] | None = None, coupon_removed: str | None = None) -> OrderEvent:
    """Lines edited (SPEC §7.3, §12). A pending order's lines change in place (``changed``, ``removed``,
    ``coupon_removed``); a processing order's grow by new lines (``added``) and lose open units exactly as
    cancel does (``canceled``)."""
    data: dict[str, Any] = {"added": added, "canceled": canceled or [], "grand_total_before": str(grand_total_before),
                            "grand_total_after": str(order.grand_total), "grand_total": str(order.grand_total)}
    if changed is not None or removed is not None:
        data.update(changed=changed or [], removed=removed or [], coupon_removed=coupon_removed)
    return events_record(order_id=order.id, type=EventType.EDITED, actor=actor, data=data)


def event_details_changed(order: Order, actor: User | None, *, before: dict[str, Any], after: dict[str, Any]
                          ) -> OrderEvent:
    """Billing/shipping address or staff note changed (SPEC §12): the changed fields, before and after."""
    return events_record(order_id=order.id, type=EventType.DETAILS_CHANGED, actor=actor,
                         data={"fields": sorted(after), "before": before, "after": after})


def event_archived(order: Order, actor: User | None, *, archived: bool = True) -> OrderEvent:
    """``archived`` or, with ``archived=False``, ``restored``."""
    return events_record(order_id=order.id, type=EventType.ARCHIVED if archived else EventType.RESTORED, actor=actor)


def events_archived_bulk(order_ids: Sequence[int], actor_id: int | None, *, archived: bool = True) -> list[int]:
    """``archived`` (or ``restored``) for many orders at once (the bulk archive)."""
    type_ = EventType.ARCHIVED if archived else EventType.RESTORED
    return events_record_bulk([{"order_id": oid, "type": type_, "actor_id": actor_id, "data": {"bulk": True}}
                               for oid in order_ids])


def event_held(order: Order, actor: User | None, *, reason: str) -> OrderEvent:
    return events_record(order_id=order.id, type=EventType.HELD, actor=actor, data={"reason": reason})


def event_hold_released(order: Order, actor: User | None, *, reason: str, automatic: bool = False) -> OrderEvent:
    """``reason`` is the hold's; ``automatic`` when the order was released because it became canceled, closed
    or completed (``status`` then says which)."""
    data: dict[str, Any] = {"reason": reason}
    if automatic:
        data["automatic"] = True
        data["status"] = order.status_code
    return events_record(order_id=order.id, type=EventType.HOLD_RELEASED, actor=actor, data=data)


def event_fraud_cleared(order: Order, actor: User | None) -> OrderEvent:
    return events_record(order_id=order.id, type=EventType.FRAUD_CLEARED, actor=actor,
                         data={"status_after": order.status_code})


def event_email_sent(order: Order, *, kind: str, subject: str) -> OrderEvent:
    return events_record(order_id=order.id, type=EventType.EMAIL_SENT, actor=None,
                         data={"kind": kind, "to": order.customer_email, "subject": subject})


def event_email_failed(order: Order, *, kind: str, subject: str, attempts: int, error: str) -> OrderEvent:
    """A customer e-mail given up on after its last try (sales.services.emails)."""
    return events_record(order_id=order.id, type=EventType.EMAIL_FAILED, actor=None,
                         data={"kind": kind, "to": order.customer_email, "subject": subject, "attempts": attempts,
                               "error": error})


__all__ = ["RecordedEvent", "event_archived", "event_canceled", "event_commented", "event_created", "event_edited",
           "event_email_failed", "event_email_sent", "event_fraud_cleared", "event_held", "event_hold_released",
           "event_imported",
           "event_invoiced", "event_payment_captured", "event_placed", "event_refunded", "event_shipped",
           "events_archived_bulk", "events_record", "events_record_bulk", "events_scope", "events_sink_register",
           "events_sink_unregister", "canceled_data", "imported_data", "invoiced_data", "line_ref",
           "payment_captured_data", "placed_data", "refunded_data", "shipped_data"]
