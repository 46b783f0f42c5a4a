"""The outbox writer: sales' history events in, webhook deliveries out, in the action's transaction.

``outbox_write`` is the event sink the app registers with ``sales.events`` (see its docstring
for when it is called: at the end of the action, inside its transaction, after its last write).
For the events some active endpoint subscribes to it renders each body once —

    {id, type, created_at, sequence, data: {order, document}}

with ``data.order`` the order detail exactly as ``GET /api/admin/orders/{id}`` shows it (same
selector, same serializer, no request, so the ``can`` flags do not depend on who asks) and
``data.document`` the invoice, shipment, refund or comment the event made (its API shape), else
null — stores it, and writes one pending delivery per subscribed active endpoint. The deliveries
are sent once the transaction commits (``transaction.on_commit``): to the workers with a broker,
in-process without one. A rolled-back action, a refusal or a dry run rolls all of it back, and a
process that dies after the commit loses nothing: the retry job finds every pending row.

Cost: with no active endpoint, one small query per action that recorded events (the
endpoint list, read once per action and not per event). With endpoints: the order detail
selector once for all the orders of the action, one query per document kind, two inserts.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from sales.api.documents import CommentSerializer, InvoiceSerializer, RefundSerializer, ShipmentSerializer
from sales.api.serializers import OrderDetailSerializer
from sales.events import RecordedEvent
from sales.models import OrderComment
from sales.selectors import invoice_queryset, order_detail_queryset, refund_queryset, shipment_queryset
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent
from webhooks.types import subscribed, webhook_type

# history event type → (the key of its data naming the document, the document's queryset and serializer)
_DOCUMENTS: dict[str, tuple[str, Any, Any]] = {
    "invoiced": ("invoice_id", invoice_queryset, InvoiceSerializer),
    "shipped": ("shipment_id", shipment_queryset, ShipmentSerializer),
    "refunded": ("refund_id", refund_queryset, RefundSerializer),
    "commented": ("comment_id", lambda: OrderComment.objects.select_related("author"), CommentSerializer),
}
_CHUNK = 500
_when = serializers.DateTimeField()


def body_render(*, event_id: uuid.UUID, type: str, created_at: datetime, sequence: int | None,
                data: dict[str, Any]) -> str:
    """The JSON body as sent (compact, UTF-8), rendered by the API's own renderer."""
    body = {"id": str(event_id), "type": type, "created_at": _when.to_representation(created_at),
            "sequence": sequence, "data": data}
    return JSONRenderer().render(body).decode("utf-8")


def active_endpoints() -> list[tuple[int, list[str]]]:
    """(id, events) of every active endpoint: the one query the hook costs when nobody listens."""
    return list(WebhookEndpoint.objects.filter(is_active=True).order_by("id").values_list("id", "events"))


def _render_orders(order_ids: set[int]) -> dict[int, dict[str, Any]]:
    ids = sorted(order_ids)
    out: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), _CHUNK):
        for order in order_detail_queryset().filter(id__in=ids[start:start + _CHUNK]):
            out[order.id] = OrderDetailSerializer(order).data
    return out


def _render_documents(events: Sequence[RecordedEvent]) -> dict[tuple[str, int], dict[str, Any]]:
    wanted: dict[str, set[int]] = {}
    for e in events:
        if e.type in _DOCUMENTS and e.data.get(_DOCUMENTS[e.type][0]) is not None:
            wanted.setdefault(e.type, set()).add(int(e.data[_DOCUMENTS[e.type][0]]))
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for kind, ids in wanted.items():
        _, queryset, serializer = _DOCUMENTS[kind]
        ordered = sorted(ids)
        for start in range(0, len(ordered), _CHUNK):
            for doc in queryset().filter(id__in=ordered[start:start + _CHUNK]):
                out[(kind, doc.id)] = serializer(doc).data
    return out


def outbox_write(events: list[RecordedEvent]) -> None:
    """The event sink (registered in WebhooksConfig.ready): see the module docstring."""
    typed = [(e, t) for e in events if (t := webhook_type(e.type)) is not None]
    if not typed:
        return
    endpoints = active_endpoints()
    if not endpoints:
        return
    planned = [(e, t, [eid for eid, subs in endpoints if subscribed(subs, t)]) for e, t in typed]
    planned = [p for p in planned if p[2]]
    if not planned:
        return
    orders = _render_orders({e.order_id for e, _, _ in planned})
    documents = _render_documents([e for e, _, _ in planned])
    now = timezone.now()
    rows: list[WebhookEvent] = []
    deliveries: list[WebhookDelivery] = []
    for e, t, endpoint_ids in planned:
        key = _DOCUMENTS[e.type][0] if e.type in _DOCUMENTS else None
        document = documents.get((e.type, int(e.data[key]))) if key and e.data.get(key) is not None else None
        event_id = uuid.uuid4()
        rows.append(WebhookEvent(id=event_id, type=t, order_id=e.order_id, sequence=e.id, created_at=e.created_at,
                                 payload=body_render(event_id=event_id, type=t, created_at=e.created_at, sequence=e.id,
                                                     data={"order": orders.get(e.order_id), "document": document})))
        deliveries.extend(WebhookDelivery(endpoint_id=eid, event_id=event_id, type=t, status=DeliveryStatus.PENDING,
                                          next_attempt_at=now, created_at=e.created_at) for eid in endpoint_ids)
    WebhookEvent.objects.bulk_create(rows)
    WebhookDelivery.objects.bulk_create(deliveries)
    ids = [d.id for d in deliveries]

    def send_after_commit() -> None:  # a named function: Django logs a robust callback's __qualname__
        deliveries_send(ids)

    transaction.on_commit(send_after_commit, robust=True)


def deliveries_send(delivery_ids: list[uuid.UUID]) -> None:
    """After the commit: one task per delivery (in-process without a broker)."""
    from webhooks.tasks import deliver

    for delivery_id in delivery_ids:
        deliver.delay(str(delivery_id))
