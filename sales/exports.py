"""Order CSV export, streamed in constant memory: the admin's CSV action and
GET /api/admin/orders/export.csv both use it."""

from __future__ import annotations

import csv
from datetime import datetime

from django.http import StreamingHttpResponse
from django.utils import timezone

from sales.models import OrderStatus

CSV_COLUMNS = [
    ("number", "number"), ("created_at", "created_at"), ("status", "status"), ("channel", "channel"),
    ("customer_name", "customer_name"), ("customer_email", "customer_email"), ("currency", "currency"),
    ("subtotal", "subtotal"), ("discount_total", "discount_total"), ("tax_total", "tax_total"),
    ("shipping_total", "shipping_total"), ("grand_total", "grand_total"), ("total_invoiced", "total_invoiced"),
    ("total_refunded", "total_refunded"), ("total_canceled", "total_canceled"),
    ("payment_method", "payment_method_code"), ("shipping_method", "shipping_method_code"),
    ("coupon_code", "coupon_code"), ("invoice_state", "invoice_state"), ("shipment_state", "shipment_state"),
    ("reference", "reference"), ("archived_at", "archived_at"),
]


class _Echo:
    """A file-like object whose write() hands the CSV line back (for streaming)."""

    def write(self, value):
        return value


def _safe(value: str) -> str:
    # Spreadsheet formula injection: a cell that starts like a formula is kept as text.
    if value and value[0] in "=+-@\t\r":
        return "'" + value
    return value


def order_csv_rows(queryset):
    writer = csv.writer(_Echo())
    yield writer.writerow([name for name, _ in CSV_COLUMNS])
    fields = [f for _, f in CSV_COLUMNS]
    if not queryset.ordered:
        queryset = queryset.order_by("-created_at", "-id")
    for row in queryset.values_list(*fields).iterator(chunk_size=2000):
        out = []
        for (name, _), value in zip(CSV_COLUMNS, row, strict=True):
            if value is None:
                out.append("")
            elif name == "status":
                out.append(OrderStatus(value).label)
            elif isinstance(value, datetime):
                out.append(value.isoformat())
            elif isinstance(value, str):
                # Every text cell, whatever its column (SPEC §16): an imported payment driver or a
                # channel is as much the customer's text as a name is.
                out.append(_safe(value))
            else:
                out.append(str(value))  # numbers and amounts: never text a spreadsheet evaluates
        yield writer.writerow(out)


def order_csv_response(queryset) -> StreamingHttpResponse:
    response = StreamingHttpResponse(order_csv_rows(queryset), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="orders-{stamp}.csv"'
    return response
