"""Reads, with their prefetches, so that pages never grow their query count with rows."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, QuerySet, Sum

from config.errors import NotFound
from config.money import CENT
from sales.models import Invoice, Order, OrderCounter, OrderItem, OrderStatus, Payment, Refund, SalesDay, Shipment


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
    """`{count, statuses}` of non-archived orders, all seven statuses (SPEC §5): one query over the
    counters the services keep (sales.services.counters), whatever the number of orders. Given a
    queryset, a GROUP BY over it instead."""
    if queryset is not None:
        counts = dict(queryset.order_by().values_list("status").annotate(n=Count("*")))
    else:
        counts = dict(OrderCounter.objects.filter(archived=False).order_by().values_list("status")
                      .annotate(n=Sum("n")))
    statuses = [{"status_id": s.value, "status": s.label, "count": counts.get(s.value, 0)} for s in OrderStatus]
    return {"count": sum(counts.values()), "statuses": statuses}


def order_count_matching(*, statuses: Iterable[int] | None = None, archived: bool = False,
                         held: bool | None = None) -> int:
    """How many orders the list would show with only these filters (one query over the counters)."""
    qs = OrderCounter.objects.filter(archived=archived)
    if statuses is not None:
        qs = qs.filter(status__in=list(statuses))
    if held is not None:
        qs = qs.filter(held=held)
    return qs.aggregate(n=Sum("n"))["n"] or 0


def orders_waiting() -> dict[str, int]:
    """The dashboard's work waiting over non-archived orders (SPEC §14): pending or processing,
    not held, something left to invoice / to ship; and every held order. One query."""
    row = OrderCounter.objects.filter(archived=False).aggregate(
        to_invoice=Sum("n", filter=Q(to_invoice=True)), to_ship=Sum("n", filter=Q(to_ship=True)),
        on_hold=Sum("n", filter=Q(held=True)))
    return {key: int(row[key] or 0) for key in ("to_invoice", "to_ship", "on_hold")}


def _money(cents: int | None) -> Decimal:
    return (Decimal(cents or 0) / 100).quantize(CENT)


def revenue_by_day(start: date, end: date) -> list[tuple[date, Decimal]]:
    """Base-currency revenue per day in [start, end] (invoices − refunds created that day), every
    day listed, zeros included. One query over the daily rollups."""
    got = dict(SalesDay.objects.filter(day__gte=start, day__lte=end, product_id=0).order_by()
               .values_list("day").annotate(r=Sum("revenue")))
    days = (end - start).days + 1
    return [(day, _money(got.get(day))) for day in (start + timedelta(days=n) for n in range(max(days, 0)))]


def orders_placed_summary(start: date, end: date) -> tuple[int, Decimal]:
    """Orders created in [start, end] (any status, archived included) and Σ base(grand_total)."""
    row = SalesDay.objects.filter(day__gte=start, day__lte=end, product_id=0).aggregate(
        n=Sum("orders"), amount=Sum("amount"))
    return int(row["n"] or 0), _money(row["amount"])


def top_products(start: date, end: date, limit: int = 10) -> list[dict]:
    """Products by units ordered in orders created in [start, end] (then product id), with their
    base-currency line revenue. Two queries over the daily rollups and the products."""
    from catalog.models import Product

    rows = list(SalesDay.objects.filter(day__gte=start, day__lte=end, product_id__gt=0).order_by()
                .values_list("product_id").annotate(units=Sum("units"), revenue=Sum("amount"))
                .filter(units__gt=0).order_by("-units", "product_id")[:limit])
    names = {p[0]: p[1:] for p in Product.objects.filter(id__in=[r[0] for r in rows]).values_list("id", "sku", "name")}
    return [{"product_id": pid, "sku": names.get(pid, (None, None))[0], "name": names.get(pid, (None, None))[1],
             "units": int(units), "revenue": _money(revenue)} for pid, units, revenue in rows]


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
