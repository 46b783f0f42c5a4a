import re
from datetime import datetime, time

from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django_filters import rest_framework as filters
from drf_spectacular.drainage import get_override
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError

from carts.models import PAYMENT_METHOD_CODES
from config.fields import MAX_ID
from sales.models import Order, OrderStatus

_STATUS_BY_NAME = {s.label: s.value for s in OrderStatus}
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# What each filter takes, as the OpenAPI schema says it (and config.request_checks reads it): a
# schema-driven client sends nothing a filter refuses for its shape alone.
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
# An empty value is no filter (as a form sends it), so each string schema takes "" too.
WHEN_SCHEMA = {"type": "string", "anyOf": [{"format": "date"}, {"format": "date-time"}, {"maxLength": 0}],
               "description": "ISO 8601 date or date-time, inclusive (a date is its whole day, UTC)"}
_STATUS_WORD = "|".join([*_STATUS_BY_NAME, "[1-7]"])
STATUS_SCHEMA = {"type": "string", "pattern": rf"^(?: *(?:{_STATUS_WORD}) *(?:, *(?:{_STATUS_WORD}) *)*)?$",
                 "description": f"Name or id, several comma-separated: {', '.join(_STATUS_BY_NAME)} or 1–7"}


def typed(schema: dict, flt):
    """The filter, annotated with the schema of what it takes (its help_text, if any, describes it)."""
    help_text = flt.extra.get("help_text")
    return extend_schema_field({**schema, **({"description": str(help_text)} if help_text else {})})(flt)


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


class StrictBooleanField(forms.CharField):
    """Exactly `true` or `false` (SPEC §5): `archived=maybe` or `archived=1` is a 400."""

    def to_python(self, value):
        value = super().to_python(value)
        if value in ("", None):
            return None
        if value not in ("true", "false"):
            raise forms.ValidationError(f"Use true or false, not {value!r}.", code="invalid")
        return value == "true"


class StrictBooleanFilter(filters.BooleanFilter):
    field_class = StrictBooleanField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.TextInput)  # the raw text reaches the field: no `True`/`1` mapping
        super().__init__(*args, **kwargs)


class IdFilter(filters.NumberFilter):
    """A whole-number id (1 … 2⁶³−1): `min_id=abc` or `min_id=1.5` is a 400, never a 500."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)
        typed(ID_SCHEMA, self)


class OrderFilter(filters.FilterSet):
    status = typed(STATUS_SCHEMA, filters.CharFilter(method="filter_status"))
    customer = typed(ID_SCHEMA, filters.CharFilter(method="filter_customer", help_text="Customer id"))
    email = filters.CharFilter(field_name="customer_email", lookup_expr="iexact")
    number = filters.CharFilter(field_name="number")
    created_after = typed(WHEN_SCHEMA, filters.CharFilter(method="filter_created_after"))
    created_before = typed(WHEN_SCHEMA, filters.CharFilter(method="filter_created_before"))
    updated_after = typed(WHEN_SCHEMA, filters.CharFilter(
        method="filter_updated_after", help_text="ISO 8601 date or date-time, inclusive (incremental sync)"))
    updated_before = typed(WHEN_SCHEMA, filters.CharFilter(method="filter_updated_before"))
    min_id = IdFilter(field_name="id", lookup_expr="gte", help_text="Orders with id ≥ this")
    max_id = IdFilter(field_name="id", lookup_expr="lte", help_text="Orders with id ≤ this")
    min_total = filters.NumberFilter(field_name="grand_total", lookup_expr="gte")
    max_total = filters.NumberFilter(field_name="grand_total", lookup_expr="lte")
    payment_method = typed({"type": "string", "enum": ["", *PAYMENT_METHOD_CODES]},
                           filters.CharFilter(method="filter_payment_method", help_text="Payment method code"))
    channel = filters.CharFilter(field_name="channel")
    archived = StrictBooleanFilter(method="filter_archived", help_text="true: only archived orders")
    on_hold = StrictBooleanFilter(method="filter_on_hold", help_text="true: only held orders; false: only the others")
    search = filters.CharFilter(method="filter_search", help_text="Number, e-mail or customer name")
    ordering = filters.OrderingFilter(fields=(("id", "id"), ("created_at", "created_at"),
                                              ("updated_at", "updated_at"), ("grand_total", "grand_total")))

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

    def filter_payment_method(self, queryset, name, value):
        from carts.models import PaymentMethod

        value = value.strip()
        if not PaymentMethod.objects.filter(code=value).exists():
            raise ValidationError({"payment_method": [f"Unknown payment method {value!r}."]})
        return queryset.filter(payment_method_code=value)

    def filter_updated_after(self, queryset, name, value):
        return queryset.filter(updated_at__gte=parse_when(value, "updated_after", end=False))

    def filter_updated_before(self, queryset, name, value):
        return queryset.filter(updated_at__lte=parse_when(value, "updated_before", end=True))

    def filter_created_after(self, queryset, name, value):
        return queryset.filter(created_at__gte=parse_when(value, "created_after", end=False))

    def filter_created_before(self, queryset, name, value):
        return queryset.filter(created_at__lte=parse_when(value, "created_before", end=True))

    def filter_archived(self, queryset, name, value):
        if value is None:
            return queryset.filter(archived_at__isnull=True)
        return queryset.filter(archived_at__isnull=not value)

    def filter_on_hold(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(held_at__isnull=not value)

    def filter_search(self, queryset, name, value):
        from django.db.models import Q

        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(number__icontains=value) | Q(customer_email__icontains=value)
                               | Q(customer_name__icontains=value))


def filter_parameters(filterset_class, *, exclude: frozenset[str] | set[str] = frozenset()) -> list:
    """OpenAPI query parameters for a filterset's filters, typed as the filters read them, for
    operations drf-spectacular does not derive them for (bulk archive / restore, the CSV export)."""
    from drf_spectacular.utils import OpenApiParameter

    out = []
    for name, flt in filterset_class.base_filters.items():
        if name in exclude:
            continue
        kind: type | dict = str
        description = str(flt.extra.get("help_text") or "")
        if get_override(flt, "field"):
            kind = dict(get_override(flt, "field"))
            description = kind.pop("description", description)
        elif isinstance(flt, filters.OrderingFilter):
            choices = [value for value, _ in flt.extra["choices"]]
            out.append(OpenApiParameter(name, {"type": "array", "items": {"type": "string", "enum": choices}},
                                        OpenApiParameter.QUERY, style="form", explode=False,
                                        description="Comma-separated; - for descending"))
            continue
        elif isinstance(flt, StrictBooleanFilter):
            kind = bool
        elif isinstance(flt, filters.NumberFilter):
            kind = float
        out.append(OpenApiParameter(name, kind, OpenApiParameter.QUERY, description=description))
    return out
