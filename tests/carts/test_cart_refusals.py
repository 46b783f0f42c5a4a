"""SPEC §4: every refusal of a draft-cart step, each leaving the cart exactly as it was."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from carts.models import CartItem, CouponUsage, PaymentMethod, ShippingMethod
from catalog.models import Currency, ProductInventory
from tests.carts.factories import CouponFactory
from tests.carts.helpers import assert_cart_unchanged, assert_refused, cart_view, ready_cart
from tests.catalog.factories import InventorySourceFactory, ProductFactory, default_source
from tests.customers.factories import CustomerFactory, address

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def stocked():
    return ProductFactory(sku="STOCKED", price=D("10.00"), stock=5)


@pytest.fixture
def cart(api, stocked):
    """A cart with something in every slot, so 'unchanged' means something."""
    CouponFactory(code="P10", discount_type="percent", value=D("10"))
    other = ProductFactory(price=D("4.00"), stock=50)
    c = ready_cart((stocked, 2), (other, 1), coupon="P10")
    body = cart_view(api, c.id)
    assert body["shipping_method"]["code"] == "flatrate"
    assert body["payment_method"]["code"] == "cashondelivery"
    assert body["coupon_code"] == "P10"
    assert body["grand_total"] == "26.60"
    return c


def items_url(cart):
    return f"/api/admin/carts/{cart.id}/items"


class Guard:
    """Snapshot a cart, then assert a refusal and that a re-read shows the cart unchanged."""

    def __init__(self, api):
        self.api = api
        self.cart_id = None
        self.before = None

    def snap(self, cart) -> dict:
        self.cart_id = cart.id
        self.before = cart_view(self.api, cart.id)
        return self.before

    def refused(self, r, status, code, field=None) -> dict:
        assert self.before is not None, "snap() the cart first"
        body = assert_refused(r, status, code, field)
        assert_cart_unchanged(self.api, self.cart_id, self.before)
        return body


@pytest.fixture
def guard(api):
    return Guard(api)


# ---------------------------------------------------------------- add item: saleability


def test_out_of_stock(api, cart, guard):
    empty = ProductFactory(stock=0)
    guard.snap(cart)
    body = guard.refused(api.post(items_url(cart), {"product_id": empty.id, "quantity": 1}, format="json"),
                   409, "product_out_of_stock")
    assert empty.sku in body["message"]


def test_more_than_the_stock(api, cart, guard):
    product = ProductFactory(stock=3)
    guard.snap(cart)
    guard.refused(api.post(items_url(cart), {"product_id": product.id, "quantity": 4}, format="json"),
            409, "product_out_of_stock")


def test_adding_again_counts_the_line_already_in_the_cart(api, cart, stocked, guard):
    # 2 in the cart, 5 in stock: 3 more is fine, 4 more is not.
    guard.snap(cart)
    guard.refused(api.post(items_url(cart), {"product_id": stocked.id, "quantity": 4}, format="json"),
            409, "product_out_of_stock")
    r = api.post(items_url(cart), {"product_id": stocked.id, "quantity": 3}, format="json")
    assert r.status_code == 201
    assert CartItem.objects.get(cart=cart, product=stocked).quantity == 5


def test_stock_reserved_by_open_orders_is_not_saleable(api, cart, stocked, guard):
    other = ready_cart((stocked, 3))
    assert api.post(f"/api/admin/orders/place/{other.id}").status_code == 201
    guard.snap(cart)  # 2 in this cart, 5 on hand − 3 reserved = 2 saleable
    item_id = cart.items.get(product=stocked).id
    guard.refused(api.patch(f"{items_url(cart)}/{item_id}", {"quantity": 3}, format="json"),
            409, "product_out_of_stock")
    guard.refused(api.post(items_url(cart), {"product_id": stocked.id, "quantity": 1}, format="json"),
            409, "product_out_of_stock")


def test_stock_at_inactive_sources_is_not_saleable(api, cart, guard):
    product = ProductFactory(stock=0)
    ProductInventory.objects.create(product=product, source=InventorySourceFactory(active=False), qty=10)
    guard.snap(cart)
    guard.refused(api.post(items_url(cart), {"product_id": product.id, "quantity": 1}, format="json"),
            409, "product_out_of_stock")


def test_update_beyond_stock(api, cart, stocked, guard):
    item_id = cart.items.get(product=stocked).id
    guard.snap(cart)
    guard.refused(api.patch(f"{items_url(cart)}/{item_id}", {"quantity": 6}, format="json"),
            409, "product_out_of_stock")


def test_disabled_product(api, cart, guard):
    product = ProductFactory(status="disabled", stock=10)
    guard.snap(cart)
    body = guard.refused(api.post(items_url(cart), {"product_id": product.id, "quantity": 1}, format="json"),
                   409, "product_disabled")
    assert product.sku in body["message"]


def test_update_of_a_product_disabled_since_it_was_added(api, cart, stocked, guard):
    item_id = cart.items.get(product=stocked).id
    stocked.status = "disabled"
    stocked.save()
    guard.snap(cart)
    guard.refused(api.patch(f"{items_url(cart)}/{item_id}", {"quantity": 1}, format="json"),
            409, "product_disabled")


def test_booking_product_type_not_allowed(api, cart, guard):
    product = ProductFactory(type="booking", stock=10)
    guard.snap(cart)
    guard.refused(api.post(items_url(cart), {"product_id": product.id, "quantity": 1}, format="json"),
            409, "product_type_not_allowed")


def test_configurable_parent_needs_a_variant(api, cart, guard):
    parent = ProductFactory(type="configurable", sku="SHIRT", stock=10)
    variant = ProductFactory(sku="SHIRT-M", parent=parent, stock=10)
    guard.snap(cart)
    guard.refused(api.post(items_url(cart), {"product_id": parent.id, "quantity": 1}, format="json"),
            400, "variant_required")
    guard.refused(api.post(items_url(cart), {"sku": "SHIRT", "quantity": 1}, format="json"),
            400, "variant_required")
    # The variant itself, by id or sku, is fine.
    assert api.post(items_url(cart), {"product_id": variant.id, "quantity": 1}, format="json").status_code == 201
    r = api.post(items_url(cart), {"sku": "SHIRT-M", "quantity": 1}, format="json")
    assert r.status_code == 201
    assert CartItem.objects.get(cart=cart, product=variant).quantity == 2


def test_virtual_products_are_always_saleable_while_enabled(api, cart):
    ebook = ProductFactory(type="virtual")
    r = api.post(items_url(cart), {"product_id": ebook.id, "quantity": 1000}, format="json")
    assert r.status_code == 201, r.json()


# ---------------------------------------------------------------- add item: input


def test_unknown_product_id(api, cart, guard):
    guard.snap(cart)
    guard.refused(api.post(items_url(cart), {"product_id": 987654, "quantity": 1}, format="json"),
            400, "product_not_found", "product_id")


def test_unknown_sku(api, cart, guard):
    guard.snap(cart)
    body = guard.refused(api.post(items_url(cart), {"sku": "NO-SUCH", "quantity": 1}, format="json"),
                   400, "product_not_found", "sku")
    assert "NO-SUCH" in body["message"]


def test_neither_product_id_nor_sku(api, cart, guard):
    guard.snap(cart)
    guard.refused(api.post(items_url(cart), {"quantity": 1}, format="json"), 400, "validation_error",
            "product_id")


@pytest.mark.parametrize("quantity", [0, -1, "abc", 10**12, 2.5, None, "", True, [1], {"n": 1}])
def test_bad_quantity_on_add(api, cart, stocked, quantity, guard):
    guard.snap(cart)
    guard.refused(api.post(items_url(cart), {"product_id": stocked.id, "quantity": quantity}, format="json"),
            400, "validation_error", "quantity")


def test_missing_quantity(api, cart, stocked, guard):
    guard.snap(cart)
    guard.refused(api.post(items_url(cart), {"product_id": stocked.id}, format="json"), 400,
            "validation_error", "quantity")


@pytest.mark.parametrize("quantity", [0, -1, "abc", 10**12, None])
def test_bad_quantity_on_update(api, cart, stocked, quantity, guard):
    item_id = cart.items.get(product=stocked).id
    guard.snap(cart)
    guard.refused(api.patch(f"{items_url(cart)}/{item_id}", {"quantity": quantity}, format="json"),
            400, "validation_error", "quantity")


def test_unknown_item_in_path(api, cart, guard):
    guard.snap(cart)
    guard.refused(api.patch(f"{items_url(cart)}/987654", {"quantity": 1}, format="json"), 404, "not_found")
    guard.refused(api.delete(f"{items_url(cart)}/987654"), 404, "not_found")


# ---------------------------------------------------------------- placed carts


def test_every_change_to_a_placed_cart_is_cart_inactive(api, cart, stocked, guard):
    item_id = cart.items.get(product=stocked).id
    assert api.post(f"/api/admin/orders/place/{cart.id}").status_code == 201
    guard.snap(cart)
    assert guard.before["is_active"] is False
    url = f"/api/admin/carts/{cart.id}"
    attempts = [
        api.post(f"{url}/items", {"product_id": stocked.id, "quantity": 1}, format="json"),
        api.patch(f"{url}/items/{item_id}", {"quantity": 1}, format="json"),
        api.delete(f"{url}/items/{item_id}"),
        api.post(f"{url}/addresses", {"billing": address(city="Elsewhere")}, format="json"),
        api.post(f"{url}/shipping-methods", {"code": "free"}, format="json"),
        api.post(f"{url}/payment-methods", {"code": "moneytransfer"}, format="json"),
        api.post(f"{url}/coupon", {"code": "P10"}, format="json"),
        api.delete(f"{url}/coupon"),
    ]
    for r in attempts:
        guard.refused(r, 409, "cart_inactive")
    assert CouponUsage.objects.count() == 1


# ---------------------------------------------------------------- shipping method


def test_unknown_shipping_method(api, cart, guard):
    guard.snap(cart)
    body = guard.refused(api.post(f"/api/admin/carts/{cart.id}/shipping-methods", {"code": "teleport"},
                                       format="json"), 409, "shipping_method_not_available")
    assert "teleport" in body["message"]


def test_disabled_shipping_method(api, cart, guard):
    ShippingMethod.objects.filter(code="free").update(enabled=False)
    guard.snap(cart)
    body = guard.refused(api.post(f"/api/admin/carts/{cart.id}/shipping-methods", {"code": "free"},
                                       format="json"), 409, "shipping_method_not_available")
    assert "disabled" in body["message"]


def test_free_below_its_threshold(api, cart, guard):
    ShippingMethod.objects.filter(code="free").update(free_threshold=D("100.00"))
    guard.snap(cart)
    body = guard.refused(api.post(f"/api/admin/carts/{cart.id}/shipping-methods", {"code": "free"},
                                       format="json"), 409, "shipping_method_not_available")
    assert "100.00" in body["message"]


def test_pickup_without_a_location(api, cart, guard):
    InventorySourceFactory(pickup_enabled=True, address=address())
    guard.snap(cart)
    guard.refused(api.post(f"/api/admin/carts/{cart.id}/shipping-methods", {"code": "pickup"}, format="json"),
            409, "shipping_method_not_available", "location_id")


def test_pickup_at_a_source_that_is_not_pickup_enabled(api, cart, guard):
    InventorySourceFactory(pickup_enabled=True, address=address())
    guard.snap(cart)
    guard.refused(api.post(f"/api/admin/carts/{cart.id}/shipping-methods",
                                {"code": "pickup", "location_id": default_source().id}, format="json"),
            409, "shipping_method_not_available", "location_id")


def test_pickup_at_an_inactive_pickup_source(api, cart, guard):
    closed = InventorySourceFactory(pickup_enabled=True, active=False, address=address())
    InventorySourceFactory(pickup_enabled=True, address=address())
    guard.snap(cart)
    guard.refused(api.post(f"/api/admin/carts/{cart.id}/shipping-methods",
                                {"code": "pickup", "location_id": closed.id}, format="json"),
            409, "shipping_method_not_available")


def test_pickup_when_no_location_exists(api, cart, guard):
    guard.snap(cart)
    guard.refused(api.post(f"/api/admin/carts/{cart.id}/shipping-methods",
                                {"code": "pickup", "location_id": default_source().id}, format="json"),
            409, "shipping_method_not_available")


def test_unknown_location_id(api, cart, guard):
    guard.snap(cart)
    guard.refused(api.post(f"/api/admin/carts/{cart.id}/shipping-methods",
                                {"code": "pickup", "location_id": 987654}, format="json"),
            400, "inventory_source_not_found", "location_id")


def test_flatrate_without_a_shipping_address(api, stocked, guard):
    c = ready_cart((stocked, 1), shipping=None, payment=None)
    from carts.services.carts import cart_addresses_set

    cart_addresses_set(cart_id=c.id, billing=address())
    guard.snap(c)
    body = guard.refused(api.post(f"/api/admin/carts/{c.id}/shipping-methods", {"code": "flatrate"},
                                    format="json"), 409, "shipping_method_not_available")
    assert "shipping address" in body["message"]


def test_any_method_on_a_cart_that_does_not_ship(api, guard):
    ebook = ProductFactory(type="virtual")
    c = ready_cart((ebook, 1), shipping=None)
    guard.snap(c)
    guard.refused(api.post(f"/api/admin/carts/{c.id}/shipping-methods", {"code": "flatrate"}, format="json"),
            409, "shipping_method_not_available")


@pytest.mark.parametrize("body,field", [({}, "code"), ({"code": ""}, "code"), ({"code": "x" * 33}, "code"),
                                        ({"code": "pickup", "location_id": "abc"}, "location_id"),
                                        ({"code": "pickup", "location_id": 0}, "location_id")])
def test_bad_shipping_input(api, cart, body, field, guard):
    guard.snap(cart)
    guard.refused(api.post(f"/api/admin/carts/{cart.id}/shipping-methods", body, format="json"),
            400, "validation_error", field)


# ---------------------------------------------------------------- payment method


def test_unknown_payment_method(api, cart, guard):
    guard.snap(cart)
    guard.refused(api.post(f"/api/admin/carts/{cart.id}/payment-methods", {"code": "bitcoin"}, format="json"),
            409, "payment_method_not_available", "code")


def test_disabled_payment_method(api, cart, guard):
    PaymentMethod.objects.filter(code="paylink").update(enabled=False)
    guard.snap(cart)
    body = guard.refused(api.post(f"/api/admin/carts/{cart.id}/payment-methods", {"code": "paylink"},
                                       format="json"), 409, "payment_method_not_available")
    assert "disabled" in body["message"]


# ---------------------------------------------------------------- coupons


def apply(api, cart, code):
    return api.post(f"/api/admin/carts/{cart.id}/coupon", {"code": code}, format="json")


def test_unknown_coupon(api, cart, guard):
    guard.snap(cart)
    body = guard.refused(apply(api, cart, "NOPE"), 409, "coupon_not_applicable", "code")
    assert "does not exist" in body["message"]


def test_inactive_coupon(api, cart, guard):
    CouponFactory(code="OFF", is_active=False)
    guard.snap(cart)
    body = guard.refused(apply(api, cart, "OFF"), 409, "coupon_not_applicable")
    assert "inactive" in body["message"]


def test_coupon_not_started(api, cart, guard):
    CouponFactory(code="SOON", starts_at=timezone.now() + timedelta(days=1))
    guard.snap(cart)
    body = guard.refused(apply(api, cart, "SOON"), 409, "coupon_not_applicable")
    assert "not valid before" in body["message"]


def test_expired_coupon(api, cart, guard):
    CouponFactory(code="OLD", ends_at=timezone.now() - timedelta(minutes=1))
    guard.snap(cart)
    body = guard.refused(apply(api, cart, "OLD"), 409, "coupon_not_applicable")
    assert "expired" in body["message"]


def test_coupon_within_its_dates_applies(api, cart):
    CouponFactory(code="NOW", starts_at=timezone.now() - timedelta(days=1), ends_at=timezone.now() + timedelta(days=1))
    assert apply(api, cart, "NOW").json()["coupon_code"] == "NOW"


def test_coupon_used_up(api, cart, guard):
    CouponFactory(code="ONCE", usage_limit=1)
    first = ready_cart((ProductFactory(stock=5), 1), coupon="ONCE")
    assert api.post(f"/api/admin/orders/place/{first.id}").status_code == 201
    guard.snap(cart)
    body = guard.refused(apply(api, cart, "ONCE"), 409, "coupon_not_applicable")
    assert "used up" in body["message"]


def test_coupon_used_up_by_this_customer(api, stocked, guard):
    customer = CustomerFactory()
    CouponFactory(code="PERCUST", usage_limit_per_customer=1)
    first = ready_cart((ProductFactory(stock=5), 1), customer=customer, coupon="PERCUST")
    assert api.post(f"/api/admin/orders/place/{first.id}").status_code == 201
    c = ready_cart((stocked, 1), customer=customer)
    guard.snap(c)
    body = guard.refused(apply(api, c, "PERCUST"), 409, "coupon_not_applicable")
    assert "this customer" in body["message"]
    # Another customer may still use it.
    other = ready_cart((stocked, 1))
    assert apply(api, other, "PERCUST").status_code == 200


def test_coupon_below_its_minimum_subtotal(api, cart, guard):
    CouponFactory(code="MIN50", min_subtotal=D("50.00"))
    guard.snap(cart)
    body = guard.refused(apply(api, cart, "MIN50"), 409, "coupon_not_applicable")
    assert "50.00" in body["message"]


def test_coupon_minimum_is_converted_for_a_currency_cart(api, stocked):
    CouponFactory(code="MIN20", min_subtotal=D("20.00"))  # 18.40 EUR
    c = ready_cart((stocked, 2), currency="EUR")  # 2 × 9.20 = 18.40 EUR
    assert apply(api, c, "MIN20").status_code == 200


def test_replacing_a_coupon_with_a_bad_one_keeps_the_old_one(api, cart, guard):
    CouponFactory(code="OFF", is_active=False)
    guard.snap(cart)
    guard.refused(apply(api, cart, "OFF"), 409, "coupon_not_applicable")
    assert cart_view(api, cart.id)["coupon_code"] == "P10"


# ---------------------------------------------------------------- currency


@pytest.mark.parametrize("currency", ["JPY", "XYZ", "gbp"])
def test_currency_not_supported(api, currency):
    Currency.objects.filter(code="GBP").update(enabled=False)
    customer = CustomerFactory()
    r = api.post(f"/api/admin/customers/{customer.id}/draft-carts", {"currency": currency}, format="json")
    assert_refused(r, 400, "currency_not_supported", "currency")
    assert not customer.carts.exists()


@pytest.mark.parametrize("currency", ["E", "EURO", 12, None])
def test_malformed_currency(api, currency):
    customer = CustomerFactory()
    r = api.post(f"/api/admin/customers/{customer.id}/draft-carts", {"currency": currency}, format="json")
    assert_refused(r, 400, "validation_error", "currency")
    assert not customer.carts.exists()
