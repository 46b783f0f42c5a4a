"""SPEC §4: every draft-cart step through the API, and the cart's shape."""

from decimal import Decimal

import pytest

from carts.models import Cart, CartItem, PaymentMethod, ShippingMethod
from tests.carts.factories import CouponFactory
from tests.carts.helpers import assert_refused, cart_view
from tests.catalog.factories import InventorySourceFactory, ProductFactory
from tests.customers.factories import CustomerFactory, address

pytestmark = pytest.mark.django_db

D = Decimal

CART_FIELDS = {"id", "customer", "currency", "items", "billing_address", "shipping_address", "shipping_method",
               "payment_method", "coupon_code", "subtotal", "discount_total", "tax_total", "shipping_total",
               "grand_total", "is_active"}
ITEM_FIELDS = {"id", "product_id", "sku", "name", "quantity", "price", "subtotal", "discount", "tax", "total"}


@pytest.fixture
def customer(db):
    return CustomerFactory(email="cara@example.com", first_name="Cara", last_name="Diaz")


@pytest.fixture
def cart_id(api, customer):
    r = api.post(f"/api/admin/customers/{customer.id}/draft-carts", {}, format="json")
    assert r.status_code == 201, r.json()
    return r.json()["id"]


def test_start_a_draft_cart(api, customer):
    r = api.post(f"/api/admin/customers/{customer.id}/draft-carts", {}, format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert set(body) >= CART_FIELDS
    assert body["customer"] == {"id": customer.id, "email": "cara@example.com", "name": "Cara Diaz"}
    assert body["currency"] == "USD"
    assert body["items"] == []
    assert body["billing_address"] is None and body["shipping_address"] is None
    assert body["shipping_method"] is None and body["payment_method"] is None and body["coupon_code"] is None
    assert [body[k] for k in ("subtotal", "discount_total", "tax_total", "shipping_total", "grand_total")] == [
        "0.00"] * 5
    assert body["is_active"] is True
    cart = Cart.objects.get(id=body["id"])
    assert cart.customer_id == customer.id and cart.is_active


def test_start_a_draft_cart_with_no_body(api, customer):
    r = api.post(f"/api/admin/customers/{customer.id}/draft-carts")
    assert r.status_code == 201, r.json()
    assert r.json()["currency"] == "USD"


def test_start_a_draft_cart_in_another_currency(api, customer):
    r = api.post(f"/api/admin/customers/{customer.id}/draft-carts", {"currency": "eur"}, format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["currency"] == "EUR"
    assert Cart.objects.get(id=r.json()["id"]).exchange_rate == Decimal("0.92")


def test_draft_cart_for_unknown_customer_is_404(api):
    r = api.post("/api/admin/customers/999999/draft-carts", {}, format="json")
    assert_refused(r, 404, "not_found")
    assert Cart.objects.count() == 0


def test_get_cart(api, cart_id):
    body = cart_view(api, cart_id)
    assert body["id"] == cart_id
    assert_refused(api.get("/api/admin/carts/999999"), 404, "not_found")


def test_add_item_by_id_and_by_sku(api, cart_id):
    a = ProductFactory(sku="A-1", name="Alpha", price=Decimal("12.50"), stock=10)
    b = ProductFactory(sku="B-1", name="Beta", price=Decimal("3.00"), stock=10)
    r = api.post(f"/api/admin/carts/{cart_id}/items", {"product_id": a.id, "quantity": 2}, format="json")
    assert r.status_code == 201, r.json()
    r = api.post(f"/api/admin/carts/{cart_id}/items", {"sku": "B-1", "quantity": 3}, format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert len(body["items"]) == 2
    first, second = body["items"]
    assert set(first) >= ITEM_FIELDS
    assert (first["product_id"], first["sku"], first["name"], first["quantity"], first["price"], first["subtotal"],
            first["discount"], first["tax"], first["total"]) == (a.id, "A-1", "Alpha", 2, "12.50", "25.00", "0.00",
                                                                 "0.00", "25.00")
    assert (second["product_id"], second["quantity"], second["subtotal"]) == (b.id, 3, "9.00")
    assert body["subtotal"] == "34.00"
    assert body["grand_total"] == "34.00"
    assert list(CartItem.objects.filter(cart_id=cart_id).values_list("product_id", "quantity")) == [(a.id, 2),
                                                                                                   (b.id, 3)]


def test_same_product_again_adds_to_its_line(api, cart_id):
    product = ProductFactory(price=Decimal("4.00"), stock=10)
    api.post(f"/api/admin/carts/{cart_id}/items", {"product_id": product.id, "quantity": 2}, format="json")
    r = api.post(f"/api/admin/carts/{cart_id}/items", {"sku": product.sku, "quantity": 3}, format="json")
    assert r.status_code == 201, r.json()
    assert len(r.json()["items"]) == 1
    assert r.json()["items"][0]["quantity"] == 5
    assert r.json()["subtotal"] == "20.00"
    assert CartItem.objects.get(cart_id=cart_id).quantity == 5


def test_line_price_is_the_price_when_added_or_changed(api, cart_id):
    product = ProductFactory(price=Decimal("4.00"), stock=10)
    r = api.post(f"/api/admin/carts/{cart_id}/items", {"product_id": product.id, "quantity": 1}, format="json")
    item_id = r.json()["items"][0]["id"]
    product.price = Decimal("6.00")
    product.save()
    assert cart_view(api, cart_id)["items"][0]["price"] == "4.00"
    r = api.patch(f"/api/admin/carts/{cart_id}/items/{item_id}", {"quantity": 2}, format="json")
    assert r.json()["items"][0]["price"] == "6.00"
    assert r.json()["subtotal"] == "12.00"


def test_update_item_quantity(api, cart_id):
    product = ProductFactory(price=Decimal("2.50"), stock=10)
    item_id = api.post(f"/api/admin/carts/{cart_id}/items", {"product_id": product.id, "quantity": 1},
                       format="json").json()["items"][0]["id"]
    r = api.patch(f"/api/admin/carts/{cart_id}/items/{item_id}", {"quantity": 4}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["items"][0]["quantity"] == 4
    assert r.json()["subtotal"] == "10.00"
    assert CartItem.objects.get(id=item_id).quantity == 4


def test_remove_item(api, cart_id):
    a = ProductFactory(price=Decimal("2.00"), stock=10)
    b = ProductFactory(price=Decimal("3.00"), stock=10)
    api.post(f"/api/admin/carts/{cart_id}/items", {"product_id": a.id, "quantity": 1}, format="json")
    body = api.post(f"/api/admin/carts/{cart_id}/items", {"product_id": b.id, "quantity": 1}, format="json").json()
    r = api.delete(f"/api/admin/carts/{cart_id}/items/{body['items'][0]['id']}")
    assert r.status_code == 200, r.json()
    assert [i["product_id"] for i in r.json()["items"]] == [b.id]
    assert r.json()["subtotal"] == "3.00"
    assert list(CartItem.objects.filter(cart_id=cart_id).values_list("product_id", flat=True)) == [b.id]


def test_item_of_another_cart_is_404(api, cart_id, customer):
    product = ProductFactory(stock=10)
    other = api.post(f"/api/admin/customers/{customer.id}/draft-carts", {}, format="json").json()["id"]
    item_id = api.post(f"/api/admin/carts/{other}/items", {"product_id": product.id, "quantity": 1},
                       format="json").json()["items"][0]["id"]
    assert_refused(api.patch(f"/api/admin/carts/{cart_id}/items/{item_id}", {"quantity": 2}, format="json"),
                   404, "not_found")
    assert_refused(api.delete(f"/api/admin/carts/{cart_id}/items/{item_id}"), 404, "not_found")
    assert CartItem.objects.get(id=item_id).quantity == 1


def test_save_billing_and_shipping_addresses(api, cart_id):
    billing = address(first_name="Bill", country="us")
    shipping = address(first_name="Ship", line_1="9 Dock Rd", zone="")
    r = api.post(f"/api/admin/carts/{cart_id}/addresses", {"billing": billing, "shipping": shipping}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["billing_address"]["first_name"] == "Bill"
    assert r.json()["billing_address"]["country"] == "US"
    assert r.json()["shipping_address"]["line_1"] == "9 Dock Rd"
    cart = Cart.objects.get(id=cart_id)
    assert cart.billing_address["first_name"] == "Bill"
    assert cart.shipping_address["first_name"] == "Ship"


def test_shipping_same_as_billing(api, cart_id):
    r = api.post(f"/api/admin/carts/{cart_id}/addresses", {"billing": address(city="Austin"),
                                                           "shipping_same_as_billing": True}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["shipping_address"] == r.json()["billing_address"]
    assert r.json()["shipping_address"]["city"] == "Austin"


def test_billing_alone(api, cart_id):
    r = api.post(f"/api/admin/carts/{cart_id}/addresses", {"billing": address()}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["billing_address"]["city"] == "Springfield"
    assert r.json()["shipping_address"] is None


@pytest.mark.parametrize("body,field", [
    ({}, "billing"),
    ({"billing": {"first_name": "A"}}, "billing.last_name"),
    ({"billing": address(country="USA")}, "billing.country"),
    ({"billing": address(), "shipping": address(postcode="")}, "shipping.postcode"),
    ({"billing": address(), "shipping": address(), "shipping_same_as_billing": True}, "shipping"),
])
def test_invalid_addresses_are_400(api, cart_id, body, field):
    before = cart_view(api, cart_id)
    assert_refused(api.post(f"/api/admin/carts/{cart_id}/addresses", body, format="json"), 400, "validation_error",
                   field)
    assert cart_view(api, cart_id) == before


def test_list_and_set_shipping_method(api, cart_id):
    product = ProductFactory(price=Decimal("10.00"), stock=10)
    api.post(f"/api/admin/carts/{cart_id}/items", {"product_id": product.id, "quantity": 1}, format="json")
    # Before a shipping address exists only pickup is offered (and only where a pickup location exists).
    assert api.get(f"/api/admin/carts/{cart_id}/shipping-methods").json() == []
    api.post(f"/api/admin/carts/{cart_id}/addresses", {"billing": address(), "shipping_same_as_billing": True},
             format="json")
    r = api.get(f"/api/admin/carts/{cart_id}/shipping-methods")
    assert r.status_code == 200
    assert r.json() == [{"code": "flatrate", "title": "Flat rate", "amount": "5.00"},
                        {"code": "free", "title": "Free shipping", "amount": "0.00"}]
    r = api.post(f"/api/admin/carts/{cart_id}/shipping-methods", {"code": "flatrate"}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["shipping_method"]["code"] == "flatrate"
    assert r.json()["shipping_method"]["amount"] == "5.00"
    assert r.json()["shipping_total"] == "5.00"
    assert r.json()["grand_total"] == "15.00"
    assert Cart.objects.get(id=cart_id).shipping_method.code == "flatrate"


def test_pickup_is_listed_with_locations_before_any_address(api, cart_id):
    product = ProductFactory(stock=10)
    shop = InventorySourceFactory(name="Shop Lyon", pickup_enabled=True,
                                  address={"line_1": "1 Rue", "city": "Lyon", "postcode": "69001", "country": "FR"})
    InventorySourceFactory(name="Closed shop", pickup_enabled=True, active=False,
                           address={"line_1": "2 Rue", "city": "Nice", "postcode": "06000", "country": "FR"})
    api.post(f"/api/admin/carts/{cart_id}/items", {"product_id": product.id, "quantity": 1}, format="json")
    r = api.get(f"/api/admin/carts/{cart_id}/shipping-methods")
    assert r.json() == [{"code": "pickup", "title": "Pick up in store", "amount": "0.00",
                         "locations": [{"id": shop.id, "name": "Shop Lyon", "city": "Lyon", "country": "FR"}]}]
    r = api.post(f"/api/admin/carts/{cart_id}/shipping-methods", {"code": "pickup", "location_id": shop.id},
                 format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["shipping_method"]["code"] == "pickup"
    assert r.json()["shipping_total"] == "0.00"
    cart = Cart.objects.get(id=cart_id)
    assert cart.pickup_location_id == shop.id


def test_list_and_set_payment_method(api, cart_id):
    r = api.get(f"/api/admin/carts/{cart_id}/payment-methods")
    assert r.status_code == 200
    assert [m["code"] for m in r.json()] == ["cashondelivery", "moneytransfer", "paypal_standard", "paylink"]
    assert set(r.json()[0]) == {"code", "title"}
    PaymentMethod.objects.filter(code="moneytransfer").update(enabled=False)
    assert "moneytransfer" not in [m["code"] for m in api.get(f"/api/admin/carts/{cart_id}/payment-methods").json()]
    r = api.post(f"/api/admin/carts/{cart_id}/payment-methods", {"code": "paypal_standard"}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["payment_method"] == {"code": "paypal_standard", "title": "PayPal"}
    assert Cart.objects.get(id=cart_id).payment_method.code == "paypal_standard"


def test_apply_and_remove_coupon(api, cart_id):
    product = ProductFactory(price=Decimal("20.00"), stock=10)
    CouponFactory(code="TENOFF", discount_type="percent", value=Decimal("10"))
    api.post(f"/api/admin/carts/{cart_id}/items", {"product_id": product.id, "quantity": 1}, format="json")
    r = api.post(f"/api/admin/carts/{cart_id}/coupon", {"code": " tenoff "}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["coupon_code"] == "TENOFF"
    assert r.json()["discount_total"] == "2.00"
    assert r.json()["grand_total"] == "18.00"
    r = api.delete(f"/api/admin/carts/{cart_id}/coupon")
    assert r.status_code == 200, r.json()
    assert r.json()["coupon_code"] is None
    assert r.json()["discount_total"] == "0.00"
    assert r.json()["grand_total"] == "20.00"
    assert Cart.objects.get(id=cart_id).coupon_id is None


@pytest.mark.parametrize("stored,typed", [("SUMMER", "summer"), ("ÉTÉ", "été"), ("ÉTÉ", "Été"), ("ÅR-2025", "år-2025")])
def test_coupon_codes_are_case_insensitive_in_any_alphabet(api, cart_id, stored, typed):
    product = ProductFactory(price=D("10.00"), stock=10)
    api.post(f"/api/admin/carts/{cart_id}/items", {"product_id": product.id, "quantity": 1}, format="json")
    CouponFactory(code=stored, value=D("10"))
    r = api.post(f"/api/admin/carts/{cart_id}/coupon", {"code": typed}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["coupon_code"] == stored
    assert r.json()["discount_total"] == "1.00"
    # And the code is taken, whatever the case it is typed in.
    r = api.post("/api/admin/coupons", {"code": typed, "discount_type": "percent", "value": "5"}, format="json")
    assert r.status_code == 409
    assert r.json()["code"] == "coupon_code_taken"


def test_removing_the_shipping_address_drops_a_method_that_needs_it(api, cart_id):
    product = ProductFactory(price=Decimal("10.00"), stock=10)
    api.post(f"/api/admin/carts/{cart_id}/items", {"product_id": product.id, "quantity": 1}, format="json")
    api.post(f"/api/admin/carts/{cart_id}/addresses", {"billing": address(), "shipping_same_as_billing": True},
             format="json")
    api.post(f"/api/admin/carts/{cart_id}/shipping-methods", {"code": "flatrate"}, format="json")
    r = api.post(f"/api/admin/carts/{cart_id}/addresses", {"billing": address()}, format="json")
    assert r.json()["shipping_method"] is None
    assert r.json()["shipping_total"] == "0.00"
    assert r.json()["grand_total"] == "10.00"


def test_removing_the_last_shippable_item_drops_the_shipping_charge(api, cart_id):
    book = ProductFactory(price=Decimal("10.00"), stock=10)
    ebook = ProductFactory(price=Decimal("4.00"), type="virtual")
    api.post(f"/api/admin/carts/{cart_id}/items", {"product_id": ebook.id, "quantity": 1}, format="json")
    body = api.post(f"/api/admin/carts/{cart_id}/items", {"product_id": book.id, "quantity": 1}, format="json").json()
    api.post(f"/api/admin/carts/{cart_id}/addresses", {"billing": address(), "shipping_same_as_billing": True},
             format="json")
    assert api.post(f"/api/admin/carts/{cart_id}/shipping-methods", {"code": "flatrate"},
                    format="json").json()["grand_total"] == "19.00"
    book_line = next(i for i in body["items"] if i["product_id"] == book.id)
    r = api.delete(f"/api/admin/carts/{cart_id}/items/{book_line['id']}")
    assert r.json()["shipping_method"] is None
    assert r.json()["shipping_total"] == "0.00"
    assert r.json()["grand_total"] == "4.00"
    assert api.get(f"/api/admin/carts/{cart_id}/shipping-methods").json() == []


def test_disabled_shipping_method_is_not_listed(api, cart_id):
    product = ProductFactory(stock=10)
    ShippingMethod.objects.filter(code="free").update(enabled=False)
    api.post(f"/api/admin/carts/{cart_id}/items", {"product_id": product.id, "quantity": 1}, format="json")
    api.post(f"/api/admin/carts/{cart_id}/addresses", {"billing": address(), "shipping_same_as_billing": True},
             format="json")
    assert [o["code"] for o in api.get(f"/api/admin/carts/{cart_id}/shipping-methods").json()] == ["flatrate"]


def test_store_wide_method_lists(api):
    r = api.get("/api/admin/shipping-methods")
    assert r.status_code == 200
    rows = {m["code"]: m for m in r.json()}
    assert set(rows) == {"flatrate", "free", "pickup"}
    assert {"id", "code", "title", "enabled"} <= set(rows["flatrate"])
    assert rows["flatrate"]["enabled"] is True
    r = api.get("/api/admin/payment-methods")
    assert r.status_code == 200
    assert [(m["code"], m["enabled"]) for m in r.json()] == [("cashondelivery", True), ("moneytransfer", True),
                                                            ("paypal_standard", True), ("paylink", True)]
    assert set(r.json()[0]) == {"id", "code", "title", "enabled"}
