import re
from datetime import datetime, time

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django_filters import rest_framework as filters
from rest_framework.exceptions import ValidationError

from sales.models import Order, OrderStatus

_STATUS_BY_NAME = {s.label: s.value for s in OrderStatus}
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_ID = 2**63 - 1


def parse_when(value: str, field: str, *, end: bool) -> datetime:
    value = value.strip()
    dt = None
    try:
        if _DATE_ONLY.match(value):
            # A bare date means the whole day: from its first to its last moment (inclusive bounds).
            d = parse_date(value)
            if d is not None:
                dt = datetime.combine(d, time.max if end else time.min)
        else:
            dt = parse_datetime(value)
    except ValueError:
        dt = None
    if dt is None:
        raise ValidationError({field: [f"{value!r} is not an ISO 8601 date or date-time."]})
    if timezone.is_naive(dt):
        dt = timezone.make_aware(dt, timezone.get_current_timezone())
    return dt


def parse_statuses(value: str, field: str = "status") -> list[int]:
    out = []
    for part in [p.strip() for p in value.split(",") if p.strip()]:
        if part.isdigit() and int(part) in OrderStatus.values:
            out.append(int(part))
        elif part.lower() in _STATUS_BY_NAME:
            out.append(_STATUS_BY_NAME[part.lower()])
        else:
            raise ValidationError({field: [f"Unknown status {part!r}; use one of "
                                           f"{', '.join(_STATUS_BY_NAME)} or their ids 1–7."]})
    return out


class OrderFilter(filters.FilterSet):
    status = filters.CharFilter(method="filter_status", help_text="Name or id; several comma-separated")
    customer = filters.CharFilter(method="filter_customer", help_text="Customer id")
    email = filters.CharFilter(field_name="customer_email", lookup_expr="iexact")
    number = filters.CharFilter(field_name="number")
    created_after = filters.CharFilter(method="filter_created_after", help_text="ISO 8601 date or date-time, inclusive")
    created_before = filters.CharFilter(method="filter_created_before", help_text="ISO 8601 date or date-time, inclusive")
    min_total = filters.NumberFilter(field_name="grand_total", lookup_expr="gte")
    max_total = filters.NumberFilter(field_name="grand_total", lookup_expr="lte")
    payment_method = filters.CharFilter(field_name="payment_method_code")
    channel = filters.CharFilter(field_name="channel")
    archived = filters.BooleanFilter(method="filter_archived", help_text="true: only archived orders")
    search = filters.CharFilter(method="filter_search", help_text="Number, e-mail or customer name")
    ordering = filters.OrderingFilter(fields=(("id", "id"), ("created_at", "created_at"),
                                              ("grand_total", "grand_total")))

    class Meta:
        model = Order
        fields: list[str] = []

    def filter_queryset(self, queryset):
        if "archived" not in self.data or self.data.get("archived") in ("", None):
            queryset = queryset.filter(archived_at__isnull=True)
        queryset = super().filter_queryset(queryset)
        if not self.data.get("ordering"):
            queryset = queryset.order_by("-created_at", "-id")
        return queryset

    def filter_customer(self, queryset, name, value):
        value = value.strip()
        if not value.isdigit() or not 1 <= int(value) <= MAX_ID:
            raise ValidationError({"customer": [f"{value!r} is not a customer id."]})
        return queryset.filter(customer_id=int(value))

    def filter_status(self, queryset, name, value):
        return queryset.filter(status__in=parse_statuses(value))

    def filter_created_after(self, queryset, name, value):
        return queryset.filter(created_at__gte=parse_when(value, "created_after", end=False))

    def filter_created_before(self, queryset, name, value):
        return queryset.filter(created_at__lte=parse_when(value, "created_before", end=True))

    def filter_archived(self, queryset, name, value):
        if value is None:
            return queryset.filter(archived_at__isnull=True)
        return queryset.filter(archived_at__isnull=not value)

    def filter_search(self, queryset, name, value):
        from django.db.models import Q

        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(number__icontains=value) | Q(customer_email__icontains=value)
                               | Q(customer_name__icontains=value))
