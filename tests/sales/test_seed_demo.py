"""manage.py seed_demo: orders written in bulk obey every rule the services keep (SPEC §1, §3, §5, §9)."""

import re
from collections import defaultdict
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum

from carts.models import GATEWAY_PAYMENT_METHODS, Coupon, CouponUsage
from catalog.models import InventorySource, Product, ProductInventory
from config.money import ZERO, q2
from sales import status as rules
from sales.models import (
    Invoice,
    InvoiceItem,
    Order,
    OrderCounter,
    OrderEvent,
    OrderItem,
    OrderStatus,
    Payment,
    Refund,
    RefundItem,
    SalesDay,
    Sequence,
    Shipment,
    ShipmentItem,
)
from sales.services.common import order_refresh_state

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed(orders: int, **options) -> str:
    out = StringIO()
    call_command("seed_demo", orders=orders, no_progress=True, stdout=out, **options)
    return out.getvalue()


def _seed_with_stock_snapshot(orders: int, **options):
    """Catalog first (to know the stock before any order), then the orders."""
    seed(0)
    stock_before = {(pid, sid): qty for pid, sid, qty in
                    ProductInventory.objects.values_list("product_id", "source_id", "qty")}
    output = seed(orders, **options)
    return stock_before, output


@pytest.fixture
def seeded():
    return _seed_with_stock_snapshot(200)


def _by(model, key: str) -> dict[int, list]:
    out = defaultdict(list)
    for row in model.objects.all():
        out[getattr(row, key)].append(row)
    return out


def _assert_gap_free(numbers: list[str], kind: str) -> None:
    values = sorted(int(n) for n in numbers)
    assert len(values) == len(set(values)), f"{kind} numbers repeat"
    if values:
        assert values == list(range(values[0], values[0] + len(values))), f"{kind} numbers have gaps"
        seq = Sequence.objects.get(name=kind)
        assert values[-1] == seq.start + seq.last_value


def test_every_order_obeys_the_rules(seeded):
    check_every_order(*seeded, count=200)


def test_two_planning_processes_keep_every_rule():
    """Several batches planned by two forked processes, each with its share of the stock."""
    stock_before, output = _seed_with_stock_snapshot(180, batch=40, workers=2, verbosity=2)
    assert "planned in 2 forked processes" in output
    check_every_order(stock_before, output, count=180)
    ids = sorted(OrderItem.objects.values_list("id", flat=True))
    assert len(ids) == len(set(ids))


def test_planning_in_a_forked_process_gives_the_same_data():
    """Several batches: the orders are planned in a child process while this one writes."""
    stock_before, output = _seed_with_stock_snapshot(180, batch=40, workers=1, verbosity=2)
    assert "planned in 1 forked process" in output
    check_every_order(stock_before, output, count=180)
    in_process = _numbers_and_totals()
    Order.objects.all().delete()
    for model in (Sequence, Coupon, CouponUsage, OrderCounter, SalesDay):  # the counters go with the orders
        model.objects.all().delete()
    ProductInventory.objects.all().delete()
    Product.objects.all().delete()
    stock_before, output = _seed_with_stock_snapshot(180, batch=40, workers=0, verbosity=2)
    assert "planned in this process" in output
    assert _numbers_and_totals() == in_process  # same seed, same data, whichever process planned it


def _numbers_and_totals():
    return sorted(Order.objects.values_list("number", "status", "grand_total", "total_invoiced", "total_refunded"))


def check_every_order(stock_before, output, *, count: int):
    orders = list(Order.objects.all())
    assert len(orders) == count
    items = _by(OrderItem, "order_id")
    invoices, shipments, refunds = _by(Invoice, "order_id"), _by(Shipment, "order_id"), _by(Refund, "order_id")
    payments = _by(Payment, "order_id")
    inv_items, ship_items, ref_items = _by(InvoiceItem, "order_item_id"), _by(ShipmentItem, "order_item_id"), \
        _by(RefundItem, "order_item_id")
    events = _by(OrderEvent, "order_id")

    for order in orders:
        lines = items[order.id]
        assert lines, order.number
        # pricing: lines and totals reconcile
        for i in lines:
            assert i.subtotal == q2(i.price * i.qty_ordered)
            assert i.total == i.subtotal - i.discount_amount + i.tax_amount
            assert i.tax_amount == q2((i.subtotal - i.discount_amount) * i.tax_percent / 100)
        assert order.subtotal == sum((i.subtotal for i in lines), ZERO)
        assert order.discount_total == sum((i.discount_amount for i in lines), ZERO)
        assert order.tax_total == sum((i.tax_amount for i in lines), ZERO)
        assert order.grand_total == order.subtotal - order.discount_total + order.tax_total + order.shipping_total
        # counters within bounds, and equal to what the documents moved
        for i in lines:
            assert 0 <= i.qty_invoiced + i.qty_canceled <= i.qty_ordered
            assert 0 <= i.qty_shipped + i.qty_canceled <= i.qty_ordered
            assert 0 <= i.qty_refunded <= i.qty_invoiced
            # returns (SPEC §5): refunded units that had been shipped, taken after paid-but-unsent ones
            assert 0 <= i.qty_returned <= min(i.qty_shipped, i.qty_refunded)
            assert i.qty_shipped + (i.qty_refunded - i.qty_returned) + i.qty_canceled <= i.qty_ordered
            if i.qty_shipped == i.qty_ordered:  # nothing was unsent: every refunded unit is a return
                assert i.qty_returned == i.qty_refunded
                assert (sum((x.subtotal for x in ship_items[i.id]), ZERO),  # and the shipments add up to the line
                        sum((x.tax_amount for x in ship_items[i.id]), ZERO),
                        sum((x.discount_amount for x in ship_items[i.id]), ZERO)) == \
                    (i.subtotal, i.tax_amount, i.discount_amount), i.id
            assert i.qty_invoiced == sum(x.quantity for x in inv_items[i.id])
            assert i.qty_shipped == sum(x.quantity for x in ship_items[i.id])
            assert i.qty_refunded == sum(x.quantity for x in ref_items[i.id])
            assert not i.is_shippable or i.qty_shipped <= i.qty_ordered
            for ledger, docs in (("invoiced", inv_items[i.id]), ("refunded", ref_items[i.id])):
                assert getattr(i, f"subtotal_{ledger}") == sum((x.subtotal for x in docs), ZERO)
                assert getattr(i, f"tax_{ledger}") == sum((x.tax_amount for x in docs), ZERO)
                assert getattr(i, f"discount_{ledger}") == sum((x.discount_amount for x in docs), ZERO)
            if i.qty_invoiced + i.qty_canceled == i.qty_ordered:  # a settled line adds up exactly
                assert i.subtotal_invoiced + i.subtotal_canceled == i.subtotal
                assert i.tax_invoiced + i.tax_canceled == i.tax_amount
                assert i.discount_invoiced + i.discount_canceled == i.discount_amount
        # documents
        for doc in invoices[order.id] + refunds[order.id]:
            extra = getattr(doc, "adjustment_refund", ZERO) - getattr(doc, "adjustment_fee", ZERO)
            assert doc.grand_total == doc.subtotal - doc.discount_total + doc.tax_total + doc.shipping_total + extra
            assert doc.created_at >= order.created_at
        for doc in shipments[order.id]:
            assert doc.total_qty == sum(x.quantity for x in ShipmentItem.objects.filter(shipment=doc))
        assert order.total_invoiced == sum((d.grand_total for d in invoices[order.id]), ZERO)
        assert order.total_invoiced == sum((p.amount for p in payments[order.id]), ZERO)
        assert order.shipping_invoiced == sum((d.shipping_total for d in invoices[order.id]), ZERO)
        assert order.total_refunded == sum((d.grand_total for d in refunds[order.id]), ZERO)
        assert order.shipping_refunded == sum((d.shipping_total for d in refunds[order.id]), ZERO)
        assert ZERO <= order.total_refunded <= order.total_invoiced <= order.grand_total
        if all(i.qty_invoiced + i.qty_canceled == i.qty_ordered for i in lines):
            assert order.total_invoiced + order.total_canceled == order.grand_total, order.number
        assert order.total_due == order.grand_total - order.total_invoiced - order.total_canceled
        # status and list columns exactly as the services compute them
        gateway = order.payment_method_code in GATEWAY_PAYMENT_METHODS
        assert order.status == rules.status_compute(lines, current=order.status, gateway_payment=gateway,
                                                    payment_captured=order.payment_captured), order.number
        probe = Order(status=order.status, payment_method_code=order.payment_method_code,
                      payment_captured=order.payment_captured)
        order_refresh_state(probe, lines)
        assert (probe.status, probe.invoice_state, probe.shipment_state) == \
            (order.status, order.invoice_state, order.shipment_state), order.number
        assert order.payment_captured == bool(invoices[order.id])
        assert bool(order.checkout_token) == gateway
        if order.status == OrderStatus.FRAUD:
            assert not invoices[order.id] and not shipments[order.id]
        # history: placed first, one event per document
        types = [e.type for e in sorted(events[order.id], key=lambda e: e.id)]
        assert types[0] == "placed"
        assert types.count("invoiced") == len(invoices[order.id])
        assert types.count("shipped") == len(shipments[order.id])
        assert types.count("refunded") == len(refunds[order.id])
        numbers = {e.data.get("number") for e in events[order.id] if e.type in ("invoiced", "shipped", "refunded")}
        assert numbers == {d.number for d in invoices[order.id] + shipments[order.id] + refunds[order.id]}

    # every status, and the documents the journeys leave
    assert {o.status for o in orders} == set(OrderStatus.values)
    assert any(o.status == OrderStatus.PENDING_PAYMENT and o.payment_method_code in GATEWAY_PAYMENT_METHODS
               for o in orders)
    assert any(o.status == OrderStatus.PROCESSING and o.invoice_state == "partial" for o in orders)
    assert any(o.status == OrderStatus.PROCESSING and o.shipment_state == "partial" for o in orders)
    assert any(o.status == OrderStatus.COMPLETED and o.total_refunded > 0 for o in orders)
    assert any(o.status == OrderStatus.COMPLETED and o.total_canceled > 0 for o in orders)
    sources = {s.code: s.id for s in InventorySource.objects.all()}
    by_order_sources = defaultdict(set)
    for s in Shipment.objects.all():
        by_order_sources[s.order_id].add(s.inventory_source_id)
    completed = {o.id for o in orders if o.status == OrderStatus.COMPLETED}
    assert any(srcs == {sources["default"], sources["downtown"]} for oid, srcs in by_order_sources.items()
               if oid in completed), "a completed order shipped from both sources"
    assert {o.fulfillment_type for o in orders} >= {"shipping", "pickup"}

    assert any(i.qty_returned for lines in items.values() for i in lines), "some refund took shipped units"

    # stock: reservations = Σ qty_to_ship of stocked lines; on hand moved only by shipments and returns
    reserved = defaultdict(int)
    for lines in items.values():
        for i in lines:
            if i.is_stocked and i.product_id:
                reserved[i.product_id] += i.qty_to_ship
    for product in Product.objects.all():
        assert product.qty_reserved == reserved.get(product.id, 0), product.sku
    assert "stock receipts: 0," in output
    moved = defaultdict(int)
    for row in ShipmentItem.objects.select_related("shipment", "order_item"):
        moved[(row.order_item.product_id, row.shipment.inventory_source_id)] -= row.quantity
    latest_source = {}
    for row in ShipmentItem.objects.select_related("shipment").order_by("shipment_id"):
        latest_source[row.order_item_id] = row.shipment.inventory_source_id
    # (the demo returns to stock only lines shipped in full, so every refunded unit of them goes back)
    for row in RefundItem.objects.filter(refund__return_to_stock=True, order_item__is_stocked=True,
                                         order_item__product__isnull=False).select_related("order_item"):
        assert row.order_item.qty_shipped == row.order_item.qty_ordered
        moved[(row.order_item.product_id, latest_source[row.order_item_id])] += row.quantity
    for inv in ProductInventory.objects.all():
        key = (inv.product_id, inv.source_id)
        assert inv.qty >= 0
        assert inv.qty == stock_before[key] + moved.get(key, 0), key
        assert stock_before[key] + moved.get(key, 0) >= 0
    for pid, total in ProductInventory.objects.values_list("product_id").annotate(t=Sum("qty")):
        assert total >= reserved.get(pid, 0), "never more reserved than on hand"

    # every foreign key points at a row (PostgreSQL loads with its per-row key triggers off)
    for model, fk, target in ((OrderItem, "order_id", Order), (Invoice, "order_id", Order),
                              (InvoiceItem, "invoice_id", Invoice), (InvoiceItem, "order_item_id", OrderItem),
                              (Shipment, "order_id", Order), (ShipmentItem, "shipment_id", Shipment),
                              (ShipmentItem, "order_item_id", OrderItem), (Refund, "order_id", Order),
                              (RefundItem, "refund_id", Refund), (RefundItem, "order_item_id", OrderItem),
                              (Payment, "order_id", Order), (OrderEvent, "order_id", Order),
                              (OrderItem, "product_id", Product), (Shipment, "inventory_source_id", InventorySource)):
        orphans = model.objects.exclude(**{f"{fk}__in": target.objects.values("id")})
        if fk == "product_id":
            orphans = orphans.exclude(product_id__isnull=True)
        assert not orphans.exists(), f"{model.__name__}.{fk}"
    assert not CouponUsage.objects.exclude(order_id__in=Order.objects.values("id")).exists()

    # gap-free, unique numbers per document type
    _assert_gap_free([o.number for o in orders], "order")
    _assert_gap_free(list(Invoice.objects.values_list("number", flat=True)), "invoice")
    _assert_gap_free(list(Shipment.objects.values_list("number", flat=True)), "shipment")
    _assert_gap_free(list(Refund.objects.values_list("number", flat=True)), "refund")
    by_time = [o.number for o in sorted(orders, key=lambda o: (o.created_at, o.id))]
    assert by_time == sorted(by_time)  # numbered in the order they were placed

    # coupon uses counted once per order that was not canceled in full
    for coupon in Coupon.objects.all():
        assert coupon.times_used == CouponUsage.objects.filter(coupon=coupon).count()
    for order in orders:
        fully_canceled = all(i.qty_canceled == i.qty_ordered for i in items[order.id])
        assert CouponUsage.objects.filter(order_id=order.id).exists() == bool(order.coupon_id and not fully_canceled)


def test_dates_spread_over_two_years(seeded):
    from datetime import timedelta

    from django.utils import timezone

    stamps = sorted(Order.objects.values_list("created_at", flat=True))
    now = timezone.now()
    assert stamps[0] >= now - timedelta(days=731) and stamps[-1] <= now
    assert stamps[-1] - stamps[0] > timedelta(days=365)
    assert Invoice.objects.filter(created_at__gt=now).count() == 0


def test_seeded_orders_read_through_the_api(seeded, api):
    for status in OrderStatus:
        order = Order.objects.filter(status=status).first()
        r = api.get(f"/api/admin/orders/{order.id}")
        assert r.status_code == 200, r.json()
        body = r.json()
        assert body["status"] == status.label and body["number"] == order.number
        assert len(body["invoices"]) == Invoice.objects.filter(order=order).count()
    r = api.get("/api/admin/orders/count")
    assert r.json()["count"] == 200 and all(s["count"] > 0 for s in r.json()["statuses"])
    for kind in ("invoices", "shipments", "refunds"):
        r = api.get(f"/api/admin/{kind}", {"page_size": 250})
        assert r.status_code == 200 and r.json()["count"] > 0
    invoice = Invoice.objects.order_by("-id").first()
    r = api.get(f"/api/admin/invoices/{invoice.id}/pdf")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")


def test_if_empty_skips_and_a_second_run_adds_more(seeded):
    assert "already present" in seed(50, if_empty=True)
    assert Order.objects.count() == 200
    seed(30, seed=7)
    assert Order.objects.count() == 230
    _assert_gap_free(list(Order.objects.values_list("number", flat=True)), "order")
    _assert_gap_free(list(Invoice.objects.values_list("number", flat=True)), "invoice")
    assert Product.objects.filter(sku="DEMO-001").count() == 1
    reserved = defaultdict(int)
    for i in OrderItem.objects.filter(is_stocked=True, product__isnull=False):
        reserved[i.product_id] += i.qty_to_ship
    for product in Product.objects.all():
        assert product.qty_reserved == reserved.get(product.id, 0)


def test_default_run_is_what_make_run_uses():
    output = seed(12, if_empty=True)
    assert re.search(r"12 orders \(12 new", output)
    assert Order.objects.count() == 12
    assert Decimal(Order.objects.aggregate(t=Sum("grand_total"))["t"]) > 0


def test_the_services_carry_on_from_seeded_orders(seeded, api):
    """Seeded orders are ordinary orders: the API acts on them, and new rows get fresh ids and numbers."""
    from django.db import connection

    from tests.sales.helpers import placed_order

    if connection.vendor == "postgresql":  # the bulk load gave the session its triggers back
        with connection.cursor() as cursor:
            cursor.execute("SHOW session_replication_role")
            assert cursor.fetchone()[0] == "origin"
    pending = Order.objects.filter(status=OrderStatus.PENDING).order_by("id").first()
    last_invoice = Invoice.objects.order_by("-number").first().number
    r = api.post(f"/api/admin/orders/{pending.id}/invoices", {}, format="json")
    assert r.status_code == 201, r.json()
    assert int(r.json()["number"]) == int(last_invoice) + 1
    source = InventorySource.objects.get(code="default")
    r = api.post(f"/api/admin/orders/{pending.id}/shipments", {"inventory_source_id": source.id}, format="json")
    assert r.status_code == 201, r.json()
    assert api.get(f"/api/admin/orders/{pending.id}").json()["status"] in ("completed", "processing")
    closed = Order.objects.filter(status=OrderStatus.CLOSED).first()
    r = api.post(f"/api/admin/orders/{closed.id}/refunds", {"adjustment_refund": "1.00"}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "order_not_refundable"
    last_order = max(int(n) for n in Order.objects.values_list("number", flat=True))
    order = placed_order()
    assert int(order.number) == last_order + 1
    assert order.id > pending.id and OrderEvent.objects.filter(order=order, type="placed").exists()
