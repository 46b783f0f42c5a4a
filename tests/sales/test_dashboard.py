"""The admin dashboard's figures (sales/dashboard.py, SPEC §14): revenue per day, orders placed and
the average order value, top products and the work waiting, with exact Decimals in the base
currency (an order in EUR converted per document, rounded half up before summing), day boundaries
in UTC, archived orders counted where the definitions say so, and a fixed number of queries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from catalog.models import Currency
from sales import selectors
from sales.dashboard import (
    DAYS,
    _orders_placed_summary,
    _orders_waiting,
    _revenue_by_day,
    _top_products,
    average,
    dashboard_figures,
)
from sales.models import Invoice, Order, OrderItem, OrderStatus, Refund
from sales.services.archiving import order_archive
from sales.services.canceling import order_cancel
from sales.services.counters import counters_repair
from sales.services.holding import order_hold
from sales.services.shipping import shipment_create
from tests.admin.conftest import make_orders
from tests.catalog.factories import ProductFactory
from tests.sales.lifecycle_support import (
    default_source,
    invoice_all,
    invoice_lines,
    items_of,
    order_with,
    product,
    refund_lines,
    reload,
)

pytestmark = pytest.mark.django_db

D = Decimal
CENT = D("0.01")
TODAY = date(2026, 12, 7)


def at(day: date, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=UTC)


def base(amount: Decimal, rate: Decimal) -> Decimal:
    """The definition, in Python: ROUND_HALF_UP(amount / rate, 2)."""
    return (amount / rate).quantize(CENT, rounding=ROUND_HALF_UP)


def synced(fresh, kept, *args):
    """Rows written by hand bypass the services, so bring the counters and rollups up to date as a
    bulk writer does (counters_repair), then the rollup read must equal the fresh GROUP BY."""
    counters_repair()
    value = fresh(*args)
    assert kept(*args) == value
    return value


def raw_order(*, rate: str = "1", total: str = "10.00", created: datetime | None = None, **overrides) -> Order:
    """One order row (documents and lines are added by hand) in the currency of its rate."""
    currency = "USD" if D(rate) == 1 else "EUR"
    return make_orders(1, exchange_rate=D(rate), currency=currency, grand_total=D(total),
                       created_at=created or at(TODAY), **overrides)[0]


def raw_document(model, order: Order, total: str, created: datetime):
    number = f"{model.__name__[0]}{model.objects.count() + 1:06d}-{order.id}"
    return model.objects.create(order=order, number=number, grand_total=D(total), created_at=created)


# ---------------------------------------------------------------------------- revenue per day


def test_revenue_per_day_converts_each_document_rounds_half_up_and_lists_every_day():
    start = TODAY - timedelta(days=DAYS - 1)
    usd = raw_order()
    eur = raw_order(rate="2")  # 1 USD = 2 EUR
    third = raw_order(rate="3")
    archived = raw_order(archived_at=at(TODAY))
    # Two EUR invoices of 2.01 are 1.005 USD each: 1.01 + 1.01 = 2.02 (rounded per document, half up;
    # rounding the sum, or half even, would give 2.01 or 2.00).
    raw_document(Invoice, eur, "2.01", at(TODAY, 9))
    raw_document(Invoice, eur, "2.01", at(TODAY, 10))
    raw_document(Invoice, usd, "100.00", at(TODAY, 23, 59, 59))  # the last second of the day
    raw_document(Invoice, third, "10.00", at(TODAY, 0, 0, 0))  # 3.333… → 3.33
    raw_document(Invoice, archived, "7.00", at(TODAY, 8))  # archived orders count
    raw_document(Refund, usd, "25.00", at(TODAY, 11))
    # Yesterday: only a refund of an EUR document (5.55 / 2 = 2.775 → 2.78), revenue is negative.
    raw_document(Refund, eur, "5.55", at(TODAY - timedelta(days=1), 0, 0, 0))
    # The first day of the window counts, the day before it does not; tomorrow's neither.
    raw_document(Invoice, usd, "1.00", at(start, 0, 0, 0))
    raw_document(Invoice, usd, "50.00", at(start - timedelta(days=1), 23, 59, 59))
    raw_document(Invoice, usd, "60.00", at(TODAY + timedelta(days=1), 0, 0, 0))

    days = synced(_revenue_by_day, selectors.revenue_by_day, start, TODAY)

    assert len(days) == DAYS and [d for d, _ in days] == [start + timedelta(days=n) for n in range(DAYS)]
    by_day = dict(days)
    assert by_day[TODAY] == D("2.02") + D("100.00") + D("3.33") + D("7.00") - D("25.00") == D("87.35")
    assert by_day[TODAY - timedelta(days=1)] == D("-2.78")
    assert by_day[start] == D("1.00")
    assert all(amount == D("0.00") for day, amount in days if day not in {TODAY, TODAY - timedelta(days=1), start})
    assert all(isinstance(amount, Decimal) and amount.as_tuple().exponent == -2 for _, amount in days)


def test_revenue_of_orders_placed_through_the_services_in_two_currencies():
    """An order in USD and one in EUR at 0.92, invoiced and partly refunded through the services:
    each day's revenue is the documents' grand totals converted one by one, as the definition
    says, and the EUR order's figure is the one worked out by hand."""
    Currency.objects.filter(code="EUR").update(rate=D("0.92"))
    beans = product("18.50", stock=50)
    mug = product("9.00", stock=50)
    usd = order_with((beans, 2), (mug, 1))
    eur = order_with((beans, 3), currency="EUR")
    assert eur.currency == "EUR" and eur.exchange_rate == D("0.92")
    invoice_usd = invoice_all(usd)
    invoice_eur = invoice_all(eur)
    refund = refund_lines(eur, (items_of(eur)[0].id, 1))

    today = datetime.now(UTC).date()
    days = dict(_revenue_by_day(today - timedelta(days=1), today))
    assert dict(selectors.revenue_by_day(today - timedelta(days=1), today)) == days  # kept by the services

    # Beans at 18.50 USD are 17.02 EUR (×0.92, half up); the EUR order's documents in USD:
    assert invoice_eur.items.get().price == D("17.02")
    expected_eur = base(invoice_eur.grand_total, D("0.92")) - base(refund.grand_total, D("0.92"))
    assert expected_eur == (invoice_eur.grand_total / D("0.92")).quantize(CENT, ROUND_HALF_UP) - (
        refund.grand_total / D("0.92")).quantize(CENT, ROUND_HALF_UP)
    assert days[today] == invoice_usd.grand_total + expected_eur
    assert days[today - timedelta(days=1)] == D("0.00")
    # Not simply the order-currency amounts added up.
    assert days[today] != invoice_usd.grand_total + invoice_eur.grand_total - refund.grand_total


# ---------------------------------------------------------------------------- orders placed, AOV


def test_orders_placed_summary_and_average_order_value():
    start = TODAY - timedelta(days=DAYS - 1)
    raw_order(total="10.00")
    raw_order(total="2.01", rate="2")  # 1.005 → 1.01
    raw_order(total="0.00", created=at(start, 0, 0, 0), status=OrderStatus.CANCELED)
    raw_order(total="5.00", archived_at=at(TODAY))
    raw_order(total="99.00", created=at(start - timedelta(days=1), 23, 59, 59))  # before the window
    raw_order(total="99.00", created=at(TODAY + timedelta(days=1)))  # after it

    count, total = synced(_orders_placed_summary, selectors.orders_placed_summary, start, TODAY)

    assert (count, total) == (4, D("16.01"))
    assert average(total, count) == D("4.00")  # 4.0025 → 4.00
    assert average(D("10.01"), 2) == D("5.01")  # 5.005, half up
    assert average(D("0.00"), 0) == D("0.00")
    assert _orders_placed_summary(TODAY + timedelta(days=5), TODAY + timedelta(days=6)) == (0, D("0.00"))


# ---------------------------------------------------------------------------- top products


def test_top_products_by_units_then_product_id_with_revenue_in_base_currency():
    start = TODAY - timedelta(days=DAYS - 1)
    a, b, c, d = (ProductFactory(sku=f"SKU-{n}", name=f"Product {n}") for n in "ABCD")
    usd = raw_order()
    eur = raw_order(rate="2")
    old = raw_order(created=at(start - timedelta(days=1)))

    def line(order, prod, qty, total):
        OrderItem.objects.create(order=order, product=prod, sku=prod.sku if prod else "CUSTOM", name="x",
                                 qty_ordered=qty, total=D(total))

    line(usd, a, 3, "30.00")
    line(eur, a, 1, "2.01")  # 1.005 → 1.01 USD
    line(eur, a, 1, "2.01")
    line(usd, c, 5, "50.00")
    line(eur, b, 5, "9.99")  # 4.995 → 5.00; ties with C on units, B has the smaller id
    line(usd, d, 1, "1.00")
    line(usd, None, 50, "500.00")  # a custom line (no product) is left out
    line(old, d, 40, "400.00")  # an order placed before the window is left out

    top = synced(_top_products, selectors.top_products, start, TODAY, 3)

    assert top == [
        {"product_id": a.id, "sku": "SKU-A", "name": "Product A", "units": 5, "revenue": D("32.02")},
        {"product_id": b.id, "sku": "SKU-B", "name": "Product B", "units": 5, "revenue": D("5.00")},
        {"product_id": c.id, "sku": "SKU-C", "name": "Product C", "units": 5, "revenue": D("50.00")},
    ]
    assert [row["product_id"] for row in _top_products(start, TODAY)] == [a.id, b.id, c.id, d.id]


# ---------------------------------------------------------------------------- work waiting


def test_orders_waiting_follows_the_status_rules_holds_and_archive():
    p = product("10.00", stock=100)
    virtual = product("5.00", type_="virtual")
    order_with((p, 1))  # pending: to invoice and to ship
    invoiced = order_with((p, 2))
    invoice_all(invoiced)  # processing, all invoiced: to ship only
    shipped = order_with((p, 2))
    shipment_create(order_id=shipped.id, inventory_source_id=default_source().id, items=None, actor=None)
    # shipped in full, nothing invoiced: to invoice only
    half = order_with((p, 2), (virtual, 1))
    invoice_lines(half, (items_of(half)[1].id, 1))  # the virtual line invoiced; the mug still both
    virtual_only = order_with((virtual, 1), shipping=None)
    invoice_all(virtual_only)  # nothing left: completed
    held = order_with((p, 1))
    order_hold(order_id=held.id, reason="Customer called", actor=None)  # on hold only
    archived = order_with((p, 1))
    order_archive(order_id=archived.id, actor=None)  # archived: not counted
    archived_held = order_with((p, 1))
    order_hold(order_id=archived_held.id, reason="x", actor=None)
    order_archive(order_id=archived_held.id, actor=None)
    canceled = order_with((p, 1))
    order_cancel(order_id=canceled.id, actor=None)

    assert reload(virtual_only).status == OrderStatus.COMPLETED and reload(invoiced).status == OrderStatus.PROCESSING
    assert _orders_waiting() == {"to_invoice": 3, "to_ship": 3, "on_hold": 1}
    assert selectors.orders_waiting() == _orders_waiting()  # kept by the services


# ---------------------------------------------------------------------------- all of it


def test_dashboard_figures_compose_the_reads_in_a_fixed_number_of_queries(django_assert_num_queries):
    p = product("12.00", stock=100)
    for _ in range(2):
        invoice_all(order_with((p, 1)))
    order_with((p, 3))
    today = datetime.now(UTC).date()

    with django_assert_num_queries(6):
        figures = dashboard_figures()

    orders = list(Order.objects.all())
    assert figures.today == today and figures.start == today - timedelta(days=DAYS - 1)
    assert figures.currency == "USD" and len(figures.revenue_by_day) == DAYS
    invoiced = sum((i.grand_total for i in Invoice.objects.all()), D("0.00"))
    assert figures.revenue_by_day[-1] == (today, invoiced) and figures.revenue_total == invoiced
    assert figures.orders_placed == 3
    assert figures.orders_placed_total == sum((o.grand_total for o in orders), D("0.00"))
    assert figures.average_order_value == average(figures.orders_placed_total, 3)
    assert figures.status_counts["count"] == 3
    by_status = {s["status"]: s["count"] for s in figures.status_counts["statuses"]}
    assert (by_status["pending"], by_status["processing"], sum(by_status.values())) == (1, 2, 3)
    assert figures.top_products == [{"product_id": p.id, "sku": p.sku, "name": p.name, "units": 5,
                                     "revenue": sum((i.total for i in OrderItem.objects.all()), D("0.00"))}]
    assert figures.waiting == {"to_invoice": 1, "to_ship": 3, "on_hold": 0}

    # Ten times the orders, the same queries.
    for _ in range(10):
        order_with((p, 1))
    with django_assert_num_queries(6):
        dashboard_figures(today=today)


def test_dashboard_figures_for_a_given_day():
    raw_document(Invoice, raw_order(created=at(date(2026, 1, 31))), "40.00", at(date(2026, 1, 31)))
    counters_repair()  # the rows above were written by hand
    figures = dashboard_figures(today=date(2026, 2, 1))
    assert figures.start == date(2026, 1, 3)
    assert figures.revenue_by_day[-2:] == [(date(2026, 1, 31), D("40.00")), (date(2026, 2, 1), D("0.00"))]
    assert (figures.orders_placed, figures.average_order_value) == (1, D("10.00"))
