"""Edits racing invoices and shipments of the same order on PostgreSQL (SPEC §12): eight real threads,
each on its own connection, start together. The order row lock serialises them: an edit never
lowers a line below what was invoiced or shipped, invoices never bill more than exists, and the
order settles to the cent afterwards."""

from __future__ import annotations

from decimal import Decimal

import pytest

from catalog.models import Product
from sales.models import Invoice, Order, OrderItem
from sales.services.common import LineQty
from sales.services.editing import EditLine, order_edit
from sales.services.invoicing import invoice_create
from sales.services.shipping import shipment_create
from tests.catalog.factories import ProductFactory, default_source
from tests.sales.helpers import placed_order
from tests.sales.test_lifecycle_race import THREADS, race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

D = Decimal


def _settle_and_check(order_id: int) -> None:
    order = Order.objects.get(id=order_id)
    items = list(OrderItem.objects.filter(order_id=order_id))
    for i in items:
        assert i.qty_invoiced + i.qty_canceled <= i.qty_ordered, i.__dict__
        assert i.qty_shipped + i.qty_canceled <= i.qty_ordered, i.__dict__
    assert sum((x.grand_total for x in Invoice.objects.filter(order_id=order_id)), D("0")) == order.total_invoiced
    assert order.total_invoiced + order.total_canceled <= order.grand_total
    if any(i.qty_to_invoice for i in items):
        invoice_create(order_id=order_id, items=None, actor=None)
    order = Order.objects.get(id=order_id)
    assert order.total_invoiced + order.total_canceled == order.grand_total
    reserved = sum(i.qty_to_ship for i in OrderItem.objects.filter(order_id=order_id, is_stocked=True))
    product_ids = set(OrderItem.objects.filter(order_id=order_id).values_list("product_id", flat=True))
    assert sum(Product.objects.filter(id__in=product_ids).values_list("qty_reserved", flat=True)) == reserved


def test_edits_and_invoices_of_one_order_never_bill_more_than_exists():
    a = ProductFactory(price=D("9.99"), stock=100)
    order = placed_order((a, 8))
    (item,) = OrderItem.objects.filter(order_id=order.id)
    invoice_create(order_id=order.id, items=[LineQty(item.id, 1)], actor=None)  # processing

    def work(i: int):
        if i % 2:
            return invoice_create(order_id=order.id, items=[LineQty(item.id, 2)], actor=None)
        # lower the line by one unit (canceled) or raise it by one (a new line)
        current = OrderItem.objects.get(id=item.id)
        effective = current.qty_ordered - current.qty_canceled
        return order_edit(order_id=order.id, lines=[EditLine(id=item.id, quantity=effective - 1 if i % 4 == 0
                                                             else effective + 1)], actor=None)

    outcomes = race(work)
    codes = {o.code for o in outcomes if o.error is not None}
    assert codes <= {"quantity_exceeds_remaining", "quantity_below_minimum", "order_not_invoiceable"}, codes
    assert any(o.error is None for o in outcomes)
    _settle_and_check(order.id)


def test_an_edit_racing_a_shipment_never_lowers_a_line_below_what_shipped():
    a = ProductFactory(price=D("5.00"), stock=50)
    order = placed_order((a, 6))
    (item,) = OrderItem.objects.filter(order_id=order.id)
    invoice_create(order_id=order.id, items=[LineQty(item.id, 1)], actor=None)

    def work(i: int):
        if i % 2:
            return shipment_create(order_id=order.id, inventory_source_id=default_source().id,
                                   items=[LineQty(item.id, 2)], actor=None)
        return order_edit(order_id=order.id, lines=[EditLine(id=item.id, quantity=1)], actor=None)

    outcomes = race(work, THREADS)
    codes = {o.code for o in outcomes if o.error is not None}
    assert codes <= {"quantity_exceeds_remaining", "quantity_below_minimum", "order_not_shippable"}, codes
    line = OrderItem.objects.get(id=item.id)
    assert line.qty_ordered - line.qty_canceled >= max(line.qty_shipped, line.qty_invoiced)
    assert line.qty_shipped + line.qty_canceled <= line.qty_ordered
    _settle_and_check(order.id)
