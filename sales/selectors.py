"""Reads, with their prefetches, so that pages never grow their query count with rows."""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet

from config.errors import NotFound
from sales.models import Invoice, Order, OrderItem, OrderStatus, Payment, Refund, Shipment


def order_list_queryset() -> QuerySet[Order]:
    """The list reads only the order row (list columns are denormalised onto it), without its large
    JSON columns, and the customer's name and e-mail."""
    return (Order.objects.select_related("customer")
            .defer("billing_address", "shipping_address", "metadata", "extra", "source_document"))


def order_detail_queryset() -> QuerySet[Order]:
    return (Order.objects.select_related("customer", "pickup_location", "created_by", "held_by")
            .prefetch_related(
                Prefetch("items", queryset=OrderItem.objects.order_by("id")),
                Prefetch("invoices", queryset=Invoice.objects.order_by("id")),
                Prefetch("shipments", queryset=Shipment.objects.order_by("id")),
                Prefetch("refunds", queryset=Refund.objects.order_by("id")),
                Prefetch("payments", queryset=Payment.objects.order_by("id")),
            ))


def order_get_detail(order_id: int) -> Order:
    order = order_detail_queryset().filter(id=order_id).first()
    if order is None:
        raise NotFound(f"Order {order_id} not found.")
    return order


def order_count_by_status(queryset: QuerySet[Order] | None = None) -> dict:
    qs = queryset if queryset is not None else Order.objects.filter(archived_at__isnull=True)
    counts = dict(qs.order_by().values_list("status").annotate(n=Count("*")))
    statuses = [{"status_id": s.value, "status": s.label, "count": counts.get(s.value, 0)} for s in OrderStatus]
    return {"count": sum(counts.values()), "statuses": statuses}


def invoice_queryset() -> QuerySet[Invoice]:
    from sales.models import InvoiceItem

    return (Invoice.objects.select_related("order", "created_by")
            .prefetch_related(Prefetch("items", queryset=InvoiceItem.objects.order_by("id"))))


def shipment_queryset() -> QuerySet[Shipment]:
    from sales.models import ShipmentItem

    return (Shipment.objects.select_related("order", "created_by", "inventory_source")
            .prefetch_related(Prefetch("items", queryset=ShipmentItem.objects.order_by("id"))))


def refund_queryset() -> QuerySet[Refund]:
    from sales.models import RefundItem

    return (Refund.objects.select_related("order", "created_by")
            .prefetch_related(Prefetch("items", queryset=RefundItem.objects.order_by("id"))))


def document_get(queryset: QuerySet, doc_id: int, what: str):
    doc = queryset.filter(id=doc_id).first()
    if doc is None:
        raise NotFound(f"{what} {doc_id} not found.")
    return doc


def order_must_exist(order_id: int) -> None:
    if not Order.objects.filter(id=order_id).exists():
        raise NotFound(f"Order {order_id} not found.")
