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
stack is per thread, like Django's connections. ``seed_demo`` writes demo history with its own
bulk writer and does not come through here: demo data sends no webhooks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from sales.models import OrderEvent


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


__all__ = ["RecordedEvent", "events_scope", "events_record", "events_record_bulk", "events_sink_register",
           "events_sink_unregister"]
