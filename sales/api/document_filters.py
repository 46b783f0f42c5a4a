"""Filters of the store-wide Invoices, Shipments and Refunds lists (SPEC §6).

`order` (id), `order_number`, `created_after` / `created_before` (ISO 8601 date or date-time,
inclusive: a bare date means its whole day) and, for invoices, `state`. A malformed value is a
400 `validation_error` naming the parameter. Lists are newest first (`created_at`, then `id`).
"""

from __future__ import annotations

import re

from django_filters import rest_framework as filters

from sales.api.filters import WHEN_SCHEMA, IdFilter, parse_when, typed
from sales.models import Invoice, Refund, Shipment

INVOICE_STATES = ("paid", "open", "canceled")
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


def when(value: str, field: str, *, end: bool):
    """parse_when, with a bare date as `created_before` meaning the end of that day (inclusive).

    (parse_when reads "2025-03-02" through parse_datetime, which since Python 3.11 accepts a
    bare date as midnight, so its own end-of-day branch is never reached.)
    """
    value = value.strip()
    if end and _DATE_ONLY.fullmatch(value):
        value = f"{value}T23:59:59.999999"
    return parse_when(value, field, end=end)


class DocumentFilter(filters.FilterSet):
    order = IdFilter(field_name="order_id", help_text="Order id")
    order_number = filters.CharFilter(field_name="order__number", help_text="Order number, exact (e.g. 100000001)")
    created_after = typed(WHEN_SCHEMA, filters.CharFilter(method="filter_created_after"))
    created_before = typed(WHEN_SCHEMA, filters.CharFilter(method="filter_created_before"))

    class Meta:
        fields: list[str] = []

    def filter_queryset(self, queryset):
        return super().filter_queryset(queryset).order_by("-created_at", "-id")

    def filter_created_after(self, queryset, name, value):
        return queryset.filter(created_at__gte=when(value, "created_after", end=False))

    def filter_created_before(self, queryset, name, value):
        return queryset.filter(created_at__lte=when(value, "created_before", end=True))


class InvoiceFilter(DocumentFilter):
    state = filters.ChoiceFilter(choices=[(s, s) for s in INVOICE_STATES], help_text="Invoice state (paid, …)")

    class Meta(DocumentFilter.Meta):
        model = Invoice


class ShipmentFilter(DocumentFilter):
    class Meta(DocumentFilter.Meta):
        model = Shipment


class RefundFilter(DocumentFilter):
    class Meta(DocumentFilter.Meta):
        model = Refund
