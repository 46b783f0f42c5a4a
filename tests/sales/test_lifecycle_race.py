"""Concurrent lifecycle actions on PostgreSQL (SPEC §5: "every action runs in one transaction with
the order row locked, so concurrent requests can never invoice, ship, refund or cancel more
than exists").

Eight real threads, each with its own connection, meet at a barrier and call the same service
on the same order at once. Without the order row lock each would read the same counters and
all would win; with it, exactly what exists is billed, sent, refunded or canceled. Shipments of
two different orders compete for the same stock row, which only the product / inventory row
locks serialise. Nothing can hang: each connection has a lock_timeout, the barrier a timeout,
every join a deadline; a lock timeout or deadlock error fails the test.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db.models import Sum

from carts.models import Coupon, CouponUsage
from catalog.models import Product, ProductInventory
from config.errors import DomainError
from sales.models import Invoice, Order, OrderItem, OrderStatus, Payment, Refund, Shipment, ShipmentItem
from sales.services.canceling import order_cancel
from sales.services.common import LineQty
from sales.services.invoicing import invoice_create
from sales.services.refunding import RefundRequest, refund_create
from sales.services.shipping import shipment_create
from tests.carts.factories import CouponFactory
from tests.catalog.factories import ProductFactory, default_source
from tests.race import race_run
from tests.sales.helpers import placed_order

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

THREADS = 8
D = Decimal


@dataclass
class Outcome:
    index: int
    result: object = None
    error: BaseException | None = None

    @property
    def code(self) -> str | None:
        return getattr(self.error, "code", None)


def race(work, n: int = THREADS) -> list[Outcome]:
    """Run ``work(i)`` in n threads that start together; domain refusals are outcomes, anything
    else (lock timeout, deadlock, integrity error) fails the test."""
    outcomes = [Outcome(i, result, error) for i, (result, error) in enumerate(race_run(work, n, name="lifecycle"))]
    unexpected = [o for o in outcomes if o.error is not None and not isinstance(o.error, DomainError)]
    assert not unexpected, [f"thread {o.index}: {o.error!r}" for o in unexpected]
    return outcomes


def winners(outcomes) -> list[Outcome]:
    return [o for o in outcomes if o.error is None]


def codes(outcomes) -> set[str | None]:
    return {o.code for o in outcomes if o.error is not None}


def items(order) -> list[OrderItem]:
    return list(OrderItem.objects.filter(order_id=order.id).order_by("id"))


def assert_consistent(order_id: int) -> Order:
    """The SPEC §5 invariants, read back after the race."""
    order = Order.objects.get(id=order_id)
    lines = list(OrderItem.objects.filter(order_id=order_id))
    for i in lines:
        assert 0 <= i.qty_invoiced + i.qty_canceled <= i.qty_ordered
        assert i.qty_shipped + i.qty_canceled <= i.qty_ordered
        assert i.qty_refunded <= i.qty_invoiced
    assert D(0) <= order.total_refunded <= order.total_invoiced <= order.grand_total
    assert order.total_invoiced + order.total_canceled <= order.grand_total
    invoiced = Invoice.objects.filter(order_id=order_id).aggregate(s=Sum("grand_total"))["s"] or D(0)
    refunded = Refund.objects.filter(order_id=order_id).aggregate(s=Sum("grand_total"))["s"] or D(0)
    assert invoiced == order.total_invoiced and refunded == order.total_refunded
    for i in lines:
        shipped = ShipmentItem.objects.filter(order_item_id=i.id).aggregate(s=Sum("quantity"))["s"] or 0
        assert shipped == i.qty_shipped
    return order


def test_eight_threads_invoicing_everything_make_one_invoice():
    a, b = ProductFactory(price=D("10.00"), stock=5), ProductFactory(price=D("3.33"), stock=5)
    order = placed_order((a, 3), (b, 2))

    outcomes = race(lambda i: invoice_create(order_id=order.id, items=None, actor=None))

    assert len(winners(outcomes)) == 1, [(o.index, o.code) for o in outcomes]
    assert codes(outcomes) == {"order_not_invoiceable"}
    assert Invoice.objects.filter(order=order).count() == 1
    assert Payment.objects.filter(order=order).count() == 1
    order = assert_consistent(order.id)
    assert order.total_invoiced == order.grand_total
    assert [i.qty_invoiced for i in items(order)] == [3, 2]


def test_eight_threads_invoicing_one_unit_each_bill_exactly_what_exists():
    p = ProductFactory(price=D("3.33"), stock=10)
    order = placed_order((p, 5))
    line = items(order)[0]

    outcomes = race(lambda i: invoice_create(order_id=order.id, items=[LineQty(line.id, 1)], actor=None))

    assert len(winners(outcomes)) == 5
    assert codes(outcomes) <= {"quantity_exceeds_remaining", "order_not_invoiceable"}
    order = assert_consistent(order.id)
    assert items(order)[0].qty_invoiced == 5
    assert order.total_invoiced == order.grand_total  # the 5th invoice took what was left
    numbers = sorted(int(n) for n in Invoice.objects.filter(order=order).values_list("number", flat=True))
    assert numbers == list(range(numbers[0], numbers[0] + 5))  # gap-free, no duplicates


def test_eight_threads_shipping_the_last_units_never_ship_more_than_ordered():
    p = ProductFactory(price=D("10.00"), stock=3)
    order = placed_order((p, 3))
    line = items(order)[0]
    source = default_source()

    outcomes = race(lambda i: shipment_create(order_id=order.id, inventory_source_id=source.id,
                                              items=[LineQty(line.id, 1 + i % 2)], actor=None))

    shipped = sum(o.result.total_qty for o in winners(outcomes))
    assert shipped == 3, [(o.index, o.code) for o in outcomes]
    assert codes(outcomes) <= {"quantity_exceeds_remaining", "order_not_shippable"}
    assert_consistent(order.id)
    assert items(order)[0].qty_shipped == 3
    assert ProductInventory.objects.get(product=p, source=source).qty == 0
    assert Product.objects.get(id=p.id).qty_reserved == 0


def test_two_orders_racing_for_short_stock_never_drive_it_negative():
    """Different orders (different order locks) compete for one stock row: only the product and
    inventory row locks keep the shelf from going below zero."""
    p = ProductFactory(price=D("10.00"), stock=6)
    first, second = placed_order((p, 3)), placed_order((p, 3))
    ProductInventory.objects.filter(product=p).update(qty=4)  # a stock count found two missing
    source = default_source()
    orders = [first, second]

    outcomes = race(lambda i: shipment_create(order_id=orders[i % 2].id, inventory_source_id=source.id,
                                              items=None, actor=None))

    assert len(winners(outcomes)) == 1, [(o.index, o.code) for o in outcomes]
    assert codes(outcomes) <= {"insufficient_stock", "order_not_shippable"}
    assert "insufficient_stock" in codes(outcomes)
    assert ProductInventory.objects.get(product=p, source=source).qty == 1
    assert Product.objects.get(id=p.id).qty_reserved == 3
    assert Shipment.objects.count() == 1
    for o in orders:
        assert_consistent(o.id)


def test_eight_threads_refunding_never_refund_more_than_invoiced():
    p = ProductFactory(price=D("10.00"), stock=10)
    order = placed_order((p, 4))  # 40.00 + 5.00 shipping
    invoice_create(order_id=order.id, items=None, actor=None)
    line = items(order)[0]
    request = RefundRequest(items=[LineQty(line.id, 1)], adjustment_refund=D("3.00"))  # 13.00 each

    outcomes = race(lambda i: refund_create(order_id=order.id, request=request, actor=None))

    assert len(winners(outcomes)) == 3, [(o.index, o.code) for o in outcomes]  # 39.00 of 45.00
    assert codes(outcomes) == {"refund_exceeds_refundable"}
    order = assert_consistent(order.id)
    assert order.total_refunded == D("39.00") and items(order)[0].qty_refunded == 3
    assert Product.objects.get(id=p.id).qty_reserved == 1  # three unshipped units released, once each


def test_eight_threads_refunding_units_refund_each_unit_once():
    p = ProductFactory(price=D("7.77"), stock=10)
    order = placed_order((p, 5))
    invoice_create(order_id=order.id, items=None, actor=None)
    shipment_create(order_id=order.id, inventory_source_id=default_source().id, items=None, actor=None)
    line = items(order)[0]
    request = RefundRequest(items=[LineQty(line.id, 1)], return_to_stock=True)

    outcomes = race(lambda i: refund_create(order_id=order.id, request=request, actor=None))

    assert len(winners(outcomes)) == 5
    assert codes(outcomes) <= {"refund_exceeds_refundable", "order_not_refundable"}
    order = assert_consistent(order.id)
    assert items(order)[0].qty_refunded == 5 and order.status == OrderStatus.CLOSED
    assert order.total_refunded == order.total_invoiced - order.shipping_total  # every unit, exactly
    assert ProductInventory.objects.get(product=p, source=default_source()).qty == 10  # each unit back once


def test_eight_threads_cancelling_cancel_once():
    coupon = CouponFactory(code="RACECANCEL", discount_type="percent", value=D("10.00"))
    p = ProductFactory(price=D("10.00"), stock=5)
    order = placed_order((p, 3), coupon="racecancel")
    assert Coupon.objects.get(id=coupon.id).times_used == 1

    outcomes = race(lambda i: order_cancel(order_id=order.id, actor=None))

    assert len(winners(outcomes)) == 1, [(o.index, o.code) for o in outcomes]
    assert codes(outcomes) == {"order_not_cancelable"}
    order = assert_consistent(order.id)
    assert order.status == OrderStatus.CANCELED and order.total_canceled == order.grand_total
    assert Product.objects.get(id=p.id).qty_reserved == 0
    assert Coupon.objects.get(id=coupon.id).times_used == 0  # given back once
    assert not CouponUsage.objects.filter(order_id=order.id).exists()


def test_cancel_racing_invoice_one_of_them_wins_and_the_counters_agree():
    p = ProductFactory(price=D("3.33"), stock=5)
    order = placed_order((p, 3))

    def work(i):
        if i % 2:
            return order_cancel(order_id=order.id, actor=None)
        return invoice_create(order_id=order.id, items=None, actor=None)

    outcomes = race(work)

    assert len(winners(outcomes)) == 1, [(o.index, o.code) for o in outcomes]
    assert codes(outcomes) <= {"order_not_cancelable", "order_not_invoiceable"}
    order = assert_consistent(order.id)
    assert order.total_invoiced + order.total_canceled == order.grand_total
    line = items(order)[0]
    assert line.qty_invoiced + line.qty_canceled == 3 and 0 in (line.qty_invoiced, line.qty_canceled)
    assert Product.objects.get(id=p.id).qty_reserved == (0 if line.qty_canceled else 3)


def test_every_action_at_once_keeps_every_invariant():
    """Two threads each invoice one unit, ship one unit, refund (one unit + 1.00) and cancel."""
    p = ProductFactory(price=D("10.00"), stock=10)
    order = placed_order((p, 6))
    line = items(order)[0]
    invoice_create(order_id=order.id, items=[LineQty(line.id, 2)], actor=None)
    source = default_source()
    actions = [
        lambda: invoice_create(order_id=order.id, items=[LineQty(line.id, 1)], actor=None),
        lambda: shipment_create(order_id=order.id, inventory_source_id=source.id, items=[LineQty(line.id, 1)],
                                actor=None),
        lambda: refund_create(order_id=order.id, request=RefundRequest(items=[LineQty(line.id, 1)],
                                                                      adjustment_refund=D("1.00")), actor=None),
        lambda: order_cancel(order_id=order.id, actor=None),
    ]

    race(lambda i: actions[i % 4]())

    order = assert_consistent(order.id)
    line = items(order)[0]
    to_ship = max(0, line.qty_ordered - line.qty_shipped - line.qty_refunded - line.qty_canceled)
    assert Product.objects.get(id=p.id).qty_reserved == to_ship
    assert ProductInventory.objects.get(product=p, source=source).qty == 10 - line.qty_shipped
