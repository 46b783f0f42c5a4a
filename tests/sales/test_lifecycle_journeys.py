"""Whole journeys through the API (SPEC §5)."""

from decimal import Decimal

import pytest

from catalog.models import InventorySource, Product, ProductInventory
from tests.catalog.factories import InventorySourceFactory, ProductFactory
from tests.sales.helpers import placed_order

pytestmark = pytest.mark.django_db


def _detail(api, order_id):
    r = api.get(f"/api/admin/orders/{order_id}")
    assert r.status_code == 200
    return r.json()


def test_invoice_ship_refund_close(api):
    default = InventorySource.objects.get(code="default")
    second = InventorySourceFactory(code="east")
    a = ProductFactory(price=Decimal("10.00"), stock=5)
    b = ProductFactory(price=Decimal("3.33"), stock=5)
    ProductInventory.objects.create(product=a, source=second, qty=5)
    order = placed_order((a, 3), (b, 2))
    d = _detail(api, order.id)
    assert d["grand_total"] == "41.66"  # 30.00 + 6.66 + 5.00 flat rate
    ia, ib = (i["id"] for i in d["items"])
    assert d["can"] == {"invoice": True, "ship": True, "refund": False, "cancel": True, "edit": True,
                        "hold": True, "release_hold": False}

    r = api.post(f"/api/admin/orders/{order.id}/invoices", {"items": [{"order_item_id": ia, "quantity": 1}]},
                 format="json")
    assert r.status_code == 201, r.json()
    inv1 = r.json()
    assert inv1["grand_total"] == "15.00" and inv1["shipping_total"] == "5.00" and inv1["state"] == "paid"
    d = _detail(api, order.id)
    assert d["status"] == "processing" and d["total_invoiced"] == "15.00" and d["total_due"] == "26.66"

    r = api.post(f"/api/admin/orders/{order.id}/invoices", {}, format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["grand_total"] == "26.66" and r.json()["shipping_total"] == "0.00"
    d = _detail(api, order.id)
    assert d["total_invoiced"] == d["grand_total"] and d["total_due"] == "0.00"
    assert len(d["payments"]) == 2

    r = api.post(f"/api/admin/orders/{order.id}/shipments",
                 {"inventory_source_id": default.id, "carrier_title": "UPS", "track_number": "1Z",
                  "items": [{"order_item_id": ia, "quantity": 2}]}, format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["total_qty"] == 2 and r.json()["inventory_source"]["code"] == "default"
    r = api.post(f"/api/admin/orders/{order.id}/shipments",
                 {"inventory_source_id": second.id, "items": [{"order_item_id": ia, "quantity": 1}]}, format="json")
    assert r.status_code == 201, r.json()
    assert _detail(api, order.id)["status"] == "processing"
    r = api.post(f"/api/admin/orders/{order.id}/shipments", {"inventory_source_id": default.id}, format="json")
    assert r.status_code == 201, r.json()
    d = _detail(api, order.id)
    assert d["status"] == "completed"
    assert ProductInventory.objects.get(product=a, source=default).qty == 3
    assert ProductInventory.objects.get(product=a, source=second).qty == 4
    assert Product.objects.get(id=a.id).qty_reserved == 0

    body = {"items": [{"order_item_id": ib, "quantity": 1}], "adjustment_fee": "1.00"}
    preview = api.post(f"/api/admin/orders/{order.id}/refunds/preview", body, format="json")
    assert preview.status_code == 200, preview.json()
    assert preview.json()["grand_total"] == "2.33"
    r = api.post(f"/api/admin/orders/{order.id}/refunds", body, format="json")
    assert r.status_code == 201
    assert r.json()["grand_total"] == preview.json()["grand_total"]
    assert _detail(api, order.id)["status"] == "completed"

    r = api.post(f"/api/admin/orders/{order.id}/refunds",
                 {"items": [{"order_item_id": ia, "quantity": 3}, {"order_item_id": ib, "quantity": 1}],
                  "shipping_amount": "5.00", "return_to_stock": True}, format="json")
    assert r.status_code == 201, r.json()
    d = _detail(api, order.id)
    assert d["status"] == "closed"
    assert d["total_refunded"] == "40.66"  # everything but the 1.00 fee
    assert ProductInventory.objects.get(product=a, source=second).qty == 7  # latest shipment's source
    history = api.get(f"/api/admin/orders/{order.id}/history").json()
    assert [e["type"] for e in history if e["type"] != "email_sent"] == [
        "placed", "invoiced", "invoiced", "shipped", "shipped", "shipped", "refunded", "refunded"]


def test_cancel_releases_stock(api):
    p = ProductFactory(stock=4)
    order = placed_order((p, 3))
    assert Product.objects.get(id=p.id).qty_reserved == 3
    r = api.post(f"/api/admin/orders/{order.id}/cancel")
    assert r.status_code == 200, r.json()
    d = r.json()
    assert d["status"] == "canceled" and d["total_canceled"] == d["grand_total"]
    assert Product.objects.get(id=p.id).qty_reserved == 0
    r = api.post(f"/api/admin/orders/{order.id}/cancel")
    assert r.status_code == 409 and r.json()["code"] == "order_not_cancelable"


def test_paypal_order_cannot_be_invoiced(api):
    order = placed_order(payment="paypal_standard")
    assert order.status == 2
    r = api.post(f"/api/admin/orders/{order.id}/invoices", {}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "payment_method_not_invoiceable"
    assert _detail(api, order.id)["total_invoiced"] == "0.00"


@pytest.mark.parametrize("body", ["null", "[]", "0"])
@pytest.mark.parametrize("action", ["invoices", "shipments", "refunds", "refunds/preview"])
def test_a_body_that_is_not_an_object_is_400(api, body, action):
    order = placed_order()
    r = api.post(f"/api/admin/orders/{order.id}/{action}", body, content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] == "validation_error"
    assert _detail(api, order.id)["total_invoiced"] == "0.00"


def test_an_empty_body_invoices_everything(api):
    order = placed_order()
    r = api.post(f"/api/admin/orders/{order.id}/invoices", "", content_type="application/json")
    assert r.status_code == 201 and r.json()["grand_total"] == str(order.grand_total)
