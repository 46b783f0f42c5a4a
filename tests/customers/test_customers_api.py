"""SPEC §3: customers with saved addresses."""

import pytest

from customers.models import Customer, CustomerAddress
from tests.customers.factories import CustomerAddressFactory, CustomerFactory, address

pytestmark = pytest.mark.django_db

URL = "/api/admin/customers"


def test_create_customer_with_addresses(api):
    r = api.post(URL, {"email": " Ann@Example.COM ", "first_name": "Ann", "last_name": "Lee", "phone": "+44 20",
                       "addresses": [address(country="gb", zone=""), address(city="Leeds", is_default_billing=True)]},
                 format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["email"] == "ann@example.com"
    assert body["name"] == "Ann Lee"
    assert len(body["addresses"]) == 2
    assert body["addresses"][0]["country"] == "GB"
    assert body["addresses"][1]["is_default_billing"] is True
    customer = Customer.objects.get(email="ann@example.com")
    assert customer.addresses.count() == 2
    assert set(customer.addresses.values_list("city", flat=True)) == {"Springfield", "Leeds"}


def test_duplicate_email_is_409_case_insensitive(api):
    CustomerFactory(email="ann@example.com")
    r = api.post(URL, {"email": "ANN@example.com"}, format="json")
    assert r.status_code == 409
    assert r.json()["code"] == "customer_email_taken"
    assert r.json()["errors"][0]["field"] == "email"
    assert Customer.objects.count() == 1


@pytest.mark.parametrize("body,field", [
    ({}, "email"),
    ({"email": "not-an-email"}, "email"),
    ({"email": "a@example.com", "addresses": [{"first_name": "A"}]}, "addresses.0.last_name"),
    ({"email": "a@example.com", "addresses": [address(country="USA")]}, "addresses.0.country"),
    ({"email": "a@example.com", "addresses": [address(country="1X")]}, "addresses.0.country"),
])
def test_invalid_customer_is_400(api, body, field):
    r = api.post(URL, body, format="json")
    assert r.status_code == 400
    assert r.json()["code"] == "validation_error"
    assert field in [e["field"] for e in r.json()["errors"]]
    assert Customer.objects.count() == 0


def test_get_customer(api):
    customer = CustomerFactory(email="bo@example.com", first_name="Bo", last_name="Ek")
    CustomerAddressFactory(customer=customer, city="Malmo")
    r = api.get(f"{URL}/{customer.id}")
    assert r.status_code == 200
    assert r.json()["name"] == "Bo Ek"
    assert r.json()["addresses"][0]["city"] == "Malmo"
    assert api.get(f"{URL}/999999").status_code == 404


def test_patch_customer_and_replace_address_book(api):
    customer = CustomerFactory(email="bo@example.com", first_name="Bo")
    CustomerAddressFactory(customer=customer, city="Old town")
    r = api.patch(f"{URL}/{customer.id}", {"first_name": "Bob", "email": "BOB@example.com",
                                           "addresses": [address(city="New town")]}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["first_name"] == "Bob"
    assert r.json()["email"] == "bob@example.com"
    customer.refresh_from_db()
    assert customer.email == "bob@example.com"
    assert list(customer.addresses.values_list("city", flat=True)) == ["New town"]


def test_patch_without_addresses_keeps_them(api):
    customer = CustomerFactory()
    CustomerAddressFactory(customer=customer)
    r = api.patch(f"{URL}/{customer.id}", {"phone": "123"}, format="json")
    assert r.status_code == 200
    assert CustomerAddress.objects.filter(customer=customer).count() == 1


def test_patch_to_a_taken_email_is_409(api):
    CustomerFactory(email="taken@example.com")
    customer = CustomerFactory(email="mine@example.com")
    r = api.patch(f"{URL}/{customer.id}", {"email": "Taken@example.com"}, format="json")
    assert r.status_code == 409
    assert r.json()["code"] == "customer_email_taken"
    customer.refresh_from_db()
    assert customer.email == "mine@example.com"


def test_list_and_filters(api):
    a = CustomerFactory(email="ann@example.com", first_name="Ann", last_name="Smith")
    b = CustomerFactory(email="bob@shop.test", first_name="Bob", last_name="Jones")
    r = api.get(URL)
    assert r.status_code == 200
    assert [c["id"] for c in r.json()["results"]] == [a.id, b.id]
    assert [c["id"] for c in api.get(URL, {"search": "jones"}).json()["results"]] == [b.id]
    assert [c["id"] for c in api.get(URL, {"search": "EXAMPLE"}).json()["results"]] == [a.id]
    assert [c["id"] for c in api.get(URL, {"email": "BOB@shop.test"}).json()["results"]] == [b.id]
