from decimal import Decimal

import pytest

from carts.models import Coupon
from catalog.models import Product
from sales.models import OrderEvent, OrderItem
from tests.carts.factories import CouponFactory
from tests.catalog.factories import ProductFactory, TaxRateFactory
from tests.sales.helpers import placed_order

pytestmark = pytest.mark.django_db


def _snapshot(order_id):
    return (list(OrderItem.objects.filter(order_id=order_id).values_list("id", "qty_ordered", "total").order_by("id")),
            list(Product.objects.values_list("id", "qty_reserved").order_by("id")))


def test_edit_adds_changes_removes_and_clears_coupon(api):
    rate = TaxRateFactory(country="US", rate=Decimal("10"))
    a = ProductFactory(price=Decimal("10.00"), stock=10, tax_category=rate.category)
    b = ProductFactory(price=Decimal("4.00"), stock=10)
    c = ProductFactory(price=Decimal("7.50"), stock=10)
    CouponFactory(code="TEN", value=Decimal("10"))
    order = placed_order((a, 2), (b, 1), coupon="TEN")
    assert order.discount_total == Decimal("2.40")
    assert Coupon.objects.get(code="TEN").times_used == 1
    ia, ib = order.items.order_by("id")
    r = api.patch(f"/api/admin/orders/{order.id}",
                  {"items": [{"id": ia.id, "quantity": 3}, {"id": ib.id, "quantity": 0},
                             {"sku": c.sku, "quantity": 2}]}, format="json")
    assert r.status_code == 200, r.json()
    d = r.json()
    assert [(i["sku"], i["qty_ordered"]) for i in d["items"]] == [(a.sku, 3), (c.sku, 2)]
    assert d["discount_total"] == "0.00" and d["coupon_code"] is None
    assert d["subtotal"] == "45.00" and d["tax_total"] == "3.00" and d["grand_total"] == "53.00"
    assert Coupon.objects.get(code="TEN").times_used == 0
    assert [Product.objects.get(id=p.id).qty_reserved for p in (a, b, c)] == [3, 0, 2]
    assert OrderEvent.objects.filter(order=order, type="edited").count() == 1


def test_edit_refusals_change_nothing(api):
    a = ProductFactory(stock=3)
    order = placed_order((a, 2))
    item = order.items.get()
    before = _snapshot(order.id)
    r = api.patch(f"/api/admin/orders/{order.id}", {"items": [{"id": item.id, "quantity": 4}]}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "product_out_of_stock"
    r = api.patch(f"/api/admin/orders/{order.id}", {"items": [{"id": item.id, "quantity": 0}]}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "order_cannot_be_empty"
    r = api.patch(f"/api/admin/orders/{order.id}", {"items": [{"id": 999999, "quantity": 1}]}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "order_item_not_found"
    assert _snapshot(order.id) == before
    api.post(f"/api/admin/orders/{order.id}/invoices", {}, format="json")
    # processing now (SPEC §12): both units are invoiced, so neither can be canceled by an edit
    r = api.patch(f"/api/admin/orders/{order.id}", {"items": [{"id": item.id, "quantity": 1}]}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "quantity_below_minimum"
