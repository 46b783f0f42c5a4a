"""SPEC §2: staff without the permission get 403 permission_denied and nothing is written."""

from decimal import Decimal

import pytest

from carts.models import Cart, CartItem, Coupon
from catalog.models import InventorySource, Product, TaxCategory
from customers.models import Customer
from sales.models import Order
from tests.carts.factories import CouponFactory
from tests.carts.helpers import ready_cart
from tests.catalog.factories import ProductFactory
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def assert_denied(r):
    assert r.status_code == 403, r.content
    body = r.json()
    assert body["code"] == "permission_denied"
    assert body["errors"] == []
    assert body["message"]


def test_reads_need_view_permission(staff_api):
    client = staff_api()
    for url in ("/api/admin/products", "/api/admin/customers", "/api/admin/coupons", "/api/admin/orders",
                "/api/admin/orders/count", "/api/admin/shipping-methods", "/api/admin/payment-methods",
                "/api/admin/inventory-sources", "/api/admin/tax-categories"):
        assert_denied(client.get(url))


def test_view_permission_allows_the_read(staff_api):
    ProductFactory()
    assert staff_api("catalog.view_product").get("/api/admin/products").json()["count"] == 1
    assert staff_api("sales.view_order").get("/api/admin/orders").status_code == 200
    assert staff_api("customers.view_customer").get("/api/admin/customers").status_code == 200


def test_view_permission_does_not_allow_writes(staff_api):
    client = staff_api("catalog.view_product", "customers.view_customer", "carts.view_coupon",
                       "catalog.view_inventorysource", "catalog.view_taxcategory")
    assert_denied(client.post("/api/admin/products", {"sku": "A", "name": "A", "price": "1.00"}, format="json"))
    assert_denied(client.post("/api/admin/customers", {"email": "a@example.com"}, format="json"))
    assert_denied(client.post("/api/admin/coupons", {"code": "X", "discount_type": "percent", "value": "5"},
                              format="json"))
    assert_denied(client.post("/api/admin/inventory-sources", {"code": "s", "name": "S"}, format="json"))
    assert_denied(client.post("/api/admin/tax-categories", {"code": "t", "name": "T"}, format="json"))
    assert Product.objects.count() == 0
    assert Customer.objects.count() == 0
    assert Coupon.objects.count() == 0
    assert InventorySource.objects.count() == 1  # the default one
    assert TaxCategory.objects.count() == 0


def test_patch_needs_change_permission(staff_api):
    product = ProductFactory(name="Before", price=Decimal("3.00"))
    customer = CustomerFactory(first_name="Before")
    coupon = CouponFactory(value=Decimal("5"))
    client = staff_api("catalog.add_product", "customers.add_customer", "carts.add_coupon")
    assert_denied(client.patch(f"/api/admin/products/{product.id}", {"name": "After"}, format="json"))
    assert_denied(client.patch(f"/api/admin/customers/{customer.id}", {"first_name": "After"}, format="json"))
    assert_denied(client.patch(f"/api/admin/coupons/{coupon.id}", {"value": "50"}, format="json"))
    product.refresh_from_db()
    customer.refresh_from_db()
    coupon.refresh_from_db()
    assert (product.name, product.price) == ("Before", Decimal("3.00"))
    assert customer.first_name == "Before"
    assert coupon.value == Decimal("5.00")


def test_add_and_change_permissions_allow_writes(staff_api):
    client = staff_api("catalog.add_product", "catalog.change_product")
    r = client.post("/api/admin/products", {"sku": "P-1", "name": "P", "price": "1.00"}, format="json")
    assert r.status_code == 201, r.json()
    r = client.patch(f"/api/admin/products/{r.json()['id']}", {"name": "Q"}, format="json")
    assert r.status_code == 200, r.json()
    assert Product.objects.get(sku="P-1").name == "Q"


def test_draft_cart_steps_need_change_cart(staff_api):
    product = ProductFactory(stock=5)
    customer = CustomerFactory()
    client = staff_api("carts.view_cart")
    assert_denied(client.post(f"/api/admin/customers/{customer.id}/draft-carts", {}, format="json"))
    assert Cart.objects.count() == 0
    cart = Cart.objects.create(customer=customer, currency="USD")
    assert client.get(f"/api/admin/carts/{cart.id}").status_code == 200
    assert_denied(client.post(f"/api/admin/carts/{cart.id}/items", {"product_id": product.id, "quantity": 1},
                              format="json"))
    assert_denied(client.post(f"/api/admin/carts/{cart.id}/coupon", {"code": "X"}, format="json"))
    assert_denied(client.post(f"/api/admin/carts/{cart.id}/payment-methods", {"code": "cashondelivery"},
                              format="json"))
    assert CartItem.objects.count() == 0
    cart.refresh_from_db()
    assert cart.payment_method_id is None


def test_change_cart_allows_the_steps(staff_api):
    product = ProductFactory(stock=5)
    customer = CustomerFactory()
    client = staff_api("carts.change_cart", "carts.view_cart")
    r = client.post(f"/api/admin/customers/{customer.id}/draft-carts", {}, format="json")
    assert r.status_code == 201, r.json()
    r = client.post(f"/api/admin/carts/{r.json()['id']}/items", {"product_id": product.id, "quantity": 2},
                    format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["items"][0]["quantity"] == 2


def test_place_order_needs_sales_place_order(staff_api):
    product = ProductFactory(stock=5)
    cart = ready_cart((product, 2))
    client = staff_api("carts.change_cart", "carts.view_cart", "sales.view_order")
    assert_denied(client.post(f"/api/admin/orders/place/{cart.id}"))
    cart.refresh_from_db()
    assert cart.is_active
    assert Order.objects.count() == 0
    product.refresh_from_db()
    assert product.qty_reserved == 0

    r = staff_api("sales.place_order", "sales.view_order").post(f"/api/admin/orders/place/{cart.id}")
    assert r.status_code == 201, r.json()


def test_reorder_needs_change_cart(staff_api, api):
    product = ProductFactory(stock=5)
    cart = ready_cart((product, 1))
    order_id = api.post(f"/api/admin/orders/place/{cart.id}").json()["id"]
    carts_before = Cart.objects.count()
    assert_denied(staff_api("sales.view_order", "sales.place_order").post(f"/api/admin/orders/{order_id}/reorder"))
    assert Cart.objects.count() == carts_before
    r = staff_api("carts.change_cart").post(f"/api/admin/orders/{order_id}/reorder")
    assert r.status_code == 201, r.json()


def test_superuser_has_every_permission(api):
    assert api.get("/api/admin/orders").status_code == 200
    r = api.post("/api/admin/products", {"sku": "S-1", "name": "S", "price": "1.00"}, format="json")
    assert r.status_code == 201


def test_permission_is_checked_before_the_path_id(staff_api):
    """Order of checks: authentication, permission, then the path's ids (404)."""
    assert_denied(staff_api().get("/api/admin/carts/999999"))
    assert_denied(staff_api().post("/api/admin/orders/place/999999"))
