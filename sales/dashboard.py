"""The admin index's dashboard (SPEC §14): revenue per day for the last 30 days, orders by status,
average order value, top 10 products and the work waiting.

``dashboard_figures`` is composed only from five read functions of sales/selectors.py, each one
or two queries over the status counters and the day rollups the services keep
(sales.services.counters), so the page costs the same at 1,000 and at 1,000,000 orders. Their
definitions are below; the private ``_…`` functions here compute the same figures afresh with a
GROUP BY over the orders and documents — what the rollups must equal (the tests compare both, and
``bench/pages_bench.py`` times both):

- ``orders_waiting()`` → ``{"to_invoice", "to_ship", "on_hold"}`` over non-archived orders:
  to_invoice / to_ship = pending or processing, not held, with Σ qty_to_invoice / Σ qty_to_ship
  > 0 (sales/status.py's rules); on_hold = held.
- ``revenue_by_day(start, end)`` → ``[(day, amount)]`` for every day in [start, end], zeros
  included: Σ base(invoice grand_total) − Σ base(refund grand_total) of the documents created that
  day (UTC), archived orders included.
- ``orders_placed_summary(start, end)`` → ``(count, Σ base(order grand_total))`` of the orders
  created in [start, end].
- ``top_products(start, end, limit=10)`` → ``[{product_id, sku, name, units, revenue}]`` over the
  lines (with a product) of orders created in [start, end]: units Σ qty_ordered, revenue
  Σ base(line total); units desc, then product_id.

base(x) = ROUND_HALF_UP(x / order.exchange_rate, 2), per document (the amount in the store's base
currency, rounded before it is summed). Amounts are never negative, so SQL's ROUND (half away from
zero) is half up; on SQLite the division is done in floating point (CAST … AS REAL, else two whole
numbers divide as integers), which rounds every base amount below 10^11 exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypedDict

from django.conf import settings
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncDate

from sales import selectors
from sales.models import Invoice, Order, OrderItem, Refund
from sales.selectors import order_count_by_status
from sales.status import PENDING, PROCESSING

DAYS = 30
TOP_PRODUCTS = 10
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
_AMOUNT = DecimalField(max_digits=20, decimal_places=2)


WAITING_TITLES = {"to_invoice": "To invoice", "to_ship": "To ship", "on_hold": "On hold"}


class Waiting(TypedDict):
    to_invoice: int
    to_ship: int
    on_hold: int


class TopProduct(TypedDict):
    product_id: int
    sku: str
    name: str
    units: int
    revenue: Decimal


class _Base(Func):
    """base(amount) = ROUND(amount / rate, 2): one document's amount in the base currency."""

    function = "ROUND"
    template = "ROUND(%(expressions)s, 2)"
    arg_joiner = " / "
    output_field = _AMOUNT

    def as_sqlite(self, compiler, connection, **extra_context):
        amount, rate = self.source_expressions
        sql_amount, params_amount = compiler.compile(amount)
        sql_rate, params_rate = compiler.compile(rate)
        return f"ROUND(CAST({sql_amount} AS REAL) / {sql_rate}, 2)", (*params_amount, *params_rate)


def _base(amount: str, rate: str) -> Func:
    return _Base(F(amount), F(rate))


def _money(value: Any) -> Decimal:
    """A sum as read back (Decimal on PostgreSQL, a float-born Decimal on SQLite, or None) to cents."""
    return Decimal(str(value or 0)).quantize(CENT, rounding=ROUND_HALF_UP)


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start, end] as whole UTC days: start 00:00 inclusive, the day after end 00:00 exclusive."""
    return datetime.combine(start, time.min, tzinfo=UTC), datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)


def _created_in(start: date, end: date, prefix: str = "") -> Q:
    since, until = _bounds(start, end)
    return Q(**{f"{prefix}created_at__gte": since, f"{prefix}created_at__lt": until})


# ---------------------------------------------------------------------------- the five reads


def _order_count_by_status() -> dict:
    return order_count_by_status()


def waiting_conditions() -> dict[str, Any]:  # Q or Q & Exists
    """The work-waiting definitions as conditions on an Order queryset (the dashboard counts them;
    the order list's "Work waiting" filter, sales/admin/waiting.py, lists them). Archived orders are
    left out by the caller (the count below, the list's default Archived filter)."""
    items = OrderItem.objects.filter(order_id=OuterRef("pk"))
    # qty_to_invoice = ordered − invoiced − canceled, never negative: Σ > 0 ⇔ some line has one left.
    to_invoice = Exists(items.filter(qty_ordered__gt=F("qty_invoiced") + F("qty_canceled")))
    # qty_to_ship = max(0, ordered − shipped − (refunded − returned) − canceled) on shippable lines.
    to_ship = Exists(items.filter(
        is_shippable=True,
        qty_ordered__gt=F("qty_shipped") + F("qty_refunded") - F("qty_returned") + F("qty_canceled")))
    workable = Q(status__in=[PENDING, PROCESSING], held_at__isnull=True)
    return {"to_invoice": workable & to_invoice, "to_ship": workable & to_ship, "on_hold": Q(held_at__isnull=False)}


def _orders_waiting() -> Waiting:
    conditions = waiting_conditions()
    # Only the rows that can count: PostgreSQL reads them from the (archived_at, status) and held_at indexes.
    candidates = Order.objects.filter(Q(status__in=[PENDING, PROCESSING]) | Q(held_at__isnull=False),
                                      archived_at__isnull=True)
    counts = candidates.aggregate(**{key: Count("pk", filter=condition) for key, condition in conditions.items()})
    return {"to_invoice": counts["to_invoice"], "to_ship": counts["to_ship"], "on_hold": counts["on_hold"]}


def _daily(queryset: QuerySet, start: date, end: date) -> dict[date, Decimal]:
    rows = (queryset.filter(_created_in(start, end))
            .annotate(day=TruncDate("created_at", tzinfo=UTC)).order_by()
            .values("day").annotate(amount=Sum(_base("grand_total", "order__exchange_rate")))
            .values_list("day", "amount"))
    return {day: _money(amount) for day, amount in rows}


def _revenue_by_day(start: date, end: date) -> list[tuple[date, Decimal]]:
    invoiced = _daily(Invoice.objects.all(), start, end)
    refunded = _daily(Refund.objects.all(), start, end)
    days = (start + timedelta(days=n) for n in range((end - start).days + 1))
    return [(day, invoiced.get(day, ZERO) - refunded.get(day, ZERO)) for day in days]


def _orders_placed_summary(start: date, end: date) -> tuple[int, Decimal]:
    totals = Order.objects.filter(_created_in(start, end)).aggregate(
        n=Count("pk"), amount=Coalesce(Sum(_base("grand_total", "exchange_rate")), Value(ZERO), output_field=_AMOUNT))
    return totals["n"], _money(totals["amount"])


def _top_products(start: date, end: date, limit: int = TOP_PRODUCTS) -> list[TopProduct]:
    rows = (OrderItem.objects.filter(_created_in(start, end, "order__"), product__isnull=False).order_by()
            .values("product_id", "product__sku", "product__name")
            .annotate(units=Sum("qty_ordered"),
                      revenue=ExpressionWrapper(Sum(_base("total", "order__exchange_rate")), output_field=_AMOUNT))
            .order_by("-units", "product_id")[:limit])
    return [{"product_id": row["product_id"], "sku": row["product__sku"] or "", "name": row["product__name"] or "",
             "units": row["units"], "revenue": _money(row["revenue"])} for row in rows]


# ---------------------------------------------------------------------------- the figures


@dataclass(frozen=True)
class DashboardFigures:
    today: date
    start: date  # the first of the DAYS days shown (today included)
    currency: str  # the base currency every amount is in
    revenue_by_day: list[tuple[date, Decimal]]
    revenue_total: Decimal
    status_counts: dict  # order_count_by_status(): {"count", "statuses": [{status_id, status, count}]}
    orders_placed: int
    orders_placed_total: Decimal
    average_order_value: Decimal
    top_products: list[TopProduct] = field(default_factory=list)
    waiting: Waiting = field(default_factory=lambda: Waiting(to_invoice=0, to_ship=0, on_hold=0))


def _waiting(counts: dict[str, int]) -> Waiting:
    return Waiting(to_invoice=counts["to_invoice"], to_ship=counts["to_ship"], on_hold=counts["on_hold"])


def average(total: Decimal, count: int) -> Decimal:
    """AOV: total / count, ROUND_HALF_UP to cents; 0.00 when there is nothing to divide."""
    if not count:
        return ZERO
    return (total / count).quantize(CENT, rounding=ROUND_HALF_UP)


def dashboard_figures(*, today: date | None = None) -> DashboardFigures:
    """The dashboard for the DAYS days ending ``today`` (default: today in UTC)."""
    today = today or datetime.now(UTC).date()
    start = today - timedelta(days=DAYS - 1)
    revenue = selectors.revenue_by_day(start, today)
    placed, placed_total = selectors.orders_placed_summary(start, today)
    return DashboardFigures(
        today=today,
        start=start,
        currency=settings.BASE_CURRENCY,
        revenue_by_day=revenue,
        revenue_total=sum((amount for _, amount in revenue), ZERO),
        status_counts=order_count_by_status(),
        orders_placed=placed,
        orders_placed_total=placed_total,
        average_order_value=average(placed_total, placed),
        top_products=[TopProduct(product_id=p["product_id"], sku=p["sku"] or "", name=p["name"] or "",
                                 units=p["units"], revenue=p["revenue"])
                      for p in selectors.top_products(start, today, TOP_PRODUCTS)],
        waiting=_waiting(selectors.orders_waiting()),
    )
