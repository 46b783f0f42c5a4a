from decimal import Decimal

import pytest

from catalog.models import Product
from sales.models import Invoice, Order
from tests.catalog.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_custom_amount_paylink_order_and_checkout(api, client, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        r = api.post("/api/admin/orders", {"email": "payer@example.com", "cost": "49.95", "return_url":
                                           "https://shop.example.com/thanks", "metadata": {"ref": "7"}}, format="json")
    assert r.status_code == 201, r.json()
    d = r.json()
    assert d["status"] == "pending_payment" and d["channel"] == "api" and d["grand_total"] == "49.95"
    assert d["items"][0]["name"] == "Custom amount" and d["items"][0]["product_id"] is None
    assert d["metadata"] == {"ref": "7"}
    url = d["checkout_url"]
    assert url.startswith("http://127.0.0.1:8000/checkout/")
    path = url.split("8000", 1)[1]
    r = api.post(f"/api/admin/orders/{d['id']}/invoices", {}, format="json")
    assert r.json()["code"] == "payment_method_not_invoiceable"
    page = client.get(path)
    assert page.status_code == 200 and b"49.95" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        paid = client.post(path)
    assert paid.status_code == 302 and paid["Location"] == "https://shop.example.com/thanks"
    order = Order.objects.get(id=d["id"])
    assert order.status == 4 and order.total_invoiced == Decimal("49.95")  # virtual line: invoiced = completed
    assert Invoice.objects.filter(order=order).count() == 1
    assert order.payments.get().state == "captured"
    assert [m.to for m in mailoutbox] == [["payer@example.com"], ["payer@example.com"]]
    assert client.post(path).status_code == 200  # paying twice shows an error, bills nothing
    assert Invoice.objects.filter(order=order).count() == 1
    assert client.get("/checkout/not-a-token/").status_code == 404


def test_direct_create_with_items_and_validation(api):
    p = ProductFactory(price=Decimal("12.00"), stock=3)
    r = api.post("/api/admin/orders", {"email": "x@example.com", "items": [{"sku": p.sku, "quantity": 2}],
                                       "payment_method": "cashondelivery"}, format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["status"] == "pending" and r.json()["grand_total"] == "24.00"
    assert r.json()["checkout_url"] is None and r.json()["billing_address"] is None
    assert Product.objects.get(id=p.id).qty_reserved == 2
    r = api.post("/api/admin/orders", {"email": "x@example.com"}, format="json")
    assert r.status_code == 400 and {e["field"] for e in r.json()["errors"]} == {"items", "cost"}
    r = api.post("/api/admin/orders", {"email": "x@example.com", "items": [{"sku": p.sku, "quantity": 2}]},
                 format="json")
    assert r.status_code == 409 and r.json()["code"] == "product_out_of_stock"
    for bad in ({"cost": "0.00"}, {"cost": "1000000.01"}, {"ip": "999.1.1.1"}, {"return_url": "nope"},
                {"metadata": {f"k{i}": "v" for i in range(21)}}, {"customer_id": 987654}):
        r = api.post("/api/admin/orders", {"email": "x@example.com", "cost": "5.00", **bad}, format="json")
        assert r.status_code == 400, bad
    assert Order.objects.count() == 1
