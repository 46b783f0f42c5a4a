"""POST /api/admin/orders/import (SPEC §7.2, seed 002): every mapping rule and every refusal."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core import mail

from carts.models import PaymentMethod, ShippingMethod
from catalog.models import Currency, Product, ProductInventory
from customers.models import Customer
from sales.models import Invoice, Order, OrderComment, OrderItem, Payment, Sequence, Shipment
from tests.accounts.factories import UserFactory
from tests.catalog.factories import (
    InventorySourceFactory,
    ProductFactory,
    TaxCategoryFactory,
    TaxRateFactory,
    default_source,
)
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

URL = "/api/admin/orders/import"
SEED_FILE = Path("/work/shared/seeds/002_81a1eb4c00af4eef.txt")
_SEED_EXAMPLE = {
    "reference": "ABC123", "email": "testing@gmail.com",
    "subtotal": {"amount": 84166.67, "tax": 16833.33}, "shipping": {"amount": 83.33, "tax": 16.67},
    "discount": {"amount": 8416.67, "tax": 1683.33}, "ordered_at": "2023-09-01T09:29:41.000000Z", "currency": "GBP",
    "status_id": 3, "customer_id": 1, "shipping_method_id": 1, "notify": True,
    "billing_address": {"first_name": "Aero", "last_name": "Commerce", "company": "Aero Commerce", "mobile": None,
                        "phone": None, "line_1": "28-32 Albert Rd", "line_2": None, "city": "Middlesbrough",
                        "zone": None, "postcode": "TS1 1QD", "reference": None, "country": "GB", "eori_number": None},
    "shipping_address": {"first_name": "Aero", "last_name": "Commerce", "company": "Aero Commerce", "mobile": None,
                         "phone": None, "line_1": "28-32 Albert Rd", "line_2": None, "city": "Middlesbrough",
                         "zone": None, "postcode": "TS1 1QD", "reference": None, "country": "GB", "eori_number": None},
    "items": [{"variant_id": 1, "shippable": True, "quantity": 2, "price": {"amount": 42083.33, "tax": 8416.67},
               "discount": {"amount": 8416.67, "tax": 1683.33}}],
    "payments": [{"driver": "cash", "amount": 91000}],
    "comments": [{"admin": "admin@example.com", "message": "This is an API message",
                  "created_at": "2025-09-01 09:29:41", "customer_facing": True}],
}


def seed_example() -> dict:
    """Seed 002's example request, read from the seed itself when it is at hand."""
    if SEED_FILE.exists():
        text = SEED_FILE.read_text()
        match = re.search(r"```json lines\n(.*?)```", text, re.S)
        if match:
            return json.loads(match.group(1))
    return copy.deepcopy(_SEED_EXAMPLE)


@pytest.fixture
def store(admin_user):
    """Seed 002's ids mapped onto this store: its customer 1, variant 1 and shipping method 1."""
    customer = CustomerFactory(email="testing@gmail.com", first_name="Aero", last_name="Commerce")
    product = ProductFactory(sku="AERO-1", name="Aero widget", stock=10)
    return {"customer": customer, "product": product, "flatrate": ShippingMethod.objects.get(code="flatrate"),
            "admin": admin_user}


def the_seed(store) -> dict:
    doc = seed_example()
    doc["customer_id"] = store["customer"].id
    doc["items"][0]["variant_id"] = store["product"].id
    doc["shipping_method_id"] = store["flatrate"].id
    return doc


def doc_with(**overrides) -> dict:
    """A small valid document: one custom line of 10.00 + 2.00 tax, no payments."""
    doc = {"reference": "REF-1", "email": "buyer@example.com",
           "items": [{"sku": "CUSTOM-1", "name": "Custom thing", "quantity": 1, "price": {"amount": 1000, "tax": 200}}],
           "notify": False}
    doc.update(overrides)
    return doc


def post(api, doc, **kwargs):
    return api.post(URL, doc, format="json", **kwargs)


def snapshot() -> dict:
    """Everything an import may write: refusals must leave all of it as it was."""
    return {
        "orders": Order.objects.count(), "items": OrderItem.objects.count(), "payments": Payment.objects.count(),
        "invoices": Invoice.objects.count(), "shipments": Shipment.objects.count(),
        "comments": OrderComment.objects.count(), "customers": Customer.objects.count(),
        "sequences": dict(Sequence.objects.values_list("name", "last_value")),
        "reserved": dict(Product.objects.values_list("id", "qty_reserved")),
        "stock": dict(ProductInventory.objects.values_list("id", "qty")),
    }


def refused(api, doc, status: int, code: str, field: str | None = None) -> dict:
    before = snapshot()
    response = post(api, doc)
    assert response.status_code == status, response.json()
    body = response.json()
    assert body["code"] == code, body
    if field is not None:
        assert field in [e["field"] for e in body["errors"]], body
    assert snapshot() == before
    return body


def imported(api, doc) -> Order:
    response = post(api, doc)
    assert response.status_code == 201, response.json()
    assert set(response.json()) == {"order"} and set(response.json()["order"]) == {"id"}
    return Order.objects.get(id=response.json()["order"]["id"])


# --------------------------------------------------------------------------- seed 002's example


def test_seed_example_imports_exactly(api, store, django_capture_on_commit_callbacks):
    doc = the_seed(store)
    doc["eori_number"] = "GB123456789000"  # a field the mapping does not use
    doc["billing_address"]["eori_number"] = "GB987"
    with django_capture_on_commit_callbacks(execute=True):
        order = imported(api, doc)

    assert order.reference == "ABC123" and order.channel == "import"
    assert order.status == 3 and order.status_code == "processing"  # as given, although fully invoiced
    assert order.created_at == dt.datetime(2023, 9, 1, 9, 29, 41, tzinfo=dt.UTC)
    assert (order.subtotal, order.discount_total, order.tax_total, order.shipping_total, order.grand_total) == (
        Decimal("841.67"), Decimal("84.17"), Decimal("151.50"), Decimal("1.00"), Decimal("910.00"))
    assert order.currency == "GBP" and order.exchange_rate == Currency.objects.get(code="GBP").rate
    assert order.customer == store["customer"] and order.customer_email == "testing@gmail.com"
    assert order.shipping_method_code == "flatrate" and order.fulfillment_type == "shipping"
    assert order.billing_address["country"] == "GB" and order.billing_address["company"] == "Aero Commerce"
    assert order.source_document == doc  # whole, unknown fields included

    (item,) = order.items.all()
    assert item.product == store["product"] and item.sku == "AERO-1" and item.qty_ordered == 2
    assert (item.price, item.subtotal, item.discount_amount, item.tax_amount, item.tax_percent, item.total) == (
        Decimal("420.83"), Decimal("841.67"), Decimal("84.17"), Decimal("151.50"), Decimal("20.0000"),
        Decimal("909.00"))

    # The 91000 cash payment covers 910.00: fully invoiced, one paid invoice, the payment not duplicated.
    (payment,) = order.payments.all()
    assert (payment.method, payment.amount, payment.state) == ("cash", Decimal("910.00"), "captured")
    assert re.fullmatch(r"[0-9a-f-]{36}", payment.reference)
    (invoice,) = order.invoices.all()
    assert invoice.state == "paid" and invoice.grand_total == Decimal("910.00")
    assert invoice.shipping_total == Decimal("1.00") and invoice.number == str(
        Sequence.objects.get(name="invoice").start + Sequence.objects.get(name="invoice").last_value)
    assert order.total_invoiced == Decimal("910.00") and order.total_due == Decimal("0.00")
    assert order.invoice_state == "full" and order.payment_captured
    assert item.qty_invoiced == 2 and item.subtotal_invoiced == Decimal("841.67")

    (comment,) = order.comments.all()
    assert comment.comment == "This is an API message" and comment.customer_notified
    assert comment.author == store["admin"] and comment.created_at == dt.datetime(2025, 9, 1, 9, 29, 41, tzinfo=dt.UTC)

    assert [e.type for e in order.events.order_by("id")][:2] == ["imported", "invoiced"]
    store["product"].refresh_from_db()
    assert store["product"].qty_reserved == 2  # qty_to_ship reserved (buy_items defaults to true)
    # notify: the order e-mail, sent after commit; the customer-facing comment sends none.
    assert [m.subject for m in mail.outbox] == [f"Your order #{order.number} has been received"]


def test_seed_example_order_detail_and_next_action(api, store):
    order = imported(api, the_seed(store))
    detail = api.get(f"/api/admin/orders/{order.id}").json()
    assert detail["status"] == "processing" and detail["reference"] == "ABC123"
    assert detail["grand_total"] == "910.00" and detail["total_due"] == "0.00"
    assert detail["can"]["invoice"] is False  # staff cannot bill it again
    assert detail["can"]["ship"] is True
    # The imported status stands until the next action recomputes it: shipping everything completes it.
    r = api.post(f"/api/admin/orders/{order.id}/shipments", {"inventory_source_id": default_source().id},
                 format="json")
    assert r.status_code == 201, r.json()
    order.refresh_from_db()
    assert order.status_code == "completed"


# --------------------------------------------------------------------------- amounts


def test_minor_units_round_half_up_where_they_land(api):
    order = imported(api, doc_with(items=[
        {"sku": "A", "name": "A", "quantity": 3, "price": {"amount": 333.335, "tax": 66.665},
         "discount": {"amount": 0.5, "tax": 0.1}}]))
    (item,) = order.items.all()
    assert item.price == Decimal("3.33")  # 3.33335
    assert item.subtotal == Decimal("10.00")  # 1000.005 / 100 = 10.00005
    assert item.tax_amount == Decimal("2.00")  # (199.995 - 0.1) / 100 = 1.99895
    assert item.discount_amount == Decimal("0.01")  # 0.005 → half up
    assert item.tax_percent == Decimal("19.9994")  # 66.665 / 333.335
    assert order.grand_total == Decimal("11.99")


def test_order_discount_larger_than_items_is_split_pro_rata(api):
    items = [{"sku": f"L{n}", "name": f"Line {n}", "quantity": 1, "price": {"amount": 1000, "tax": 200}}
             for n in range(3)]
    items[0]["discount"] = {"amount": 100, "tax": 20}
    order = imported(api, doc_with(items=items, discount={"amount": 1100, "tax": 220}))
    lines = list(order.items.order_by("id"))
    # 10.00 extra over three equal lines: 3.33, 3.33 and the remainder 3.34; its tax 2.00: 0.67, 0.67, 0.66.
    assert [x.discount_amount for x in lines] == [Decimal("4.33"), Decimal("3.33"), Decimal("3.34")]
    assert [x.tax_amount for x in lines] == [Decimal("1.13"), Decimal("1.33"), Decimal("1.34")]
    assert order.discount_total == Decimal("11.00") and order.tax_total == Decimal("3.80")
    assert order.grand_total == sum((x.total for x in lines), Decimal(0)) == Decimal("22.80")


def test_order_discount_equal_to_items_adds_nothing(api):
    order = imported(api, doc_with(items=[{"sku": "A", "name": "A", "quantity": 1, "price": {"amount": 1000, "tax": 0},
                                           "discount": {"amount": 100, "tax": 0}}],
                                   discount={"amount": 100.004, "tax": 0}))
    assert order.discount_total == Decimal("1.00")


def test_shipping_total_is_shipping_and_surcharge_with_their_tax(api):
    order = imported(api, doc_with(shipping={"amount": 500, "tax": 100}, surcharge={"amount": 250, "tax": 50}))
    assert order.shipping_total == Decimal("9.00")
    assert order.grand_total == Decimal("12.00") + Decimal("9.00")


def test_subtotal_within_a_cent_per_line_is_accepted(api):
    items = [{"sku": f"L{n}", "name": "L", "quantity": 1, "price": {"amount": 1000, "tax": 200}} for n in range(2)]
    order = imported(api, doc_with(items=items, subtotal={"amount": 2002, "tax": 398}))
    assert order.subtotal == Decimal("20.00")


def test_subtotal_mismatch_is_refused_naming_both_figures(api):
    body = refused(api, doc_with(subtotal={"amount": 1003, "tax": 200}), 400, "totals_mismatch", "subtotal.amount")
    assert "10.03" in body["message"] and "10.00" in body["message"]
    body = refused(api, doc_with(subtotal={"amount": 1000, "tax": 300}), 400, "totals_mismatch", "subtotal.tax")
    assert "3.00" in body["message"] and "2.00" in body["message"]


def test_order_discount_smaller_than_items_is_a_mismatch(api):
    doc = doc_with(items=[{"sku": "A", "name": "A", "quantity": 1, "price": {"amount": 1000, "tax": 0},
                           "discount": {"amount": 500, "tax": 0}}], discount={"amount": 100, "tax": 0})
    refused(api, doc, 400, "totals_mismatch", "discount.amount")


def test_discount_above_the_line_is_refused(api):
    doc = doc_with(items=[{"sku": "A", "name": "A", "quantity": 1, "price": {"amount": 1000, "tax": 200},
                           "discount": {"amount": 1500, "tax": 0}}])
    refused(api, doc, 400, "validation_error", "items.0.discount")


def test_unnested_price_includes_tax_by_the_shipping_country(api):
    standard = TaxCategoryFactory()
    TaxRateFactory(category=standard, country="GB", rate=Decimal("20"))
    TaxRateFactory(category=standard, country="US", rate=Decimal("5"))
    product = ProductFactory(sku="TAXED", tax_category=standard, stock=5)
    address = {"first_name": "A", "last_name": "B", "line_1": "1 St", "city": "London", "postcode": "E1",
               "country": "GB"}
    order = imported(api, doc_with(shipping_address=address,
                                   billing_address={**address, "country": "US"},
                                   items=[{"sku": product.sku, "quantity": 2, "price": 50500, "discount": 1200},
                                          {"sku": "GIFT", "name": "Gift card", "quantity": 1, "price": 1000}]))
    taxed, custom = order.items.order_by("id")
    assert (taxed.price, taxed.subtotal, taxed.tax_percent) == (Decimal("420.83"), Decimal("841.67"),
                                                                  Decimal("20.0000"))
    assert taxed.discount_amount == Decimal("10.00")  # 12.00 gross, 2.00 of it tax
    assert taxed.tax_amount == Decimal("166.33")  # 168.33 − 2.00
    assert taxed.total == Decimal("998.00")  # 2 × 505.00 − 12.00
    assert (custom.subtotal, custom.tax_amount, custom.tax_percent) == (Decimal("10.00"), Decimal("0.00"),
                                                                          Decimal("0.0000"))


def test_unnested_price_zone_rate_wins(api):
    standard = TaxCategoryFactory()
    TaxRateFactory(category=standard, country="US", zone="", rate=Decimal("5"))
    TaxRateFactory(category=standard, country="US", zone="NY", rate=Decimal("10"))
    product = ProductFactory(tax_category=standard, stock=5)
    address = {"first_name": "A", "last_name": "B", "line_1": "1 St", "city": "NYC", "postcode": "10001",
               "country": "US", "zone": "NY"}
    order = imported(api, doc_with(shipping_address=address, items=[{"sku": product.sku, "quantity": 1,
                                                                     "price": 1100}]))
    (item,) = order.items.all()
    assert (item.subtotal, item.tax_amount) == (Decimal("10.00"), Decimal("1.00"))


# --------------------------------------------------------------------------- items


def test_items_resolve_by_sku_then_product_id_then_variant_id(api):
    a, b, c = ProductFactory(stock=5), ProductFactory(stock=5), ProductFactory(stock=5)
    order = imported(api, doc_with(items=[
        {"sku": a.sku, "product_id": b.id, "quantity": 1, "price": {"amount": 100, "tax": 0}},
        {"sku": "NOT-OURS", "product_id": str(b.id), "variant_id": c.id, "quantity": 1, "price": {"amount": 100,
                                                                                                    "tax": 0}},
        {"product_id": "999999999", "variant_id": c.id, "quantity": 1, "price": {"amount": 100, "tax": 0}},
    ]))
    assert [i.product_id for i in order.items.order_by("id")] == [a.id, b.id, c.id]
    assert [i.sku for i in order.items.order_by("id")] == [a.sku, b.sku, c.sku]
    assert [i.name for i in order.items.order_by("id")] == [a.name, b.name, c.name]


def test_configurable_product_resolves_to_its_variant(api):
    parent = ProductFactory(type="configurable")
    first = ProductFactory(parent=parent, stock=5)
    second = ProductFactory(parent=parent, stock=5)
    order = imported(api, doc_with(reference="R1", items=[{"product_id": parent.id, "quantity": 1,
                                                           "price": {"amount": 100, "tax": 0}}]))
    assert order.items.get().product == first
    order = imported(api, doc_with(reference="R2", items=[{"product_id": parent.id, "variant_id": second.id,
                                                           "quantity": 1, "price": {"amount": 100, "tax": 0}}]))
    assert order.items.get().product == second


def test_unresolved_line_becomes_a_custom_line(api):
    order = imported(api, doc_with(items=[
        {"sku": "WRAP", "name": "Gift wrap", "quantity": 2, "price": {"amount": 150, "tax": 30}},
        {"sku": "E-BOOK", "name": "E-book", "quantity": 1, "shippable": False, "price": {"amount": 500, "tax": 0}},
    ]))
    wrap, ebook = order.items.order_by("id")
    assert wrap.product is None and wrap.sku == "WRAP" and wrap.name == "Gift wrap"
    assert wrap.is_shippable and not wrap.is_stocked and wrap.type == "simple" and wrap.qty_to_ship == 2
    assert not ebook.is_shippable and ebook.type == "virtual" and ebook.qty_to_ship == 0
    assert order.fulfillment_type == "shipping"


def test_unresolved_line_needs_sku_and_name(api):
    body = refused(api, doc_with(items=[{"product_id": 99999999, "quantity": 1, "price": {"amount": 1, "tax": 0}}]),
                   400, "product_not_found")
    assert {e["field"] for e in body["errors"]} == {"items.0.sku", "items.0.name"}
    refused(api, doc_with(items=[{"sku": "NOPE", "quantity": 1, "price": {"amount": 1, "tax": 0}}]), 400,
            "product_not_found", "items.0.name")


def test_product_line_with_shippable_false_does_not_ship_or_reserve(api):
    product = ProductFactory(stock=5)
    order = imported(api, doc_with(items=[{"sku": product.sku, "quantity": 2, "shippable": False,
                                           "price": {"amount": 100, "tax": 0}}]))
    assert not order.items.get().is_shippable
    product.refresh_from_db()
    assert product.qty_reserved == 0


# --------------------------------------------------------------------------- status, channel, currency


@pytest.mark.parametrize(("given", "expected"), [
    ({"status_id": 7, "ordered_at": "2024-01-01T00:00:00Z"}, 7),
    ({"status_id": "4", "ordered_at": "2024-01-01T00:00:00Z"}, 4),
    ({"state": "completed", "ordered_at": "2024-01-01T00:00:00Z"}, 4),
    ({"state": "fraud"}, 7),
    ({}, 1),
])
def test_status_from_status_id_or_state(api, given, expected):
    assert imported(api, doc_with(**given)).status == expected


def test_ordered_at_needs_a_status(api):
    refused(api, doc_with(ordered_at="2024-01-01T00:00:00Z"), 400, "validation_error", "status_id")


def test_ordered_at_becomes_created_at_and_now_without_it(api):
    order = imported(api, doc_with(reference="R1", ordered_at="2021-05-06T07:08:09+02:00", status_id=4))
    assert order.created_at == dt.datetime(2021, 5, 6, 5, 8, 9, tzinfo=dt.UTC)
    order = imported(api, doc_with(reference="R2"))
    assert abs((order.created_at - dt.datetime.now(dt.UTC)).total_seconds()) < 60


def test_fraud_status_stands_through_the_import_documents(api):
    product = ProductFactory(stock=5)
    order = imported(api, doc_with(status_id=7, items=[{"sku": product.sku, "quantity": 1,
                                                        "price": {"amount": 1000, "tax": 0}}],
                                   payments=[{"driver": "cash", "amount": 1000}],
                                   fulfillments=[{"state": "successful"}]))
    assert order.status_code == "fraud"
    assert order.invoices.count() == 1 and order.shipments.count() == 1
    r = api.post(f"/api/admin/orders/{order.id}/cancel", format="json")
    assert r.status_code == 409 and r.json()["code"] == "order_not_cancelable"


def test_channel_defaults_to_import(api):
    assert imported(api, doc_with(reference="R1")).channel == "import"
    assert imported(api, doc_with(reference="R2", channel="amazon")).channel == "amazon"


def test_currency_must_be_enabled_and_sets_the_rate(api):
    Currency.objects.create(code="JPY", name="Yen", rate=Decimal("150"), enabled=False)
    refused(api, doc_with(currency="JPY"), 400, "currency_not_supported", "currency")
    refused(api, doc_with(currency="XXX"), 400, "currency_not_supported", "currency")
    order = imported(api, doc_with(reference="R1", currency="eur"))
    assert order.currency == "EUR" and order.exchange_rate == Currency.objects.get(code="EUR").rate
    order = imported(api, doc_with(reference="R2", currency="EUR", exchange_rate=0.9))
    assert order.exchange_rate == Decimal("0.9")
    order = imported(api, doc_with(reference="R3"))
    assert order.currency == "USD" and order.base_currency == "USD"


# --------------------------------------------------------------------------- customer, addresses, methods


def test_customer_by_id_by_email_or_created(api):
    known = CustomerFactory(email="known@example.com")
    assert imported(api, doc_with(reference="R1", customer_id=known.id, email=None)).customer == known
    assert imported(api, doc_with(reference="R2", email="KNOWN@example.com")).customer == known
    order = imported(api, doc_with(reference="R3", email="new@example.com", billing_address={
        "first_name": "Nova", "last_name": "Newman", "line_1": "1 St", "city": "X", "postcode": "1"}))
    assert order.customer.email == "new@example.com" and order.customer.name == "Nova Newman"
    assert order.customer_name == "Nova Newman"


def test_unknown_customer_id_is_refused(api):
    refused(api, doc_with(customer_id=99999999), 400, "customer_not_found", "customer_id")


def test_customer_needs_id_or_email(api):
    doc = doc_with()
    del doc["email"]
    refused(api, doc, 400, "validation_error", "email")


def test_address_mobile_fills_phone_and_country_defaults(api, settings):
    settings.STORE_COUNTRY = "GB"
    address = {"first_name": "A", "last_name": "B", "line_1": "1 St", "city": "X", "postcode": "1",
               "mobile": "+44 7700 900123", "phone": None, "eori_number": "GB1", "reference": "ADDR-9"}
    order = imported(api, doc_with(reference="R1", billing_address=address,
                                   shipping_address={**address, "phone": "+44 20 7946 0000"}))
    assert order.billing_address == {"first_name": "A", "last_name": "B", "company": "", "phone": "+44 7700 900123",
                                     "line_1": "1 St", "line_2": "", "city": "X", "zone": "", "postcode": "1",
                                     "country": "GB"}
    assert order.shipping_address["phone"] == "+44 20 7946 0000"
    assert order.source_document["billing_address"]["eori_number"] == "GB1"


def test_address_required_fields(api):
    body = refused(api, doc_with(billing_address={"first_name": "A", "line_1": "1", "city": "X"}), 400,
                   "validation_error")
    assert {e["field"] for e in body["errors"]} == {"billing_address.last_name", "billing_address.postcode"}


def test_shipping_method_by_our_id(api):
    free = ShippingMethod.objects.get(code="free")
    order = imported(api, doc_with(shipping_method_id=free.id))
    assert (order.shipping_method_code, order.shipping_method_title) == ("free", free.title)
    refused(api, doc_with(reference="R2", shipping_method_id=99999999), 400, "shipping_method_not_found",
            "shipping_method_id")


# --------------------------------------------------------------------------- payments


def test_payments_become_payment_records(api):
    cod = PaymentMethod.objects.get(code="cashondelivery")
    order = imported(api, doc_with(payments=[
        {"method_id": cod.id, "amount": 700, "reference": "P-1"},
        {"driver": "moneytransfer", "amount": 500, "state": "captured"},
        {"driver": "klarna", "amount": 300, "state": "refunded", "reference": "K-9"},
    ]))
    payments = list(order.payments.order_by("id"))
    assert [(p.method, p.amount, p.state) for p in payments] == [
        ("cashondelivery", Decimal("7.00"), "captured"), ("moneytransfer", Decimal("5.00"), "captured"),
        ("klarna", Decimal("3.00"), "refunded")]
    assert payments[0].reference == "P-1" and payments[2].reference == "K-9"
    assert re.fullmatch(r"[0-9a-f-]{36}", payments[1].reference)
    assert (order.payment_method_code, order.payment_method_title) == ("cashondelivery", cod.title)
    # 7.00 + 5.00 captured ≥ 12.00: invoiced; the refunded one is only recorded, and the history says so.
    assert order.invoices.count() == 1 and order.payments.count() == 3
    imported_event = order.events.get(type="imported")
    assert any("K-9" in note and "refunded" in note for note in imported_event.data["notes"])


def test_payments_short_of_the_total_invoice_nothing(api):
    order = imported(api, doc_with(payments=[{"driver": "cash", "amount": 1199},
                                             {"driver": "cash", "amount": 5000, "state": "authorized"}]))
    assert order.invoices.count() == 0 and order.invoice_state == "none" and order.total_invoiced == 0
    assert order.payment_captured and order.items.get().qty_invoiced == 0
    assert order.events.filter(type="invoiced").count() == 0
    assert any("do not cover" in note for note in order.events.get(type="imported").data["notes"])


def test_no_payments_no_invoice(api):
    order = imported(api, doc_with())
    assert order.invoices.count() == 0 and not order.payment_captured and order.payments.count() == 0


def test_unknown_payment_method_id_is_refused(api):
    refused(api, doc_with(payments=[{"method_id": 99999999, "amount": 1}]), 400, "payment_method_not_found",
            "payments.0.method_id")


def test_payment_needs_driver_or_method_id(api):
    refused(api, doc_with(payments=[{"amount": 1}]), 400, "validation_error", "payments.0.driver")


def test_gateway_payment_is_invoiced_by_the_import(api):
    order = imported(api, doc_with(payments=[{"driver": "paylink", "amount": 1200}]))
    assert order.payment_method_code == "paylink" and order.checkout_token
    assert order.invoices.count() == 1 and order.payments.count() == 1


# --------------------------------------------------------------------------- fulfillments and stock


def test_successful_fulfillment_ships_every_shippable_unit_from_the_default_source(api):
    product = ProductFactory(stock=10)
    other = InventorySourceFactory()
    ProductInventory.objects.create(product=product, source=other, qty=50)
    order = imported(api, doc_with(items=[
        {"sku": product.sku, "quantity": 3, "price": {"amount": 1000, "tax": 200}},
        {"sku": "DL", "name": "Download", "quantity": 1, "shippable": False, "price": {"amount": 100, "tax": 0}},
    ], fulfillments=[{"state": "successful", "method": "Royal Mail", "tracking_code": "RM123",
                      "dispatched_at": "2024-03-04T05:06:07Z", "reference": "F-1"}]))
    (shipment,) = order.shipments.all()
    assert shipment.inventory_source == default_source() and shipment.total_qty == 3
    assert (shipment.carrier_title, shipment.track_number) == ("Royal Mail", "RM123")
    assert shipment.created_at == dt.datetime(2024, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
    line = order.items.get(sku=product.sku)
    assert line.qty_shipped == 3 and line.qty_to_ship == 0
    product.refresh_from_db()
    assert product.qty_reserved == 0
    assert ProductInventory.objects.get(product=product, source=default_source()).qty == 7
    assert ProductInventory.objects.get(product=product, source=other).qty == 50
    assert order.shipment_state == "full" and order.status_code == "pending"


def test_fulfillment_items_by_sku_and_quantity(api):
    a, b = ProductFactory(stock=10), ProductFactory(stock=10)
    order = imported(api, doc_with(items=[
        {"sku": a.sku, "quantity": 3, "price": {"amount": 1000, "tax": 0}},
        {"sku": b.sku, "quantity": 2, "price": {"amount": 1000, "tax": 0}},
    ], fulfillments=[{"state": "successful", "items": [{"sku": a.sku, "quantity": 2}, {"sku": b.sku}]},
                     {"state": "successful", "method": 4, "items": [{"sku": a.sku}]}]))
    first, second = order.shipments.order_by("id")
    assert [(i.sku, i.quantity) for i in first.items.all()] == [(a.sku, 2), (b.sku, 2)]
    assert [(i.sku, i.quantity) for i in second.items.all()] == [(a.sku, 1)]
    assert second.carrier_title == "4"
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.qty_reserved, b.qty_reserved) == (0, 0)
    assert order.events.filter(type="shipped").count() == 2


def test_other_fulfillment_states_are_only_history(api):
    product = ProductFactory(stock=10)
    order = imported(api, doc_with(items=[{"sku": product.sku, "quantity": 1, "price": {"amount": 1, "tax": 0}}],
                                   fulfillments=[{"state": "pending", "reference": "F-7", "tracking_code": "T"},
                                                 {"reference": "F-8"}]))
    assert order.shipments.count() == 0
    data = order.events.get(type="imported").data
    assert [(f["reference"], f["state"]) for f in data["fulfillments_not_shipped"]] == [("F-7", "pending"),
                                                                                        ("F-8", "open")]
    product.refresh_from_db()
    assert product.qty_reserved == 1


def test_fulfillment_refusals(api):
    product = ProductFactory(stock=10)
    items = [{"sku": product.sku, "quantity": 1, "price": {"amount": 1, "tax": 0}},
             {"sku": "DL", "name": "Download", "quantity": 1, "shippable": False, "price": {"amount": 1, "tax": 0}}]
    refused(api, doc_with(items=items, fulfillments=[{"state": "successful", "items": [{"sku": "NOPE"}]}]), 400,
            "order_item_not_found", "fulfillments.0.items.0.sku")
    refused(api, doc_with(items=items, fulfillments=[{"state": "successful", "items": [{"sku": "DL"}]}]), 400,
            "item_not_shippable", "fulfillments.0.items.0.sku")
    refused(api, doc_with(items=items, fulfillments=[{"state": "successful", "items": [{"sku": product.sku,
                                                                                       "quantity": 2}]}]), 409,
            "quantity_exceeds_remaining", "fulfillments.0.items.0.quantity")


def test_insufficient_stock_to_reserve_imports_nothing(api):
    product = ProductFactory(stock=2)
    refused(api, doc_with(items=[{"sku": product.sku, "quantity": 3, "price": {"amount": 1, "tax": 0}}],
                          payments=[{"driver": "cash", "amount": 3}]),
            409, "insufficient_stock", "items.0.quantity")


def test_insufficient_stock_at_the_default_source_imports_nothing(api):
    product = ProductFactory(stock=1)
    ProductInventory.objects.create(product=product, source=InventorySourceFactory(), qty=10)
    refused(api, doc_with(items=[{"sku": product.sku, "quantity": 3, "price": {"amount": 1, "tax": 0}}],
                          payments=[{"driver": "cash", "amount": 3}], fulfillments=[{"state": "successful"}]),
            409, "insufficient_stock", "fulfillments.0")


def test_inactive_default_source_cannot_ship(api):
    source = default_source()
    source.active = False
    source.save()
    refused(api, doc_with(fulfillments=[{"state": "successful"}]), 400, "inventory_source_not_found",
            "fulfillments.0")


def test_form_posts_are_refused(api):
    r = api.post(URL, {"reference": "X"})
    assert r.status_code == 415 and r.json()["code"] == "unsupported_media_type"


def test_buy_items_false_leaves_stock_alone(api):
    product = ProductFactory(stock=1)
    order = imported(api, doc_with(buy_items=False, items=[{"sku": product.sku, "quantity": 5,
                                                            "price": {"amount": 1, "tax": 0}}],
                                   fulfillments=[{"state": "successful", "items": [{"sku": product.sku,
                                                                                    "quantity": 2}]}]))
    line = order.items.get()
    assert not line.is_stocked and line.qty_shipped == 2 and line.product == product
    product.refresh_from_db()
    assert product.qty_reserved == 0
    assert ProductInventory.objects.get(product=product).qty == 1
    # Later actions keep leaving it alone: canceling the rest releases nothing.
    r = api.post(f"/api/admin/orders/{order.id}/cancel", format="json")
    assert r.status_code == 200, r.json()
    product.refresh_from_db()
    assert product.qty_reserved == 0


# --------------------------------------------------------------------------- comments and notify


def test_comments_keep_author_text_and_dates(api, admin_user):
    staff = UserFactory(email="support@example.com", name="Sam Support", is_staff=True)
    order = imported(api, doc_with(comments=[
        {"admin": staff.id, "message": "by id"},
        {"admin": "SUPPORT@example.com", "message": "by e-mail", "customer_facing": True},
        {"admin": "Legacy Bot", "message": "unknown admin", "created_at": "2020-01-02T03:04:05Z"},
        {"admin": "ghost@example.com", "message": "unknown e-mail"},
        {"message": "no admin"},
    ]))
    comments = {c.comment: c for c in order.comments.all()}
    assert comments["by id"].author == staff and comments["by id"].author_name == "Sam Support"
    assert comments["by e-mail"].author == staff and comments["by e-mail"].customer_notified
    assert comments["unknown admin"].author is None and comments["unknown admin"].author_name == "Legacy Bot"
    assert comments["unknown admin"].created_at == dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert comments["unknown e-mail"].author is None and comments["unknown e-mail"].author_name == "ghost@example.com"
    assert comments["no admin"].author == admin_user  # the importing user, as the seed's token name
    assert not comments["by id"].customer_notified


def test_notify_false_sends_nothing(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        imported(api, doc_with(notify=False, comments=[{"message": "hi", "customer_facing": True}]))
    assert mail.outbox == []


def test_notify_defaults_to_true(api, django_capture_on_commit_callbacks):
    doc = doc_with()
    del doc["notify"]
    with django_capture_on_commit_callbacks(execute=True):
        order = imported(api, doc)
    assert [m.to for m in mail.outbox] == [["buyer@example.com"]]
    assert order.events.filter(type="email_sent").count() == 1


# --------------------------------------------------------------------------- reference, shape, permission


def test_duplicate_reference_is_refused(api):
    imported(api, doc_with(reference="DUP-1"))
    refused(api, doc_with(reference="DUP-1"), 409, "duplicate_reference", "reference")


@pytest.mark.parametrize(("change", "field"), [
    (lambda d: d["items"][0]["price"].update(amount="abc"), "items.0.price.amount"),
    (lambda d: d["items"][0]["price"].update(amount=-1), "items.0.price.amount"),
    (lambda d: d["items"][0]["price"].pop("tax"), "items.0.price.tax"),
    (lambda d: d["items"][0].update(price=[1]), "items.0.price"),
    (lambda d: d["items"][0].update(price=True), "items.0.price"),
    (lambda d: d["items"][0].update(quantity=0), "items.0.quantity"),
    (lambda d: d["items"][0].update(quantity=1.5), "items.0.quantity"),
    (lambda d: d["items"][0].update(discount={"amount": 1e30}), "items.0.discount.amount"),
    (lambda d: d.update(items=[]), "items"),
    (lambda d: d.pop("items"), "items"),
    (lambda d: d.pop("reference"), "reference"),
    (lambda d: d.update(reference="x" * 256), "reference"),
    (lambda d: d.update(status_id=8), "status_id"),
    (lambda d: d.update(state="shipped"), "state"),
    (lambda d: d.update(email="not-an-email"), "email"),
    (lambda d: d.update(ordered_at="yesterday", status_id=1), "ordered_at"),
    (lambda d: d.update(payments=[{"driver": "cash", "amount": 1, "state": "bogus"}]), "payments.0.state"),
    (lambda d: d.update(payments=[{"driver": "cash"}]), "payments.0.amount"),
    (lambda d: d.update(fulfillments=[{"state": "successful", "items": [{"quantity": 1}]}]),
     "fulfillments.0.items.0.sku"),
    (lambda d: d.update(fulfillments=[{"state": "shipped"}]), "fulfillments.0.state"),
    (lambda d: d.update(comments=[{"admin": "x"}]), "comments.0.message"),
    (lambda d: d.update(billing_address={"first_name": "A"}), "billing_address.last_name"),
    (lambda d: d.update(shipping_address={"first_name": "A", "last_name": "B", "line_1": "1", "city": "X",
                                          "postcode": "1", "country": "G1"}), "shipping_address.country"),
    (lambda d: d.update(ip="300.1.1.1"), "ip"),
    (lambda d: d.update(customer_id=0), "customer_id"),
    (lambda d: d.update(exchange_rate=-1), "exchange_rate"),
])
def test_invalid_fields_are_refused_with_their_dotted_path(api, change, field):
    doc = doc_with()
    change(doc)
    refused(api, doc, 400, "validation_error", field)


def test_huge_line_total_is_refused_not_overflowed(api):
    doc = doc_with(items=[{"sku": "BIG", "name": "Big", "quantity": 1_000_000,
                           "price": {"amount": 9_999_999_999_999, "tax": 0}}])
    refused(api, doc, 400, "validation_error", "items.0.quantity")


def test_body_must_be_an_object(api):
    for body in ([], "text", 5):
        r = api.post(URL, json.dumps(body), content_type="application/json")
        assert r.status_code == 400 and r.json()["code"] == "validation_error"
    r = api.post(URL, '{"reference": "R", "items": [', content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] == "parse_error"
    assert Order.objects.count() == 0


def test_a_number_json_cannot_hold_is_refused(api):
    before = snapshot()
    body = '{"reference": "INF", "email": "a@example.com", "legacy": 1e400, "items": [{"sku": "A", "name": "A", ' \
           '"quantity": 1, "price": {"amount": 1, "tax": 0}}]}'
    r = api.post(URL, body, content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] == "validation_error"
    assert snapshot() == before


def test_permission_required(staff_api, anon):
    assert anon.post(URL, doc_with(), format="json").status_code == 401
    r = staff_api("sales.view_order").post(URL, doc_with(), format="json")
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    assert Order.objects.count() == 0
    r = staff_api("sales.import_order").post(URL, doc_with(), format="json")
    assert r.status_code == 201, r.json()


def test_history_records_the_import(api, admin_user):
    order = imported(api, doc_with(payments=[{"driver": "cash", "amount": 1200}]))
    history = api.get(f"/api/admin/orders/{order.id}/history").json()
    events = history["results"] if isinstance(history, dict) and "results" in history else history
    assert [e["type"] for e in events][:2] == ["imported", "invoiced"]
    first = order.events.order_by("id").first()
    assert first.actor == admin_user
    assert first.data["reference"] == "REF-1" and first.data["number"] == order.number
    assert first.data["invoiced"] is True and first.data["grand_total"] == "12.00"


def test_openapi_documents_the_import(api):
    r = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schema = json.loads(r.content)
    operation = schema["paths"]["/api/admin/orders/import"]["post"]
    assert set(operation["responses"]) >= {"201", "400", "401", "403", "409"}
    for code in ("totals_mismatch", "currency_not_supported", "customer_not_found"):
        assert code in operation["responses"]["400"]["description"]
    for code in ("duplicate_reference", "insufficient_stock"):
        assert code in operation["responses"]["409"]["description"]
