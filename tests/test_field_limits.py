"""Every string limit the API documents, at its limit and one past it (SPEC §7.1: "a value the
API accepts always fits its column", on PostgreSQL as on SQLite).

At the limit the request succeeds and the database holds the value whole; one character more
is a 400 `validation_error` naming the field, with nothing written. These run on both
databases (CI's PostgreSQL pass included): a serializer that allows more than its column
holds passes on SQLite, which does not enforce VARCHAR lengths, and fails here on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db.models import Sum

from accounts.models import LoginAttempt
from carts.models import Cart, Coupon
from carts.services import carts as cart_services
from catalog.models import InventorySource, Product, TaxCategory, TaxRate
from customers.models import Customer, CustomerAddress
from sales.models import Order, OrderComment, OrderEvent, OrderItem, Payment, Shipment
from tests.carts.factories import CouponFactory
from tests.catalog.factories import ProductFactory, default_source
from tests.customers.factories import CustomerFactory, address
from tests.sales.helpers import placed_order

pytestmark = pytest.mark.django_db


def text(n: int) -> str:
    """n characters, the first one outside ASCII: limits count characters, not bytes."""
    return "é" + "x" * (n - 1)


def upper(n: int) -> str:
    return "C" * n


def email(n: int) -> str:
    domain = "@example.com"
    return "u" * (n - len(domain)) + domain


def url(n: int) -> str:
    base = "https://shop.example.com/"
    return base + "p" * (n - len(base))


def ip(n: int) -> str:
    # 45 is the longest IPv6 text form (IPv4-mapped, every zero written); one more cannot be an address.
    longest = "0000:0000:0000:0000:0000:ffff:255.255.255.255"
    return longest if n == len(longest) else longest + "5"


def written() -> dict:
    """What any of these requests could write, counted (and the carts' addresses, which change in place)."""
    return {
        "orders": Order.objects.count(), "items": OrderItem.objects.count(), "events": OrderEvent.objects.count(),
        "comments": OrderComment.objects.count(), "shipments": Shipment.objects.count(),
        "payments": Payment.objects.count(), "customers": Customer.objects.count(),
        "addresses": CustomerAddress.objects.count(), "coupons": Coupon.objects.count(),
        "products": Product.objects.count(), "sources": InventorySource.objects.count(),
        "tax_categories": TaxCategory.objects.count(), "tax_rates": TaxRate.objects.count(),
        "reserved": Product.objects.aggregate(n=Sum("qty_reserved"))["n"] or 0,
        "carts": list(Cart.objects.order_by("id").values_list("id", "billing_address", "shipping_address")),
    }


@dataclass
class Limit:
    id: str
    field: str  # the dotted path the 400 names
    limit: int
    send: Callable[[Any, dict, str], Any]  # (api, ctx, value) -> response
    stored: Callable[[dict, Any], Any]  # (ctx, response) -> what the database holds
    value: Callable[[int], str] = text
    setup: Callable[[], dict] = field(default=lambda: {})
    expect: Callable[[str], Any] = field(default=lambda v: v)  # the stored form of a value (upper-cased codes)


# ---------------------------------------------------------------- direct create (SPEC §7.1)

ORDERS = "/api/admin/orders"


def _direct(api, body: dict):
    base = {"email": "buyer@example.com", "cost": "10.00", "payment_method": "cashondelivery"}
    return api.post(ORDERS, {**base, **body}, format="json")


def _order(r) -> Order:
    assert r.status_code == 201, r.json()
    return Order.objects.get(id=r.json()["id"])


def _direct_items(api, ctx: dict, body: dict):
    base = {"email": "buyer@example.com", "items": [{"product_id": ctx["product"].id, "quantity": 1}],
            "payment_method": "cashondelivery", "shipping_method": {"code": "flatrate"},
            "billing_address": address(), "shipping_address": address()}
    return api.post(ORDERS, {**base, **body}, format="json")


def _with_product() -> dict:
    return {"product": ProductFactory(stock=5)}


def _with_coupon() -> dict:
    return {"product": ProductFactory(stock=5), "coupon": CouponFactory(code="C" * 32)}


ADDRESS_LIMITS = {"first_name": 150, "last_name": 150, "company": 255, "phone": 64, "line_1": 255, "line_2": 255,
                  "city": 128, "zone": 128, "postcode": 32}

DIRECT = [
    Limit("direct.email", "email", 256, lambda api, c, v: _direct(api, {"email": v}),
          lambda c, r: (_order(r).customer_email, _order(r).customer.email), email,
          expect=lambda v: (v, v)),
    Limit("direct.email.items", "email", 256, lambda api, c, v: _direct_items(api, c, {"email": v}),
          lambda c, r: (_order(r).customer_email, _order(r).customer.email), email, setup=_with_product,
          expect=lambda v: (v, v)),
    Limit("direct.description", "description", 255, lambda api, c, v: _direct(api, {"description": v}),
          lambda c, r: _order(r).items.get().name),
    Limit("direct.affiliate_code", "affiliate_code", 256, lambda api, c, v: _direct(api, {"affiliate_code": v}),
          lambda c, r: _order(r).client["affiliate_code"]),
    Limit("direct.return_url", "return_url", 2048, lambda api, c, v: _direct(api, {"return_url": v}),
          lambda c, r: _order(r).client["return_url"], url),
    Limit("direct.user_agent", "user_agent", 512, lambda api, c, v: _direct(api, {"user_agent": v}),
          lambda c, r: _order(r).client["user_agent"]),
    Limit("direct.ip", "ip", 45, lambda api, c, v: _direct(api, {"ip": v}), lambda c, r: _order(r).client["ip"], ip),
    Limit("direct.metadata.key", "metadata", 40, lambda api, c, v: _direct(api, {"metadata": {v: "x"}}),
          lambda c, r: next(iter(_order(r).metadata))),
    Limit("direct.metadata.value", "metadata", 500, lambda api, c, v: _direct(api, {"metadata": {"k": v}}),
          lambda c, r: _order(r).metadata["k"]),
    Limit("direct.metadata.keys", "metadata", 20,
          lambda api, c, v: _direct(api, {"metadata": {f"k{i}": "v" for i in range(len(v))}}),
          lambda c, r: "x" * len(_order(r).metadata), lambda n: "x" * n),
    Limit("direct.coupon_code", "coupon_code", 32, lambda api, c, v: _direct_items(api, c, {"coupon_code": v}),
          lambda c, r: _order(r).coupon_code, lambda n: "c" * n, setup=_with_coupon, expect=str.upper),
    # The customer a direct create makes takes its names from the billing address: columns of 150.
    *[Limit(f"direct.customer.{name}", f"billing_address.{name}", 150,
            lambda api, c, v, name=name: _direct(api, {"email": "new-buyer@example.com",
                                                       "billing_address": address(**{name: v})}),
            lambda c, r, name=name: getattr(_order(r).customer, name))
      for name in ("first_name", "last_name")],
    *[Limit(f"direct.{which}.{name}", f"{which}.{name}", n,
            lambda api, c, v, which=which, name=name: _direct_items(api, c, {which: address(**{name: v})}),
            lambda c, r, which=which, name=name: getattr(_order(r), which)[name], setup=_with_product)
      for which in ("billing_address", "shipping_address") for name, n in ADDRESS_LIMITS.items()],
]


# ---------------------------------------------------------------- carts, customers, catalog, coupons


def _cart() -> dict:
    return {"cart": cart_services.cart_create(customer_id=CustomerFactory().id)}


def _cart_addresses(api, ctx, billing: dict):
    return api.post(f"/api/admin/carts/{ctx['cart'].id}/addresses", {"billing": billing,
                                                                     "shipping_same_as_billing": True}, format="json")


def _created(model, r, **lookup):
    assert r.status_code == 201, r.json()
    return model.objects.get(id=r.json()["id"], **lookup)


def _customer(api, body: dict):
    return api.post("/api/admin/customers", {"email": "c@example.com", **body}, format="json")


def _product(api, body: dict):
    return api.post("/api/admin/products", {"sku": "SKU-LIMIT", "name": "N", "price": "1.00", **body}, format="json")


def _source(api, body: dict):
    return api.post("/api/admin/inventory-sources", {"code": "src-limit", "name": "N", **body}, format="json")


def _tax(api, body: dict, rate: dict | None = None):
    return api.post("/api/admin/tax-categories", {"code": "tax-limit", "name": "N",
                                                  "rates": [{"country": "US", "rate": "5", **(rate or {})}], **body},
                    format="json")


STORE = [
    *[Limit(f"cart.billing.{name}", f"billing.{name}", n,
            lambda api, c, v, name=name: _cart_addresses(api, c, address(**{name: v})),
            lambda c, r, name=name: Cart.objects.get(id=c["cart"].id).billing_address[name], setup=_cart)
      for name, n in ADDRESS_LIMITS.items()],
    Limit("customer.email", "email", 256, lambda api, c, v: _customer(api, {"email": v}),
          lambda c, r: _created(Customer, r).email, email),
    *[Limit(f"customer.{name}", name, n, lambda api, c, v, name=name: _customer(api, {name: v}),
            lambda c, r, name=name: getattr(_created(Customer, r), name))
      for name, n in (("first_name", 150), ("last_name", 150), ("phone", 64))],
    *[Limit(f"customer.address.{name}", f"addresses.0.{name}", n,
            lambda api, c, v, name=name: _customer(api, {"addresses": [address(**{name: v})]}),
            lambda c, r, name=name: getattr(_created(Customer, r).addresses.get(), name))
      for name, n in ADDRESS_LIMITS.items()],
    Limit("product.sku", "sku", 64, lambda api, c, v: _product(api, {"sku": v}),
          lambda c, r: _created(Product, r).sku),
    Limit("product.name", "name", 255, lambda api, c, v: _product(api, {"name": v}),
          lambda c, r: _created(Product, r).name),
    Limit("source.code", "code", 64, lambda api, c, v: _source(api, {"code": v}),
          lambda c, r: _created(InventorySource, r).code),
    Limit("source.name", "name", 255, lambda api, c, v: _source(api, {"name": v}),
          lambda c, r: _created(InventorySource, r).name),
    *[Limit(f"source.address.{name}", f"address.{name}", n,
            lambda api, c, v, name=name: _source(api, {"address": address(**{name: v})}),
            lambda c, r, name=name: _created(InventorySource, r).address[name])
      for name, n in ADDRESS_LIMITS.items()],
    Limit("tax_category.code", "code", 64, lambda api, c, v: _tax(api, {"code": v}),
          lambda c, r: _created(TaxCategory, r).code),
    Limit("tax_category.name", "name", 255, lambda api, c, v: _tax(api, {"name": v}),
          lambda c, r: _created(TaxCategory, r).name),
    Limit("tax_category.rates.zone", "rates.0.zone", 64, lambda api, c, v: _tax(api, {}, {"zone": v}),
          lambda c, r: _created(TaxCategory, r).rates.get().zone),
    Limit("coupon.code", "code", 32,
          lambda api, c, v: api.post("/api/admin/coupons", {"code": v, "discount_type": "percent", "value": "5"},
                                     format="json"),
          lambda c, r: _created(Coupon, r).code, lambda n: "c" * n, expect=str.upper),
]


# ---------------------------------------------------------------- order actions


def _placed() -> dict:
    return {"order": placed_order()}


def _ship(api, ctx, body: dict):
    return api.post(f"/api/admin/orders/{ctx['order'].id}/shipments",
                    {"inventory_source_id": default_source().id, **body}, format="json")


ACTIONS = [
    *[Limit(f"shipment.{name}", name, 255, lambda api, c, v, name=name: _ship(api, c, {name: v}),
            lambda c, r, name=name: getattr(_created(Shipment, r), name), setup=_placed)
      for name in ("carrier_title", "track_number")],
    Limit("comment", "comment", 5000,
          lambda api, c, v: api.post(f"/api/admin/orders/{c['order'].id}/comments", {"comment": v}, format="json"),
          lambda c, r: _created(OrderComment, r).comment, setup=_placed),
]


# ---------------------------------------------------------------- order import (SPEC §7.2)


def _doc(**overrides) -> dict:
    doc = {"reference": "REF-LIMIT", "email": "buyer@example.com", "notify": False,
           "items": [{"sku": "CUSTOM-1", "name": "Custom thing", "quantity": 1, "price": {"amount": 1000, "tax": 0}}]}
    doc.update(overrides)
    return doc


def _import(api, doc: dict):
    return api.post("/api/admin/orders/import", doc, format="json")


def _imported(r) -> Order:
    assert r.status_code == 201, r.json()
    return Order.objects.get(id=r.json()["order"]["id"])


def _item(**overrides) -> dict:
    return {"sku": "CUSTOM-1", "name": "Custom thing", "quantity": 1, "price": {"amount": 1000, "tax": 0}, **overrides}


IMPORT_ADDRESS_LIMITS = {**ADDRESS_LIMITS, "mobile": 64}

IMPORT = [
    Limit("import.reference", "reference", 255, lambda api, c, v: _import(api, _doc(reference=v)),
          lambda c, r: _imported(r).reference),
    Limit("import.email", "email", 256, lambda api, c, v: _import(api, _doc(email=v)),
          lambda c, r: (_imported(r).customer_email, _imported(r).customer.email), email, expect=lambda v: (v, v)),
    Limit("import.channel", "channel", 64, lambda api, c, v: _import(api, _doc(channel=v)),
          lambda c, r: _imported(r).channel),
    Limit("import.items.name", "items.0.name", 255, lambda api, c, v: _import(api, _doc(items=[_item(name=v)])),
          lambda c, r: _imported(r).items.get().name),
    Limit("import.items.sku", "items.0.sku", 64, lambda api, c, v: _import(api, _doc(items=[_item(sku=v)])),
          lambda c, r: _imported(r).items.get().sku),
    Limit("import.payments.driver", "payments.0.driver", 64,
          lambda api, c, v: _import(api, _doc(payments=[{"driver": v, "amount": 1000}])),
          lambda c, r: _imported(r).payments.get().method),
    Limit("import.payments.reference", "payments.0.reference", 255,
          lambda api, c, v: _import(api, _doc(payments=[{"driver": "cash", "amount": 1000, "reference": v}])),
          lambda c, r: _imported(r).payments.get().reference),
    Limit("import.fulfillments.tracking_code", "fulfillments.0.tracking_code", 255,
          lambda api, c, v: _import(api, _doc(fulfillments=[{"state": "successful", "tracking_code": v}])),
          lambda c, r: _imported(r).shipments.get().track_number),
    Limit("import.fulfillments.method", "fulfillments.0.method", 255,
          lambda api, c, v: _import(api, _doc(fulfillments=[{"state": "successful", "method": v}])),
          lambda c, r: _imported(r).shipments.get().carrier_title),
    Limit("import.comments.message", "comments.0.message", 5000,
          lambda api, c, v: _import(api, _doc(comments=[{"message": v}])),
          lambda c, r: _imported(r).comments.get().comment),
    Limit("import.comments.admin", "comments.0.admin", 255,
          lambda api, c, v: _import(api, _doc(comments=[{"message": "m", "admin": v}])),
          lambda c, r: _imported(r).comments.get().author_name),
    *[Limit(f"import.shipping_address.{name}", f"shipping_address.{name}", n,
            lambda api, c, v, name=name: _import(api, _doc(shipping_address=address(**{name: v}))),
            lambda c, r, name=name: _imported(r).shipping_address["phone" if name == "mobile" else name])
      for name, n in IMPORT_ADDRESS_LIMITS.items()],
    # A customer the import makes takes its names from the billing address: columns of 150.
    *[Limit(f"import.customer.{name}", f"billing_address.{name}", 150,
            lambda api, c, v, name=name: _import(api, _doc(email="new-buyer@example.com",
                                                           billing_address=address(**{name: v}))),
            lambda c, r, name=name: getattr(_imported(r).customer, name))
      for name in ("first_name", "last_name")],
]

# `mobile` fills `phone` only when phone is empty.
for _case in IMPORT:
    if _case.id == "import.shipping_address.mobile":
        _case.send = lambda api, c, v: _import(api, _doc(shipping_address=address(phone="", mobile=v)))


# ---------------------------------------------------------------- login


def _login(api, ctx, value):
    return api.post("/api/admin/login", {"email": value, "password": "not the password"}, format="json")


LOGIN = [
    # A wrong password is a 401 that records the attempt under the e-mail: its column holds 254.
    Limit("login.email", "email", 254, _login, lambda c, r: LoginAttempt.objects.get().email, email),
]

CASES = [*DIRECT, *STORE, *ACTIONS, *IMPORT, *LOGIN]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_value_at_the_limit_is_accepted_and_stored_whole(api, case: Limit):
    ctx = case.setup()
    value = case.value(case.limit)
    assert len(value) == case.limit
    r = case.send(api, ctx, value)
    if case in LOGIN:
        assert r.status_code == 401, r.json()
    else:
        assert r.status_code in (200, 201), r.json()
    assert case.stored(ctx, r) == case.expect(value)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_value_past_the_limit_is_a_400_naming_the_field_and_writes_nothing(api, case: Limit):
    ctx = case.setup()
    value = case.value(case.limit + 1)
    before = written()
    r = case.send(api, ctx, value)
    assert r.status_code == 400, r.json()
    body = r.json()
    assert body["code"] == "validation_error", body
    assert case.field in [e["field"] for e in body["errors"]], body
    assert written() == before
    assert not LoginAttempt.objects.exists()


# ---------------------------------------------------------------- values whose stored form is longer


@pytest.mark.parametrize("send,field", [
    (lambda api: _direct(api, {"email": "İ" * 200 + "@example.com"}), "email"),
    (lambda api: _customer(api, {"email": "İ" * 200 + "@example.com"}), "email"),
    (lambda api: _import(api, _doc(email="İ" * 200 + "@example.com")), "email"),
    (lambda api: _login(api, {}, "İ" * 200 + "@example.com"), "email"),
    (lambda api: api.post("/api/admin/coupons", {"code": "ß" * 17, "discount_type": "percent", "value": "5"},
                          format="json"), "code"),
], ids=["direct.email", "customer.email", "import.email", "login.email", "coupon.code"])
def test_a_value_that_grows_when_case_folded_is_checked_at_its_stored_length(api, send, field):
    """'İ' lower-cases to two characters and 'ß' upper-cases to 'SS': a value within the limit as
    typed can outgrow its column once normalised. It is refused (400), never a database error."""
    before = written()
    r = send(api)
    assert r.status_code == 400, r.json()
    assert r.json()["code"] == "validation_error" and field in [e["field"] for e in r.json()["errors"]]
    assert written() == before
    assert not LoginAttempt.objects.exists()


def test_a_coupon_code_of_sharp_s_within_the_limit_once_upper_cased_is_stored_whole(api):
    r = api.post("/api/admin/coupons", {"code": "ß" * 16, "discount_type": "percent", "value": "5"}, format="json")
    assert r.status_code == 201, r.json()
    assert Coupon.objects.get(id=r.json()["id"]).code == "SS" * 16


# ---------------------------------------------------------------- values put together from others

LONG_NAMES = {"first_name": "F" * 150, "last_name": "L" * 150}


def test_an_order_for_a_customer_with_both_names_at_their_limit_is_created(api):
    """The order keeps a display copy of the customer's name (255 characters) that first + last
    name (150 + 1 + 150) can outgrow: the copy is cut there, the customer keeps both whole."""
    r = _direct(api, {"email": "long-names@example.com", "billing_address": address(**LONG_NAMES)})
    order = _order(r)
    assert order.customer.first_name == "F" * 150 and order.customer.last_name == "L" * 150
    assert order.customer_name == ("F" * 150 + " " + "L" * 150)[:255]
    assert r.json()["billing_address"]["first_name"] == "F" * 150


def test_placing_a_cart_of_a_customer_with_both_names_at_their_limit(api):
    from tests.carts.helpers import ready_cart

    cart = ready_cart((ProductFactory(stock=5), 1), customer=CustomerFactory(**LONG_NAMES))
    r = api.post(f"/api/admin/orders/place/{cart.id}", format="json")
    assert _order(r).customer_name == ("F" * 150 + " " + "L" * 150)[:255]


# ---------------------------------------------------------------- limits of values that are looked up, never stored


def _cart_post(path: str, body: Callable[[str], dict]):
    def send(api, ctx, value):
        return api.post(f"/api/admin/carts/{ctx['cart'].id}/{path}", body(value), format="json")
    return send


def _customer_only() -> dict:
    return {"customer": CustomerFactory()}


LOOKUPS = [
    # (id, setup(), send(api, ctx, value), field, limit, value(n), the refusal at the limit: (status, code))
    ("cart.items.sku", _cart, _cart_post("items", lambda v: {"sku": v, "quantity": 1}), "sku", 64, text,
     (400, "product_not_found")),
    ("cart.coupon.code", _cart, _cart_post("coupon", lambda v: {"code": v}), "code", 64, text,
     (409, "coupon_not_applicable")),
    ("cart.shipping.code", _cart, _cart_post("shipping-methods", lambda v: {"code": v}), "code", 32, text,
     (409, "shipping_method_not_available")),
    ("cart.payment.code", _cart, _cart_post("payment-methods", lambda v: {"code": v}), "code", 64, text,
     (409, "payment_method_not_available")),
    ("draft_cart.currency", _customer_only,
     lambda api, c, v: api.post(f"/api/admin/customers/{c['customer'].id}/draft-carts", {"currency": v},
                                format="json"), "currency", 3, upper, (400, "currency_not_supported")),
    ("direct.items.sku", _with_product, lambda api, c, v: _direct_items(api, c, {"items": [{"sku": v, "quantity": 1}]}),
     "items.0.sku", 64, text, (400, "product_not_found")),
    ("direct.payment_method", dict, lambda api, c, v: _direct(api, {"payment_method": v}), "payment_method", 64, text,
     (409, "payment_method_not_available")),
    ("direct.shipping_method.code", _with_product,
     lambda api, c, v: _direct_items(api, c, {"shipping_method": {"code": v}}), "shipping_method.code", 32, text,
     (409, "shipping_method_not_available")),
    ("direct.currency", dict, lambda api, c, v: _direct(api, {"currency": v}), "currency", 3, upper,
     (400, "currency_not_supported")),
    ("login.password", dict, lambda api, c, v: api.post("/api/admin/login", {"email": "a@example.com", "password": v},
                                                        format="json"), "password", 1024, text,
     (401, "invalid_credentials")),
]


@pytest.mark.parametrize("setup,send,field,limit,value,refusal", [c[1:] for c in LOOKUPS], ids=[c[0] for c in LOOKUPS])
def test_a_looked_up_value_at_its_limit_is_looked_up_and_one_past_it_is_a_400(api, setup, send, field, limit, value,
                                                                             refusal):
    ctx = setup()
    before = written()
    r = send(api, ctx, value(limit))
    assert (r.status_code, r.json()["code"]) == refusal, r.json()
    assert written() == before  # a refusal: nothing written
    LoginAttempt.objects.all().delete()
    r = send(api, ctx, value(limit + 1))
    assert r.status_code == 400 and r.json()["code"] == "validation_error", r.json()
    assert field in [e["field"] for e in r.json()["errors"]], r.json()
    assert written() == before
    assert not LoginAttempt.objects.exists()
