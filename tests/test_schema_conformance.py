"""What schemathesis found against a live server (issue 16, .ci/schemathesis), each kept fixed here:
the schema states what the API accepts and answers, and the API keeps to it."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.core.validators import validate_email
from drf_spectacular.generators import SchemaGenerator

from catalog.models import ProductInventory
from customers.models import Customer
from sales.management.commands.seed_demo import email_local
from tests.catalog.factories import ProductFactory, default_source
from tests.customers.factories import CustomerFactory
from tests.sales.helpers import placed_order

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def _component(schema, name):
    return schema["components"]["schemas"][name]


def _query(schema, path, method, name):
    return next(p for p in schema["paths"][path][method]["parameters"] if p["in"] == "query" and p["name"] == name)


# ---------------------------------------------------------------- the schema says what is accepted

def test_decimal_strings_need_a_digit_and_say_their_bounds(schema):
    refund = _component(schema, "RefundInRequest")["properties"]
    pattern = refund["shipping_amount"]["pattern"]  # ≥ 0, two places
    for good in ("0", "0.00", "12.5", ".5", "999999999999.99"):
        assert re.search(pattern, good), good
    for bad in ("", ".", "-", "-1.00", "1.234", "1e5", "1000000000000"):
        assert not re.search(pattern, bad), bad
    rate = _component(schema, "TaxRateRequest")["properties"]["rate"]["pattern"]  # 0 … 100, four places
    assert re.search(rate, "100.0000") and re.search(rate, "99.9999")
    assert not re.search(rate, "100.0001") and not re.search(rate, "101")


def test_countries_are_the_iso_codes(schema):
    codes = _component(schema, "CountryCode")["enum"]
    assert "US" in codes and "GB" in codes and "ZZ" not in codes and "UK" not in codes
    assert "#/components/schemas/CountryCode" in str(_component(schema, "AddressRequest")["properties"]["country"])


def test_bodies_that_refuse_unknown_fields_say_so(schema):
    for name in ("InvoiceInRequest", "ShipmentInRequest", "RefundInRequest", "OrderEditInRequest", "LineQtyInRequest"):
        assert _component(schema, name)["additionalProperties"] is False, name


def test_required_fields_stay_required_on_an_apiview_patch(schema):
    # CartItemView.patch and the order edit validate their body whole: no "Patched…" component.
    body = schema["paths"]["/api/admin/carts/{cart_id}/items/{item_id}"]["patch"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["$ref"].endswith("/CartItemUpdateInRequest")
    assert _component(schema, "CartItemUpdateInRequest")["required"] == ["quantity"]
    edit = _component(schema, "OrderEditInRequest")
    # items, addresses and staff_note are each optional (SPEC §12); at least one is needed (a 400 otherwise)
    assert "required" not in edit and edit["properties"]["items"]["minItems"] == 1
    assert set(edit["properties"]) == {"items", "billing_address", "shipping_address", "staff_note"}


def test_a_shipment_names_its_source(schema):
    shipment = _component(schema, "ShipmentInRequest")
    assert "inventory_source_id" in shipment["required"]
    assert "nullable" not in shipment["properties"]["inventory_source_id"]


def test_text_that_must_not_be_blank_needs_a_non_space(schema):
    assert _component(schema, "AddressRequest")["properties"]["city"]["pattern"] == r"\S"


def test_query_parameters_are_typed_and_bounded(schema):
    page_size = _query(schema, "/api/admin/orders", "get", "page_size")["schema"]
    assert page_size["minimum"] == 1 and page_size["maximum"] == 2**63 - 1
    assert _query(schema, "/api/admin/orders", "get", "min_id")["schema"]["minimum"] == 1
    assert _query(schema, "/api/admin/invoices", "get", "order")["schema"]["minimum"] == 1
    assert _query(schema, "/api/admin/orders", "get", "customer")["schema"]["type"] == "integer"
    when = _query(schema, "/api/admin/invoices", "get", "created_after")["schema"]
    assert {"format": "date-time"} in when["anyOf"] and {"maxLength": 0} in when["anyOf"]
    assert "paylink" in _query(schema, "/api/admin/orders/export.csv", "get", "payment_method")["schema"]["enum"]
    status = _query(schema, "/api/admin/orders", "delete", "status")["schema"]["pattern"]
    assert re.search(status, "pending, 3,closed") and re.search(status, "")
    assert not re.search(status, "pending,nope")
    ordering = _query(schema, "/api/admin/orders/export.csv", "get", "ordering")
    assert "-grand_total" in ordering["schema"]["items"]["enum"] and ordering["explode"] is False


def test_an_orders_author_is_documented_as_a_user(schema):
    created_by = _component(schema, "OrderDetail")["properties"]["created_by"]
    assert created_by["allOf"] == [{"$ref": "#/components/schemas/UserSummary"}] and created_by["nullable"] is True


def test_every_400_lists_unknown_parameter(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert "`unknown_parameter`" in operation["responses"]["400"]["description"], (method, path)


# ---------------------------------------------------------------- the API keeps to it

@pytest.mark.parametrize("query", ["page_size=0", f"page_size={2**63}", "page=0", "min_id=0", "customer=0"])
def test_integer_parameters_out_of_their_bounds_are_400(api, query):
    r = api.get(f"/api/admin/orders?{query}")
    assert r.status_code == 400, r.content[:200]
    assert r.json()["errors"][0]["field"] == query.split("=")[0]


def test_an_unsupported_method_is_405_whatever_else_is_wrong(api):
    placed_order()
    for method, path, extra in [
        ("put", "/api/admin/carts/1/coupon", {"HTTP_IDEMPOTENCY_KEY": "x" * 300}),  # key too long
        ("put", "/api/admin/logout", {"HTTP_IDEMPOTENCY_KEY": "x" * 300}),
        ("generic", "/api/admin/orders?format=nope", {}),  # a format no renderer has
        ("generic", "/api/admin/orders/restore?archived=maybe&bogus=1", {}),  # bad and unknown parameters
    ]:
        if method == "generic":
            r = api.generic("TRACE", path, **extra)
        else:
            r = getattr(api, method)(path, {}, format="json", **extra)
        assert r.status_code == 405, (path, r.status_code, r.content[:200])
        assert r.json()["code"] == "method_not_allowed"
        assert r["Allow"]


def test_a_stock_line_in_a_product_patch_is_whole(api):
    # DRF reads nested entries partially along with a PATCH; a line without qty was a 500.
    product = ProductFactory(stock=5)
    r = api.patch(f"/api/admin/products/{product.id}", {"inventories": [{"inventory_source_id": default_source().id}]},
                  format="json")
    assert r.status_code == 400, r.content[:300]
    assert r.json()["errors"][0]["field"] == "inventories.0.qty"
    assert ProductInventory.objects.get(product=product).qty == 5


def test_an_address_in_a_customer_patch_is_whole(api):
    # A saved address missing its city, postcode and country was stored blank.
    customer = CustomerFactory()
    r = api.patch(f"/api/admin/customers/{customer.id}", {"addresses": [{"first_name": "A", "last_name": "B",
                                                                          "line_1": "1 Main St"}]}, format="json")
    assert r.status_code == 400, r.content[:300]
    assert {e["field"] for e in r.json()["errors"]} == {"addresses.0.city", "addresses.0.postcode", "addresses.0.country"}
    assert not customer.addresses.exists()


def test_an_order_detail_has_its_author_as_a_user(api, admin_user):
    order = placed_order()
    order.created_by = admin_user
    order.save(update_fields=["created_by"])
    body = api.get(f"/api/admin/orders/{order.id}").json()
    assert body["created_by"] == {"id": admin_user.id, "email": admin_user.email, "name": admin_user.name}


def test_demo_customers_have_addresses_the_api_accepts():
    assert email_local("Øystein") == "oystein" and email_local("Zoë") == "zoe" and email_local("Brontë") == "bronte"
    call_command("seed_demo", orders=3, no_progress=True, workers=0, verbosity=0)
    for email in Customer.objects.values_list("email", flat=True):
        validate_email(email)


# ---------------------------------------------------------------- JSON types as the schema states them

@pytest.mark.parametrize("make, body, field", [
    # DRF would store 1111 as "1111", read "2" as 2, "yes" as true and 5 as 5.00: each is a 400.
    (lambda: "/api/admin/customers", {"email": "a@example.com", "addresses": [
        {"first_name": "A", "last_name": "B", "line_1": "1 Main St", "city": "X", "postcode": 1111, "country": "US"}]},
     "addresses.0.postcode"),
    (lambda: "/api/admin/customers", {"email": "a@example.com", "last_name": 1472}, "last_name"),
    (lambda: f"/api/admin/orders/{placed_order().id}/comments", {"comment": "hi", "customer_notified": "yes"},
     "customer_notified"),
    (lambda: f"/api/admin/orders/{placed_order().id}/refunds/preview", {"shipping_amount": 5}, "shipping_amount"),
    (lambda: f"/api/admin/orders/{placed_order().id}/invoices", {"items": [{"order_item_id": "1", "quantity": 1}]},
     "items.0.order_item_id"),
])
def test_a_value_of_another_json_type_is_400_naming_it(api, make, body, field):
    url = make()
    customers = Customer.objects.count()
    r = api.post(url, body, format="json")
    assert r.status_code == 400, r.content[:300]
    error = r.json()["errors"][0]
    assert (r.json()["code"], error["field"], error["code"]) == ("validation_error", field, "invalid")
    assert Customer.objects.count() == customers


def test_an_unknown_order_is_404_before_its_body_is_judged(api):
    # SPEC §5: the path's ids, then the request's shape.
    r = api.post("/api/admin/orders/999999/invoices", {"items": [{"order_item_id": "1", "quantity": 1}]},
                 format="json")
    assert r.status_code == 404, r.content[:300]


# ---------------------------------------------------------------- answers match their documented schema

def _openapi_30_to_json_schema(node):
    """OpenAPI 3.0's `nullable: true` is JSON Schema's extra "null" type; the rest is shared."""
    if isinstance(node, list):
        return [_openapi_30_to_json_schema(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: _openapi_30_to_json_schema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


def _assert_matches(schema, path, method, status, body):
    from jsonschema import Draft4Validator

    content = schema["paths"][path][method]["responses"][str(status)]["content"]["application/json"]["schema"]
    document = {**_openapi_30_to_json_schema(content), "components": _openapi_30_to_json_schema(schema["components"])}
    errors = sorted(Draft4Validator(document).iter_errors(body), key=str)
    assert not errors, errors[0].message


@pytest.mark.parametrize("dry_run", [True, False])
def test_an_edit_and_its_dry_run_both_match_the_documented_answer(api, schema, dry_run):
    # Schemathesis found it: PATCH ?dry_run=true answered the §11 dry-run shape where the schema said OrderDetail.
    order = placed_order()
    suffix = "?dry_run=true" if dry_run else ""
    r = api.patch(f"/api/admin/orders/{order.id}{suffix}", {"staff_note": "call first"}, format="json")
    assert r.status_code == 200, r.content[:300]
    assert ("dry_run" in r.json()) is dry_run
    _assert_matches(schema, "/api/admin/orders/{order_id}", "patch", 200, r.json())


@pytest.mark.parametrize("action, status", [("invoices", 200), ("cancel", 200)])
def test_dry_runs_of_actions_match_the_documented_answer(api, schema, action, status):
    order = placed_order()
    r = api.post(f"/api/admin/orders/{order.id}/{action}?dry_run=true", {}, format="json")
    assert r.status_code == status, r.content[:300]
    _assert_matches(schema, f"/api/admin/orders/{{order_id}}/{action}", "post", status, r.json())


def test_timestamps_always_carry_their_fraction(api):
    """SPEC §5: ISO 8601 with at least millisecond precision, also when the fraction is zero (an
    imported order's ordered_at) — in the detail, the list's fast rows and documents alike."""
    from datetime import UTC, datetime

    from sales.models import Order

    order = placed_order()
    Order.objects.filter(id=order.id).update(created_at=datetime(2024, 2, 1, 10, 0, tzinfo=UTC))
    assert api.get(f"/api/admin/orders/{order.id}").json()["created_at"] == "2024-02-01T10:00:00.000000Z"
    row = next(r for r in api.get("/api/admin/orders").json()["results"] if r["id"] == order.id)
    assert row["created_at"] == "2024-02-01T10:00:00.000000Z"
    stamp = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
    assert stamp.match(row["updated_at"])
    invoice = api.post(f"/api/admin/orders/{order.id}/invoices", {}, format="json").json()
    assert stamp.match(invoice["created_at"])
