"""Direct create keeps what it is given, visibly (SPEC §7.1, revised): the buyer's details come
back as the order's `client`, countries are real ISO 3166-1 codes, metadata values are strings,
and parts of a request that cannot all be kept are refused — never silently dropped."""

from decimal import Decimal

import pytest
from django.db.models import Sum
from drf_spectacular.generators import SchemaGenerator

from carts.models import Cart, CouponUsage
from catalog.models import Product
from customers.models import Customer
from sales.models import Order, OrderEvent, OrderItem
from tests.carts.factories import CouponFactory
from tests.catalog.factories import InventorySourceFactory, ProductFactory
from tests.customers.factories import address
from tests.sales.helpers import placed_order

pytestmark = pytest.mark.django_db

URL = "/api/admin/orders"
CLIENT = {"ip": "203.0.113.9", "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", "country": "de",
          "affiliate_code": "partner-42", "return_url": "https://shop.example.com/thanks?o=1"}
NO_CLIENT = {"ip": None, "user_agent": None, "country": None, "affiliate_code": None, "return_url": None}


def written() -> dict:
    """Everything a direct create writes, counted: a refused request leaves all of it as it was."""
    return {"orders": Order.objects.count(), "items": OrderItem.objects.count(),
            "customers": Customer.objects.count(), "events": OrderEvent.objects.count(),
            "carts": Cart.objects.count(), "coupon_uses": CouponUsage.objects.count(),
            "reserved": Product.objects.aggregate(n=Sum("qty_reserved"))["n"] or 0}


def refused(r, field: str) -> None:
    assert r.status_code == 400, r.content
    body = r.json()
    assert body["code"] == "validation_error", body
    assert field in [e["field"] for e in body["errors"]], body


def test_client_details_are_stored_and_shown_in_the_detail(api):
    r = api.post(URL, {"email": "buyer@example.com", "cost": "10.00", **CLIENT}, format="json")
    assert r.status_code == 201, r.json()
    expected = {**CLIENT, "country": "DE"}  # stored upper-case
    assert r.json()["client"] == expected
    assert api.get(f"{URL}/{r.json()['id']}").json()["client"] == expected
    assert Order.objects.get(id=r.json()["id"]).client == expected


def test_client_details_of_an_item_order(api):
    p = ProductFactory(price=Decimal("5.00"), stock=5)
    r = api.post(URL, {"email": "buyer@example.com", "items": [{"product_id": p.id, "quantity": 1}],
                       "payment_method": "cashondelivery", "ip": "2001:db8::1", "country": "GB"}, format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["client"] == {**NO_CLIENT, "ip": "2001:db8::1", "country": "GB"}


@pytest.mark.parametrize("given", [{}, {"ip": "", "user_agent": "", "country": "", "affiliate_code": "",
                                        "return_url": ""}])
def test_client_is_all_null_when_nothing_was_given(api, given):
    r = api.post(URL, {"email": "buyer@example.com", "cost": "10.00", **given}, format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["client"] == NO_CLIENT


def test_an_order_placed_from_a_cart_has_the_same_client_object_with_nulls(api):
    order = placed_order()
    assert api.get(f"{URL}/{order.id}").json()["client"] == NO_CLIENT


def test_the_longest_valid_ipv6_form_is_accepted_and_kept_as_given(api):
    ip = "0000:0000:0000:0000:0000:ffff:255.255.255.255"  # 45 characters, the documented limit
    r = api.post(URL, {"email": "buyer@example.com", "cost": "10.00", "ip": ip}, format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["client"]["ip"] == ip


@pytest.mark.parametrize("ip", ["999.1.1.1", "fe80::1%eth0", "1.2.3", "example.com", "::g"])
def test_an_invalid_ip_is_refused(api, ip):
    before = written()
    refused(api.post(URL, {"email": "buyer@example.com", "cost": "10.00", "ip": ip}, format="json"), "ip")
    assert written() == before


# ---------------------------------------------------------------- countries


@pytest.mark.parametrize("country", ["ZZ", "zz", "UK", "XK", "EU", "U1", "USA", "ÜS", "1X"])
def test_a_country_that_does_not_exist_is_refused(api, country):
    before = written()
    refused(api.post(URL, {"email": "buyer@example.com", "cost": "10.00", "country": country}, format="json"),
            "country")
    assert written() == before


@pytest.mark.parametrize("field", ["billing_address", "shipping_address"])
def test_an_address_country_that_does_not_exist_is_refused(api, field):
    p = ProductFactory(stock=5)
    before = written()
    r = api.post(URL, {"email": "buyer@example.com", "items": [{"product_id": p.id, "quantity": 1}],
                       "shipping_method": {"code": "flatrate"}, "billing_address": address(),
                       field: address(country="ZZ")}, format="json")
    refused(r, f"{field}.country")
    assert written() == before


def test_address_countries_are_accepted_in_any_case_and_stored_upper_case(api):
    p = ProductFactory(stock=5)
    r = api.post(URL, {"email": "buyer@example.com", "items": [{"product_id": p.id, "quantity": 1}],
                       "payment_method": "cashondelivery", "shipping_method": {"code": "flatrate"},
                       "billing_address": address(country="fr"), "shipping_address": address(country="Nl")},
                 format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["billing_address"]["country"] == "FR" and r.json()["shipping_address"]["country"] == "NL"


# ---------------------------------------------------------------- metadata


def test_metadata_is_kept_exactly(api):
    metadata = {"ref": "7", "empty": "", "unicode": "Grüße ✓", "k" * 40: "v" * 500}
    r = api.post(URL, {"email": "buyer@example.com", "cost": "10.00", "metadata": metadata}, format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["metadata"] == metadata


@pytest.mark.parametrize("value", [7, 1.5, True, None, ["a"], {"a": "b"}])
def test_metadata_values_must_be_strings(api, value):
    before = written()
    refused(api.post(URL, {"email": "buyer@example.com", "cost": "10.00", "metadata": {"ref": value}},
                     format="json"), "metadata")
    assert written() == before


# ---------------------------------------------------------------- combinations refused, never dropped


def test_a_coupon_with_cost_is_refused_on_coupon_code(api):
    CouponFactory(code="TENOFF")
    before = written()
    refused(api.post(URL, {"email": "new-buyer@example.com", "cost": "10.00", "coupon_code": "TENOFF"},
                     format="json"), "coupon_code")
    assert written() == before


def test_a_shipping_method_with_cost_is_refused_on_shipping_method(api):
    before = written()
    refused(api.post(URL, {"email": "new-buyer@example.com", "cost": "10.00", "shipping_method": {"code": "flatrate"}},
                     format="json"), "shipping_method")
    assert written() == before


@pytest.fixture
def pickup_location():
    return InventorySourceFactory(pickup_enabled=True, address=address(first_name="", last_name="",
                                                                       city="Lyon", country="FR"))


def test_pickup_with_a_shipping_address_is_refused_on_shipping_address(api, pickup_location):
    p = ProductFactory(stock=5)
    before = written()
    r = api.post(URL, {"email": "new-buyer@example.com", "items": [{"product_id": p.id, "quantity": 2}],
                       "payment_method": "cashondelivery", "billing_address": address(),
                       "shipping_address": address(), "shipping_method": {"code": "pickup",
                                                                          "location_id": pickup_location.id}},
                 format="json")
    refused(r, "shipping_address")
    assert written() == before


def test_pickup_without_a_shipping_address_is_placed(api, pickup_location):
    p = ProductFactory(stock=5)
    r = api.post(URL, {"email": "new-buyer@example.com", "items": [{"product_id": p.id, "quantity": 2}],
                       "payment_method": "cashondelivery", "billing_address": address(),
                       "shipping_method": {"code": "pickup", "location_id": pickup_location.id}}, format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["fulfillment_type"] == "pickup" and r.json()["shipping_address"] is None


# ---------------------------------------------------------------- schema and admin


def test_the_schema_documents_client_with_nullable_fields():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    detail = components["OrderDetail"]["properties"]
    assert "client" in detail and "client" in components["OrderDetail"]["required"]
    ref = detail["client"]["allOf"][0]["$ref"].rsplit("/", 1)[1]
    props = components[ref]["properties"]
    assert set(props) == {"ip", "user_agent", "country", "affiliate_code", "return_url"}
    assert all(p.get("nullable") for p in props.values())
    request = components["DirectOrderInRequest"]["properties"]
    assert request["metadata"]["additionalProperties"] == {"type": "string", "maxLength": 500}
    assert request["ip"]["maxLength"] == 45 and request["email"]["maxLength"] == 256
    # A country is one of the ISO 3166-1 alpha-2 codes (the CountryCode component).
    assert "#/components/schemas/CountryCode" in str(components["AddressRequest"]["properties"]["country"])
    assert components["CountryCode"]["maxLength"] == 2 and "GB" in components["CountryCode"]["enum"]


def test_admin_order_page_shows_the_client_details(api, admin_client):
    r = api.post(URL, {"email": "buyer@example.com", "cost": "10.00", "metadata": {"campaign": "spring"}, **CLIENT},
                 format="json")
    page = admin_client.get(f"/admin/sales/order/{r.json()['id']}/change/").content.decode()
    assert 'id="order-client"' in page
    for text in ("203.0.113.9", "Firefox/128.0", "DE (Germany)", "partner-42", "https://shop.example.com/thanks?o=1",
                 "campaign", "spring"):
        assert text in page, text


def test_admin_order_page_without_client_details_has_no_client_panel(admin_client):
    order = placed_order()
    page = admin_client.get(f"/admin/sales/order/{order.id}/change/").content.decode()
    assert 'id="order-client"' not in page
