"""SPEC §1, §10: no 5xx for any input — each gets a 4xx in the one error shape."""

import json
from decimal import Decimal

import pytest

from carts.models import CartItem, Coupon
from catalog.models import Product
from customers.models import Customer
from tests.carts.helpers import assert_cart_unchanged, cart_view, ready_cart
from tests.catalog.factories import ProductFactory
from tests.customers.factories import CustomerFactory, address

pytestmark = pytest.mark.django_db

HUGE = 99999999999999999999  # beyond a 64-bit integer


def error(r, status, code=None):
    assert r.status_code == status, (r.status_code, r.content[:500])
    assert r["Content-Type"].startswith("application/json"), r["Content-Type"]
    body = r.json()
    assert set(body) == {"code", "message", "errors"}, body
    assert isinstance(body["errors"], list)
    assert body["message"]
    if code is not None:
        assert body["code"] == code, body
    return body


@pytest.fixture
def cart(db):
    return ready_cart((ProductFactory(price=Decimal("10.00"), stock=10), 1), shipping=None, payment=None)


def post_urls(cart):
    customer_id = cart.customer_id
    return [
        "/api/admin/login",
        "/api/admin/products",
        "/api/admin/customers",
        "/api/admin/coupons",
        "/api/admin/inventory-sources",
        "/api/admin/tax-categories",
        f"/api/admin/customers/{customer_id}/draft-carts",
        f"/api/admin/carts/{cart.id}/items",
        f"/api/admin/carts/{cart.id}/addresses",
        f"/api/admin/carts/{cart.id}/shipping-methods",
        f"/api/admin/carts/{cart.id}/payment-methods",
        f"/api/admin/carts/{cart.id}/coupon",
    ]


# ---------------------------------------------------------------- malformed bodies


@pytest.mark.parametrize("raw", ['{"quantity": ', "{'single': 'quotes'}", "not json", '{"a": 1,}', "\xff\xfe",
                                 '{"a": NaN'])
def test_malformed_json_is_parse_error(api, cart, raw):
    before = cart_view(api, cart.id)
    for url in post_urls(cart):
        r = api.generic("POST", url, raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else raw,
                        content_type="application/json")
        error(r, 400, "parse_error")
    r = api.generic("PATCH", f"/api/admin/carts/{cart.id}/items/{cart.items.get().id}", "{", content_type="application/json")
    error(r, 400, "parse_error")
    assert_cart_unchanged(api, cart.id, before)


def test_json_nested_too_deeply_is_parse_error(api, cart):
    before = cart_view(api, cart.id)
    for url in post_urls(cart):
        r = api.generic("POST", url, "[" * 100_000 + "]" * 100_000, content_type="application/json")
        error(r, 400, "parse_error")
    assert_cart_unchanged(api, cart.id, before)


def test_body_over_the_size_limit_is_413_json(api, cart, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"sku": "A" * 20_000, "name": "N", "price": "1.00"})
    error(api.generic("POST", "/api/admin/products", body, content_type="application/json"), 413,
          "request_too_large")
    assert Product.objects.count() == 1  # the cart's product only


@pytest.mark.parametrize("payload", [[], [1, 2], "text", 42, None, True])
def test_body_that_is_not_an_object(api, cart, payload):
    before = cart_view(api, cart.id)
    carts_before = cart.customer.carts.count()
    for url in post_urls(cart):
        r = api.generic("POST", url, json.dumps(payload), content_type="application/json")
        assert r.status_code == 400, (url, r.status_code, r.content[:300])
        error(r, 400, "validation_error")
    assert_cart_unchanged(api, cart.id, before)
    assert cart.customer.carts.count() == carts_before


def test_unsupported_content_type(api, cart):
    r = api.generic("POST", f"/api/admin/carts/{cart.id}/items", "product_id=1&quantity=1",
                    content_type="application/x-www-form-urlencoded")
    error(r, 415, "unsupported_media_type")


@pytest.mark.parametrize("body", [
    {"sku": ["A"], "name": "N", "price": "1.00"},
    {"sku": "A", "name": {"x": 1}, "price": "1.00"},
    {"sku": "A", "name": "N", "price": [1]},
    {"sku": "A", "name": "N", "price": "1e20"},
    {"sku": "A", "name": "N", "price": "NaN"},
    {"sku": "A", "name": "N", "price": "Infinity"},
    {"sku": "A", "name": "N", "price": 10**30},
    {"sku": "A", "name": "N", "price": "1.00", "inventories": "lots"},
    {"sku": "A", "name": "N", "price": "1.00", "inventories": [{"inventory_source_id": "x", "qty": 1}]},
    {"sku": "A", "name": "N", "price": "1.00", "inventories": [{"inventory_source_id": 1, "qty": 10**12}]},
    {"sku": "A", "name": "N", "price": "1.00", "tax_category_id": "abc"},
    {"sku": "A", "name": "N", "price": "1.00", "weight": "heavy"},
    {"sku": "A", "name": "N", "price": "1.00", "weight": "-0.5"},
    {"sku": "A", "name": "N", "price": "1.00", "weight": "1e10"},
    {"sku": "A" * 65, "name": "N", "price": "1.00"},
    {"sku": "A", "name": "N" * 10_000, "price": "1.00"},
    {"sku": "A\x00B", "name": "N", "price": "1.00"},
])
def test_wrong_types_for_a_product(api, body):
    error(api.post("/api/admin/products", body, format="json"), 400, "validation_error")
    assert Product.objects.count() == 0


@pytest.mark.parametrize("body", [
    {"billing": "here"},
    {"billing": []},
    {"billing": address(country=12)},
    {"billing": address(first_name=None)},
    {"billing": address(), "shipping": "same"},
    {"billing": address(), "shipping_same_as_billing": "perhaps"},
    {"billing": address(city="x" * 1000)},
    {"billing": address(line_1="nul\x00byte")},
])
def test_wrong_types_for_addresses(api, cart, body):
    before = cart_view(api, cart.id)
    error(api.post(f"/api/admin/carts/{cart.id}/addresses", body, format="json"), 400, "validation_error")
    assert_cart_unchanged(api, cart.id, before)


@pytest.mark.parametrize("quantity", [-1, -(10**12), 0, 10**12, 10**100, 1.5, "1e3", "NaN", "", [], {}])
def test_negative_or_huge_quantities(api, cart, quantity):
    before = cart_view(api, cart.id)
    product_id = cart.items.get().product_id
    body = error(api.post(f"/api/admin/carts/{cart.id}/items", {"product_id": product_id, "quantity": quantity},
                          format="json"), 400, "validation_error")
    assert body["errors"][0]["field"] == "quantity"
    item_id = cart.items.get().id
    error(api.patch(f"/api/admin/carts/{cart.id}/items/{item_id}", {"quantity": quantity}, format="json"), 400,
          "validation_error")
    assert_cart_unchanged(api, cart.id, before)


def test_quantity_beyond_the_stock_but_within_limits_is_409(api, cart):
    product_id = cart.items.get().product_id
    error(api.post(f"/api/admin/carts/{cart.id}/items", {"product_id": product_id, "quantity": 1_000_000},
                   format="json"), 409, "product_out_of_stock")


# ---------------------------------------------------------------- ids


@pytest.mark.parametrize("path", [
    "/api/admin/products/987654",
    "/api/admin/customers/987654",
    "/api/admin/coupons/987654",
    "/api/admin/carts/987654",
    "/api/admin/carts/987654/shipping-methods",
    "/api/admin/carts/987654/payment-methods",
    "/api/admin/orders/987654",
    "/api/admin/products/999999999999999999",  # 18 digits: fits the database, still unknown
    "/api/admin/orders/999999999999999999",
    f"/api/admin/products/{HUGE}",
    f"/api/admin/orders/{HUGE}",
    f"/api/admin/carts/{HUGE}",
    "/api/admin/products/-1",
    "/api/admin/products/abc",
    "/api/admin/products/1.5",
])
def test_unknown_ids_in_the_path_are_404(api, path):
    error(api.get(path), 404, "not_found")


@pytest.mark.parametrize("method,path,body", [
    ("post", "/api/admin/customers/987654/draft-carts", {}),
    ("post", f"/api/admin/customers/{HUGE}/draft-carts", {}),
    ("post", "/api/admin/carts/987654/items", {"sku": "X", "quantity": 1}),
    ("post", f"/api/admin/carts/{HUGE}/items", {"sku": "X", "quantity": 1}),
    ("patch", "/api/admin/carts/987654/items/1", {"quantity": 1}),
    ("delete", "/api/admin/carts/987654/items/1", None),
    ("post", "/api/admin/carts/987654/addresses", {"billing": address()}),
    ("post", "/api/admin/carts/987654/shipping-methods", {"code": "flatrate"}),
    ("post", "/api/admin/carts/987654/payment-methods", {"code": "cashondelivery"}),
    ("post", "/api/admin/carts/987654/coupon", {"code": "X"}),
    ("delete", "/api/admin/carts/987654/coupon", None),
    ("post", "/api/admin/orders/place/987654", None),
    ("post", f"/api/admin/orders/place/{HUGE}", None),
    ("post", "/api/admin/orders/987654/reorder", None),
    ("patch", "/api/admin/products/987654", {"name": "x"}),
    ("patch", "/api/admin/customers/987654", {"first_name": "x"}),
    ("patch", "/api/admin/coupons/987654", {"value": "1"}),
])
def test_unknown_ids_in_the_path_of_writes_are_404(api, method, path, body):
    r = getattr(api, method)(path, body, format="json") if body is not None else getattr(api, method)(path)
    error(r, 404, "not_found")


@pytest.mark.parametrize("value", [987654, 999999999999999999, HUGE, -5, 0])
def test_unknown_product_id_in_the_body(api, cart, value):
    before = cart_view(api, cart.id)
    r = api.post(f"/api/admin/carts/{cart.id}/items", {"product_id": value, "quantity": 1}, format="json")
    body = error(r, 400)
    assert body["code"] in ("product_not_found", "validation_error")
    if value == 987654:
        assert body["code"] == "product_not_found"
    assert body["errors"][0]["field"] == "product_id"
    assert_cart_unchanged(api, cart.id, before)


@pytest.mark.parametrize("value", [987654, HUGE])
def test_unknown_location_id_in_the_body(api, cart, value):
    before = cart_view(api, cart.id)
    r = api.post(f"/api/admin/carts/{cart.id}/shipping-methods", {"code": "pickup", "location_id": value},
                 format="json")
    body = error(r, 400)
    assert body["errors"][0]["field"] == "location_id"
    if value == 987654:
        assert body["code"] == "inventory_source_not_found"
    assert_cart_unchanged(api, cart.id, before)


@pytest.mark.parametrize("field,value", [("tax_category_id", HUGE), ("parent_id", HUGE),
                                         ("tax_category_id", 987654), ("parent_id", 987654)])
def test_unknown_ids_in_a_product_body(api, field, value):
    body = error(api.post("/api/admin/products", {"sku": "S", "name": "N", "price": "1.00", field: value},
                          format="json"), 400)
    assert body["errors"][0]["field"] == field
    assert Product.objects.count() == 0


def test_huge_inventory_source_id_in_a_product_body(api):
    body = error(api.post("/api/admin/products", {"sku": "S", "name": "N", "price": "1.00",
                                                  "inventories": [{"inventory_source_id": HUGE, "qty": 1}]},
                          format="json"), 400)
    assert body["errors"][0]["field"] == "inventories.0.inventory_source_id"


def test_unknown_sku_is_product_not_found(api, cart):
    error(api.post(f"/api/admin/carts/{cart.id}/items", {"sku": "ÜNKNÖWN-☃", "quantity": 1}, format="json"), 400,
          "product_not_found")


# ---------------------------------------------------------------- unicode


def test_unicode_everywhere(api):
    r = api.post("/api/admin/products", {"sku": "ÜMLAUT-☃", "name": "Café crème 🍰 咖啡", "price": "3.20"},
                 format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["name"] == "Café crème 🍰 咖啡"
    r = api.post("/api/admin/customers", {"email": "zoë@example.com", "first_name": "Zoë", "last_name": "Ōtsuka",
                                          "addresses": [address(city="Zürich", line_1="Bahnhofstraße 1")]},
                 format="json")
    assert r.status_code in (201, 400), r.content  # an IDN e-mail may be refused, but never a 5xx
    customer = CustomerFactory(first_name="Łukasz", last_name="Żółć")
    r = api.post(f"/api/admin/customers/{customer.id}/draft-carts", {}, format="json")
    cart_id = r.json()["id"]
    assert r.json()["customer"]["name"] == "Łukasz Żółć"
    r = api.post(f"/api/admin/carts/{cart_id}/items", {"sku": "ÜMLAUT-☃", "quantity": 1}, format="json")
    assert r.status_code == 409  # no stock; found by its unicode SKU
    assert r.json()["code"] == "product_out_of_stock"
    r = api.post(f"/api/admin/carts/{cart_id}/addresses",
                 {"billing": address(first_name="Łukasz", city="Kraków", line_1="ul. Żółta 5")}, format="json")
    assert r.status_code == 200
    assert r.json()["billing_address"]["city"] == "Kraków"
    r = api.post(f"/api/admin/carts/{cart_id}/coupon", {"code": "ÉTÉ-🌞"}, format="json")
    error(r, 409, "coupon_not_applicable")
    r = api.post("/api/admin/coupons", {"code": "été", "discount_type": "percent", "value": "5"}, format="json")
    assert r.status_code == 201, r.json()
    assert Coupon.objects.get().code == "ÉTÉ"
    for url in ("/api/admin/products?search=☃", "/api/admin/customers?search=Żółć", "/api/admin/orders?search=咖啡",
                "/api/admin/products?sku=%F0%9F%8D%B0"):
        assert api.get(url).status_code == 200, url


@pytest.mark.parametrize("url", ["/api/admin/products?search=a%00b", "/api/admin/orders?search=a%00b",
                                 "/api/admin/customers?search=%00", "/api/admin/orders?email=%00",
                                 "/api/admin/orders?status=%00"])
def test_nul_in_query_params(api, url):
    r = api.get(url)
    assert r.status_code in (200, 400), (r.status_code, r.content[:300])
    if r.status_code == 400:
        error(r, 400, "validation_error")


def test_customer_email_with_nul_is_refused(api):
    error(api.post("/api/admin/customers", {"email": "a\x00@example.com"}, format="json"), 400, "validation_error")
    assert Customer.objects.count() == 0


# ---------------------------------------------------------------- query params


@pytest.mark.parametrize("url", [
    "/api/admin/orders?page=0",
    "/api/admin/orders?page=abc",
    f"/api/admin/orders?page={HUGE}",
    "/api/admin/orders?page_size=abc",
    f"/api/admin/orders?page_size={HUGE}",
    "/api/admin/orders?min_total=abc",
    "/api/admin/orders?max_total=1e400",
    "/api/admin/orders?min_total=NaN",
    "/api/admin/orders?customer=abc",
    "/api/admin/orders?customer=-1",
    "/api/admin/orders?created_after=0000-00-00",
    "/api/admin/orders?created_after=9999-12-31T23:59:59%2B99:00",
    "/api/admin/orders?ordering=password",
    "/api/admin/orders?ordering=-nope",
    "/api/admin/products?type=%E2%98%83",
    "/api/admin/products?page_size=-5",
])
def test_odd_query_params_are_never_5xx(api, url):
    r = api.get(url)
    assert r.status_code < 500, (url, r.status_code)
    if r.status_code >= 400:
        error(r, r.status_code)


def test_huge_customer_filter_is_not_5xx(api):
    r = api.get(f"/api/admin/orders?customer={HUGE}")
    assert r.status_code < 500


# ---------------------------------------------------------------- paths and methods


@pytest.mark.parametrize("path", ["/api/admin/nope", "/api/admin/", "/api/admin/orders/1/nope",
                                  "/api/admin/products/", "/api/admin/carts/1/items/abc", "/api/nothing"])
def test_unknown_path_is_404_json(api, path):
    error(api.get(path), 404, "not_found")
    error(api.post(path, {}, format="json"), 404, "not_found")


def test_unknown_path_is_404_json_with_debug_on(api, settings):
    settings.DEBUG = True
    error(api.get("/api/admin/nope"), 404, "not_found")


def test_unknown_path_is_404_json_without_a_token(anon):
    error(anon.get("/api/admin/nope"), 404, "not_found")


@pytest.mark.parametrize("method,path", [
    ("delete", "/api/admin/products"),
    ("put", "/api/admin/products/1"),
    ("delete", "/api/admin/products/1"),
    ("put", "/api/admin/customers/1"),
    ("get", "/api/admin/login"),
    ("get", "/api/admin/logout"),
    ("get", "/api/admin/orders/place/1"),
    ("get", "/api/admin/orders/1/reorder"),
    ("put", "/api/admin/carts/1"),
    ("delete", "/api/admin/carts/1/addresses"),
    ("post", "/api/admin/currencies"),
    ("post", "/api/admin/shipping-methods"),
    ("patch", "/api/admin/orders/count"),
])
def test_wrong_method_is_405(api, method, path):
    ProductFactory()
    CustomerFactory()
    error(getattr(api, method)(path), 405, "method_not_allowed")


def test_refusals_write_nothing(api, cart):
    items = list(CartItem.objects.values_list("id", "quantity"))
    api.generic("POST", f"/api/admin/carts/{cart.id}/items", "{", content_type="application/json")
    api.post(f"/api/admin/carts/{cart.id}/items", {"product_id": HUGE, "quantity": 1}, format="json")
    api.post(f"/api/admin/carts/{cart.id}/items", {"product_id": cart.items.get().product_id, "quantity": -3},
             format="json")
    assert list(CartItem.objects.values_list("id", "quantity")) == items
