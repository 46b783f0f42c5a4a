from decimal import Decimal

import pytest

from tests.catalog.factories import ProductFactory
from tests.customers.factories import address

pytestmark = pytest.mark.django_db


def test_create_order_through_the_api(api):
    product = ProductFactory(price=Decimal("19.99"), stock=10)
    r = api.post("/api/admin/customers", {"email": "Buyer@Example.com", "first_name": "Bo", "last_name": "Buyer"},
                 format="json")
    assert r.status_code == 201, r.json()
    customer_id = r.json()["id"]
    r = api.post(f"/api/admin/customers/{customer_id}/draft-carts", {}, format="json")
    assert r.status_code == 201, r.json()
    cart_id = r.json()["id"]
    r = api.post(f"/api/admin/carts/{cart_id}/items", {"product_id": product.id, "quantity": 2}, format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["subtotal"] == "39.98"
    r = api.post(f"/api/admin/carts/{cart_id}/addresses", {"billing": address(), "shipping_same_as_billing": True},
                 format="json")
    assert r.status_code == 200, r.json()
    r = api.get(f"/api/admin/carts/{cart_id}/shipping-methods")
    assert [o["code"] for o in r.json()] == ["flatrate", "free"]
    r = api.post(f"/api/admin/carts/{cart_id}/shipping-methods", {"code": "flatrate"}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["shipping_total"] == "5.00"
    r = api.post(f"/api/admin/carts/{cart_id}/payment-methods", {"code": "cashondelivery"}, format="json")
    assert r.status_code == 200, r.json()
    r = api.post(f"/api/admin/orders/place/{cart_id}")
    assert r.status_code == 201, r.json()
    order = r.json()
    assert order["status"] == "pending" and order["grand_total"] == "44.98"
    assert order["items"][0]["qty_to_ship"] == 2
    r = api.get(f"/api/admin/products/{product.id}")
    assert r.json()["saleable_qty"] == 8
    r = api.get("/api/admin/orders")
    assert r.json()["count"] == 1
