"""Status counters and dashboard rollups kept by the services (issue 15, SPEC §5 count, §14, §15).

Every test here (like every test under tests/sales) ends with tests/sales/conftest.py's recount,
so these check what the reads answer and what the recount command does with a difference."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from catalog.models import Currency
from sales import selectors
from sales.models import Order, OrderCounter, OrderStatus, SalesDay
from sales.services.archiving import order_archive, order_restore, orders_archive_matching, orders_restore_matching
from sales.services.canceling import order_cancel
from sales.services.counters import base_amount, counters_check, counters_repair
from sales.services.holding import order_hold, order_release_hold
from sales.services.refunding import RefundRequest, refund_create
from sales.services.shipping import shipment_create
from tests.sales.lifecycle_support import default_source, invoice_all, order_with, product, set_status

pytestmark = pytest.mark.django_db

D = Decimal
TODAY = timezone.now().date()


def counts(api) -> dict[str, int]:
    r = api.get("/api/admin/orders/count")
    assert r.status_code == 200, r.json()
    body = r.json()
    by_name = {s["status"]: s["count"] for s in body["statuses"]}
    assert body["count"] == sum(by_name.values()) and len(by_name) == 7
    return by_name


def ship_all(order):
    return shipment_create(order_id=order.id, items=None, actor=None, inventory_source_id=default_source().id)


# --------------------------------------------------------------------------- count by status


def test_count_endpoint_follows_every_action_and_reads_one_query(api, django_assert_max_num_queries):
    a, b, c = order_with((product(), 1)), order_with((product(), 2)), order_with((product(), 1))
    assert counts(api)["pending"] == 3
    invoice_all(a)
    ship_all(a)  # completed
    invoice_all(b)  # processing
    order_cancel(order_id=c.id, actor=None)
    by_name = counts(api)
    assert (by_name["completed"], by_name["processing"], by_name["canceled"], by_name["pending"]) == (1, 1, 1, 0)
    order_archive(order_id=a.id, actor=None)
    assert counts(api)["completed"] == 0
    order_restore(order_id=a.id, actor=None)
    assert counts(api)["completed"] == 1
    set_status(b, OrderStatus.FRAUD)
    assert counts(api)["fraud"] == 1 and counts(api)["processing"] == 0
    selectors.order_count_by_status()  # warm the content types / permissions caches
    with django_assert_max_num_queries(1):
        assert selectors.order_count_by_status()["count"] == 3


def test_bulk_archive_and_restore_move_the_counts(api):
    orders = [order_with((product(), 1)) for _ in range(5)]
    invoice_all(orders[0])
    assert orders_archive_matching(queryset=Order.objects.all(), actor=None, batch_size=2) == 5
    assert counts(api) == {s.label: 0 for s in OrderStatus}
    assert orders_restore_matching(queryset=Order.objects.filter(id__in=[o.id for o in orders[:2]]), actor=None) == 2
    assert counts(api)["pending"] == 1 and counts(api)["processing"] == 1


def test_the_list_count_reads_the_counters_unless_another_filter_is_given(api, django_assert_num_queries):
    orders = [order_with((product(), 1)) for _ in range(4)]
    invoice_all(orders[0])
    order_hold(order_id=orders[1].id, reason="check", actor=None)
    order_archive(order_id=orders[2].id, actor=None)
    # Skew one counter row on purpose: a count read from the counters shows it, a COUNT(*) does not.
    OrderCounter.objects.create(status=OrderStatus.PENDING, archived=False, held=False, to_invoice=True,
                                to_ship=True, slot=99, n=100)
    try:
        def count(**params):
            r = api.get("/api/admin/orders", params)
            assert r.status_code == 200, r.json()
            return r.json()["count"]

        assert count() == 103
        assert count(status="pending") == 102
        assert count(status="processing,1") == 103
        assert count(on_hold="true") == 1
        assert count(archived="true") == 1
        assert count(status="pending", email=orders[3].customer_email) == 1  # another filter: counted rows
        assert count(search=orders[3].number) == 1
    finally:
        OrderCounter.objects.filter(slot=99).delete()
    r = api.get("/api/admin/orders", {"status": "pending"})
    assert r.json()["count"] == 2 and len(r.json()["results"]) == 2


# --------------------------------------------------------------------------- work waiting


def test_orders_waiting(api):
    assert selectors.orders_waiting() == {"to_invoice": 0, "to_ship": 0, "on_hold": 0}
    fresh = order_with((product(), 2))  # to invoice and to ship
    billed = order_with((product(), 1))
    invoice_all(billed)  # to ship only
    sent = order_with((product(), 1))
    ship_all(sent)  # to invoice only
    virtual = order_with((product(type_="virtual"), 1), shipping=None)  # to invoice; nothing ships
    held = order_with((product(), 1))
    order_hold(order_id=held.id, reason="x", actor=None)
    gone = order_with((product(), 1))
    order_archive(order_id=gone.id, actor=None)
    gateway = order_with((product(), 1), payment="paypal_standard")  # pending_payment: no work waits on it
    assert Order.objects.get(id=gateway.id).status == OrderStatus.PENDING_PAYMENT
    assert selectors.orders_waiting() == {"to_invoice": 3, "to_ship": 2, "on_hold": 1}
    order_release_hold(order_id=held.id, actor=None)
    assert selectors.orders_waiting() == {"to_invoice": 4, "to_ship": 3, "on_hold": 0}
    del fresh, virtual


# --------------------------------------------------------------------------- rollups


def test_revenue_per_day_in_base_currency_with_refunds_and_zero_days():
    Currency.objects.filter(code="EUR").update(rate=D("0.9"))
    usd = order_with((product("10.00"), 2))
    eur = order_with((product("10.00"), 1), currency="EUR")
    inv_usd, inv_eur = invoice_all(usd), invoice_all(eur)
    refund = refund_create(order_id=usd.id, request=RefundRequest(adjustment_refund=D("3.00")), actor=None)
    expected = inv_usd.grand_total + base_amount(inv_eur.grand_total, D("0.9")) - refund.grand_total
    days = selectors.revenue_by_day(TODAY - timedelta(days=2), TODAY + timedelta(days=1))
    assert days == [(TODAY - timedelta(days=2), D("0.00")), (TODAY - timedelta(days=1), D("0.00")),
                    (TODAY, expected), (TODAY + timedelta(days=1), D("0.00"))]
    assert selectors.revenue_by_day(TODAY, TODAY - timedelta(days=1)) == []


def test_orders_placed_summary_counts_every_order_created_in_the_range():
    Currency.objects.filter(code="EUR").update(rate=D("0.9"))
    a = order_with((product("10.00"), 2))
    b = order_with((product("7.00"), 1), currency="EUR")
    order_cancel(order_id=b.id, actor=None)
    order_archive(order_id=b.id, actor=None)  # canceled and archived still count as placed
    n, amount = selectors.orders_placed_summary(TODAY, TODAY)
    a, b = Order.objects.get(id=a.id), Order.objects.get(id=b.id)
    assert n == 2 and amount == a.grand_total + base_amount(b.grand_total, b.exchange_rate)
    assert selectors.orders_placed_summary(TODAY + timedelta(days=1), TODAY + timedelta(days=9)) == (0, D("0.00"))


def test_top_products_by_units_then_id_with_base_revenue(django_assert_max_num_queries):
    p1, p2, p3 = product("5.00", 50), product("8.00", 50), product("2.00", 50)
    order_with((p1, 3), (p2, 1))
    order_with((p2, 2), (p3, 3))
    canceled = order_with((p3, 1))
    order_cancel(order_id=canceled.id, actor=None)  # cancellations do not subtract
    with django_assert_max_num_queries(2):
        top = selectors.top_products(TODAY, TODAY)
    assert [(t["product_id"], t["units"]) for t in top] == [(p3.id, 4), (p1.id, 3), (p2.id, 3)]
    assert top[0]["sku"] == p3.sku and top[0]["name"] == p3.name
    assert top[0]["revenue"] == D("8.00") and top[1]["revenue"] == D("15.00") and top[2]["revenue"] == D("24.00")
    assert [t["product_id"] for t in selectors.top_products(TODAY, TODAY, limit=1)] == [p3.id]
    assert selectors.top_products(TODAY - timedelta(days=5), TODAY - timedelta(days=1)) == []


def test_an_imported_invoice_counts_on_its_own_day(api):
    """The import's invoice is dated like the order (ordered_at): revenue lands on that day."""
    p = product("10.00", 10)
    doc = {"reference": "OLD-1", "email": "old@example.com", "notify": False, "status_id": 4,
           "ordered_at": "2024-03-05T10:00:00Z", "payments": [{"driver": "cash", "amount": 2400}],
           "items": [{"variant_id": p.id, "quantity": 2, "price": {"amount": 1000, "tax": 200}}]}
    r = api.post("/api/admin/orders/import", doc, format="json")
    assert r.status_code == 201, r.json()
    day = date(2024, 3, 5)
    assert selectors.revenue_by_day(day, day) == [(day, D("24.00"))]
    assert selectors.revenue_by_day(TODAY, TODAY) == [(TODAY, D("0.00"))]
    assert selectors.orders_placed_summary(day, day) == (1, D("24.00"))
    assert [(t["product_id"], t["units"]) for t in selectors.top_products(day, day)] == [(p.id, 2)]
    assert counts(api)["completed"] == 1


def test_the_bulk_import_writes_the_same_rollups_as_one_by_one(tmp_path):
    import json

    p = product("10.00", 10)
    lines = [{"reference": f"B-{n}", "email": f"b{n}@example.com", "notify": False, "status_id": 3,
              "ordered_at": f"2024-03-0{n}T10:00:00Z", "payments": [{"driver": "cash", "amount": 1200}],
              "items": [{"variant_id": p.id, "quantity": 1, "price": {"amount": 1000, "tax": 200}}]}
             for n in (1, 2, 3)]
    path = tmp_path / "orders.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    call_command("import_orders", str(path), stdout=StringIO(), stderr=StringIO())
    assert Order.objects.count() == 3
    revenue = selectors.revenue_by_day(date(2024, 3, 1), date(2024, 3, 4))
    assert [r for _, r in revenue] == [D("12.00"), D("12.00"), D("12.00"), D("0.00")]
    assert selectors.orders_placed_summary(date(2024, 3, 1), date(2024, 3, 3)) == (3, D("36.00"))
    assert not counters_check()


# --------------------------------------------------------------------------- recount command


def recount(*args) -> str:
    out = StringIO()
    call_command("recount_order_counters", *args, stdout=out)
    return out.getvalue()


def test_recount_reports_a_difference_exits_1_and_repairs_it():
    order = order_with((product(), 1))
    invoice_all(order)
    assert "exact" in recount()
    OrderCounter.objects.filter(status=OrderStatus.PROCESSING).update(n=5)
    SalesDay.objects.filter(product_id=0).update(revenue=1)
    Order.objects.filter(id=order.id).update(work_left=None)
    with pytest.raises(CommandError) as exc:
        recount()
    assert exc.value.returncode == 1
    assert "bucket(s)" in str(exc.value) and "--repair" in str(exc.value)
    out = recount("--repair")
    assert "repaired" in out and f"order {order.id}: work_left None should be 2" in out
    assert "kept 5, recounted 1" in out
    assert "exact" in recount()
    assert Order.objects.get(id=order.id).work_left == 2


def test_orders_written_around_the_services_are_found_and_counted_by_the_repair():
    order = order_with((product(), 1))
    fields = {f.attname: getattr(order, f.attname) for f in Order._meta.concrete_fields if not f.primary_key}
    Order.objects.create(**{**fields, "number": "X-1", "cart_id": None, "checkout_token": None,
                            "created_at": datetime(2024, 1, 2, tzinfo=UTC), "work_left": None})
    found = counters_check()
    assert found.work_left and found.counts and found.sales
    counters_repair()
    assert not counters_check()
    assert selectors.order_count_by_status()["count"] == 2
    assert selectors.orders_placed_summary(date(2024, 1, 2), date(2024, 1, 2))[0] == 1


def test_dashboard_reads_take_one_query_each_whatever_the_orders(django_assert_num_queries):
    def reads():
        with django_assert_num_queries(1):
            selectors.orders_waiting()
        with django_assert_num_queries(1):
            selectors.revenue_by_day(TODAY - timedelta(days=29), TODAY)
        with django_assert_num_queries(1):
            selectors.orders_placed_summary(TODAY - timedelta(days=29), TODAY)
        with django_assert_num_queries(1):
            selectors.order_count_by_status()

    reads()
    p = product("4.00", 100)
    for _ in range(6):
        invoice_all(order_with((p, 2)))
    reads()
    assert selectors.orders_waiting() == {"to_invoice": 0, "to_ship": 6, "on_hold": 0}
    assert len(selectors.revenue_by_day(TODAY - timedelta(days=29), TODAY)) == 30
