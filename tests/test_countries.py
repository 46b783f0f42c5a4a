"""Countries are ISO 3166-1 alpha-2 codes that exist, in any case, stored upper-case (SPEC §3,
§7.1) — in every address (carts, orders, import, customers' address books, pickup locations,
direct create), in tax rates, and in the admin's forms alike."""

from __future__ import annotations

import pytest

from carts.models import Cart
from carts.services import carts as cart_services
from catalog.admin import InventorySourceForm, TaxRateForm
from catalog.models import InventorySource, TaxCategory, TaxRate
from config.countries import COUNTRY_CODES, country_code_clean
from customers.admin import CustomerAddressForm, CustomerForm
from customers.models import Customer, CustomerAddress
from sales.admin.forms import AddressForm, CustomerCreateForm
from sales.models import Order
from tests.customers.factories import CustomerFactory, address

pytestmark = pytest.mark.django_db

UNKNOWN = ["ZZ", "zz", "UK", "XK", "EU", "AA", "U1", "ÜS", "USA", "U"]


def test_the_list_is_iso_3166_1_complete():
    assert len(COUNTRY_CODES) == 249
    assert {"US", "GB", "DE", "FR", "SS", "CW", "BQ", "AX", "TW", "PS"} <= COUNTRY_CODES
    assert not {"UK", "XK", "EU", "ZZ", "AN"} & COUNTRY_CODES  # AN (Netherlands Antilles) left ISO 3166-1 in 2010
    assert country_code_clean(" gb ") == "GB"
    for bad in ("ZZ", "", "G", "GBR"):
        with pytest.raises(ValueError):
            country_code_clean(bad)


def _new_cart() -> dict:
    return {"cart": cart_services.cart_create(customer_id=CustomerFactory().id)}


def _cart(api, ctx, country):
    return api.post(f"/api/admin/carts/{ctx['cart'].id}/addresses", {"billing": address(country=country),
                                                                     "shipping_same_as_billing": True}, format="json")


def _customer(api, ctx, country):
    return api.post("/api/admin/customers", {"email": "c@example.com", "addresses": [address(country=country)]},
                    format="json")


def _source(api, ctx, country):
    return api.post("/api/admin/inventory-sources", {"code": "lyon", "name": "Lyon", "pickup_enabled": True,
                                                     "address": address(country=country)}, format="json")


def _tax(api, ctx, country):
    return api.post("/api/admin/tax-categories", {"code": "std", "name": "Standard",
                                                  "rates": [{"country": country, "rate": "20"}]}, format="json")


def _import(api, ctx, country):
    return api.post("/api/admin/orders/import", {
        "reference": "REF-C", "email": "b@example.com", "notify": False, "billing_address": address(country=country),
        "items": [{"sku": "X-1", "name": "Thing", "quantity": 1, "price": {"amount": 1000, "tax": 0}}]}, format="json")


def _direct(api, ctx, country):
    return api.post("/api/admin/orders", {"email": "b@example.com", "cost": "5.00",
                                          "billing_address": address(country=country)}, format="json")


def _direct_client(api, ctx, country):
    return api.post("/api/admin/orders", {"email": "b@example.com", "cost": "5.00", "country": country}, format="json")


WHERE = [
    # (id, setup, send, stored, field)
    ("cart", _new_cart, _cart, lambda c: Cart.objects.get(id=c["cart"].id).billing_address["country"],
     "billing.country"),
    ("customer", dict, _customer, lambda c: CustomerAddress.objects.get().country, "addresses.0.country"),
    ("inventory_source", dict, _source, lambda c: InventorySource.objects.get(code="lyon").address["country"],
     "address.country"),
    ("tax_rate", dict, _tax, lambda c: TaxRate.objects.get(category__code="std").country, "rates.0.country"),
    ("import", dict, _import, lambda c: Order.objects.get(reference="REF-C").billing_address["country"],
     "billing_address.country"),
    ("direct", dict, _direct, lambda c: Order.objects.get().billing_address["country"], "billing_address.country"),
    ("direct.client", dict, _direct_client, lambda c: Order.objects.get().client["country"], "country"),
]


def _written():
    return (Order.objects.count(), Customer.objects.count(), CustomerAddress.objects.count(),
            InventorySource.objects.count(), TaxCategory.objects.count(), TaxRate.objects.count(),
            list(Cart.objects.order_by("id").values_list("id", "billing_address", "shipping_address")))


@pytest.mark.parametrize("setup,send,stored,field", [w[1:] for w in WHERE], ids=[w[0] for w in WHERE])
@pytest.mark.parametrize("country", ["fr", "Fr", "FR"])
def test_a_country_in_any_case_is_stored_upper_case(api, setup, send, stored, field, country):
    ctx = setup()
    r = send(api, ctx, country)
    assert r.status_code in (200, 201), r.json()
    assert stored(ctx) == "FR"


@pytest.mark.parametrize("setup,send,stored,field", [w[1:] for w in WHERE], ids=[w[0] for w in WHERE])
@pytest.mark.parametrize("country", UNKNOWN)
def test_a_country_that_does_not_exist_is_a_400_on_the_field_and_writes_nothing(api, setup, send, stored, field,
                                                                               country):
    ctx = setup()
    before = _written()
    r = send(api, ctx, country)
    assert r.status_code == 400, r.json()
    assert r.json()["code"] == "validation_error"
    assert field in [e["field"] for e in r.json()["errors"]], r.json()
    assert _written() == before


# ---------------------------------------------------------------- the admin's forms


def _address_post(country: str) -> dict:
    return address(country=country)


@pytest.mark.parametrize("make", [
    lambda c: AddressForm(data=_address_post(c)),
    lambda c: CustomerAddressForm(data=_address_post(c)),
    lambda c: InventorySourceForm(data={"code": "x", "name": "X", "priority": 1, "address_line_1": "1 Rue",
                                        "address_city": "Lyon", "address_postcode": "69001", "address_country": c}),
    lambda c: TaxRateForm(data={"country": c, "zone": "", "rate": "20"}),
], ids=["wizard_address", "customer_address", "inventory_source", "tax_rate"])
def test_admin_forms_check_the_country_the_same_way(make):
    form = make("ZZ")
    assert not form.is_valid()
    assert any(name in form.errors for name in ("country", "address_country")), form.errors
    form = make("de")
    form.is_valid()
    assert not ({"country", "address_country"} & set(form.errors)), form.errors
    cleaned = form.cleaned_data.get("country") or form.cleaned_data.get("address_country")
    assert cleaned == "DE"


@pytest.mark.parametrize("form_class", [CustomerCreateForm, CustomerForm])
def test_admin_customer_forms_check_the_e_mail_at_its_stored_length(form_class):
    form = form_class(data={"email": "İ" * 200 + "@example.com"})
    assert not form.is_valid() and "email" in form.errors
    form = form_class(data={"email": "  Jane@Example.COM "})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["email"] == "jane@example.com"
