"""SPEC §3, §7.3: inventory sources, tax categories, currencies and the migrated defaults."""

from decimal import Decimal

import pytest

from carts.models import PaymentMethod, ShippingMethod
from catalog.models import Currency, InventorySource, TaxCategory, TaxRate
from tests.catalog.factories import InventorySourceFactory

pytestmark = pytest.mark.django_db

PICKUP_ADDRESS = {"line_1": "5 Market Sq", "city": "Lyon", "postcode": "69001", "country": "fr"}


# ---------------------------------------------------------------- migrated defaults


def test_defaults_exist_after_migrate(db):
    default = InventorySource.objects.get(code="default")
    assert default.active
    methods = {m.code: m for m in ShippingMethod.objects.all()}
    assert set(methods) == {"flatrate", "free", "pickup"}
    assert all(m.enabled for m in methods.values())
    assert methods["flatrate"].amount == Decimal("5.00")
    assert methods["flatrate"].calc == "per_order"
    assert set(PaymentMethod.objects.filter(enabled=True).values_list("code", flat=True)) == {
        "cashondelivery", "moneytransfer", "paypal_standard", "paylink"}
    assert set(Currency.objects.filter(enabled=True).values_list("code", flat=True)) == {"USD", "EUR", "GBP"}


# ---------------------------------------------------------------- inventory sources


def test_list_inventory_sources_includes_the_default(api):
    r = api.get("/api/admin/inventory-sources")
    assert r.status_code == 200, r.content
    results = r.json()["results"]
    assert [s["code"] for s in results] == ["default"]
    assert results[0]["active"] is True
    assert results[0]["pickup_enabled"] is False
    assert results[0]["address"] is None


def test_create_inventory_source(api):
    r = api.post("/api/admin/inventory-sources", {"code": "east", "name": "East warehouse", "priority": 5},
                 format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["code"] == "east"
    assert r.json()["pickup_enabled"] is False
    source = InventorySource.objects.get(code="east")
    assert source.priority == 5 and source.active
    codes = [s["code"] for s in api.get("/api/admin/inventory-sources").json()["results"]]
    assert codes == ["default", "east"]


def test_pickup_source_needs_an_address(api):
    r = api.post("/api/admin/inventory-sources", {"code": "shop", "name": "Shop", "pickup_enabled": True},
                 format="json")
    assert r.status_code == 400
    assert r.json()["code"] == "validation_error"
    assert r.json()["errors"][0]["field"] == "address"
    assert not InventorySource.objects.filter(code="shop").exists()


def test_pickup_source_with_address_names_optional(api):
    r = api.post("/api/admin/inventory-sources", {"code": "shop", "name": "Shop Lyon", "pickup_enabled": True,
                                                  "address": PICKUP_ADDRESS}, format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["address"]["city"] == "Lyon"
    assert r.json()["address"]["country"] == "FR"
    source = InventorySource.objects.get(code="shop")
    assert source.pickup_enabled
    assert source.address["country"] == "FR"
    assert source.address["postcode"] == "69001"
    listed = {s["code"]: s for s in api.get("/api/admin/inventory-sources").json()["results"]}
    assert listed["shop"]["address"]["line_1"] == "5 Market Sq"


def test_pickup_address_still_needs_the_place_fields(api):
    r = api.post("/api/admin/inventory-sources", {"code": "shop", "name": "Shop", "pickup_enabled": True,
                                                  "address": {"city": "Lyon", "country": "FR"}}, format="json")
    assert r.status_code == 400
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"address.line_1", "address.postcode"} <= fields


def test_duplicate_inventory_source_code_is_409(api):
    InventorySourceFactory(code="east")
    r = api.post("/api/admin/inventory-sources", {"code": "east", "name": "Again"}, format="json")
    assert r.status_code == 409
    assert r.json()["code"] == "code_taken"
    assert InventorySource.objects.filter(code="east").count() == 1


# ---------------------------------------------------------------- tax categories


def test_create_tax_category_with_rates(api):
    r = api.post("/api/admin/tax-categories", {"code": "standard", "name": "Standard", "rates": [
        {"country": "us", "rate": "7.25"},
        {"country": "US", "zone": "CA", "rate": "9.5"},
        {"country": "DE", "zone": None, "rate": "19"},
    ]}, format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["code"] == "standard"
    assert sorted((x["country"], x["zone"], x["rate"]) for x in body["rates"]) == [
        ("DE", "", "19.0000"), ("US", "", "7.2500"), ("US", "CA", "9.5000")]
    category = TaxCategory.objects.get(code="standard")
    assert TaxRate.objects.filter(category=category).count() == 3
    listed = api.get("/api/admin/tax-categories").json()["results"]
    assert listed[0]["code"] == "standard" and len(listed[0]["rates"]) == 3


def test_tax_category_without_rates(api):
    r = api.post("/api/admin/tax-categories", {"code": "exempt", "name": "Exempt"}, format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["rates"] == []


def test_product_takes_tax_category_id(api):
    category_id = api.post("/api/admin/tax-categories", {"code": "std", "name": "Std"}, format="json").json()["id"]
    r = api.post("/api/admin/products", {"sku": "X", "name": "X", "price": "1.00", "tax_category_id": category_id},
                 format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["tax_category_id"] == category_id


def test_duplicate_rate_is_refused_and_nothing_written(api):
    r = api.post("/api/admin/tax-categories", {"code": "std", "name": "Std", "rates": [
        {"country": "US", "rate": "5"}, {"country": "US", "zone": "", "rate": "6"}]}, format="json")
    assert r.status_code == 409
    assert r.json()["code"] == "duplicate_rate"
    assert r.json()["errors"][0]["field"] == "rates.1"
    assert not TaxCategory.objects.filter(code="std").exists()


def test_duplicate_tax_category_code_is_409(api):
    api.post("/api/admin/tax-categories", {"code": "std", "name": "Std"}, format="json")
    r = api.post("/api/admin/tax-categories", {"code": "std", "name": "Again"}, format="json")
    assert r.status_code == 409
    assert r.json()["code"] == "code_taken"


@pytest.mark.parametrize("rate,field", [
    ({"country": "USA", "rate": "5"}, "rates.0.country"),
    ({"country": "1X", "rate": "5"}, "rates.0.country"),
    ({"country": "ÜS", "rate": "5"}, "rates.0.country"),
    ({"country": "US", "rate": "-1"}, "rates.0.rate"),
    ({"country": "US", "rate": "101"}, "rates.0.rate"),
    ({"country": "US"}, "rates.0.rate"),
])
def test_invalid_rate_is_400(api, rate, field):
    r = api.post("/api/admin/tax-categories", {"code": "std", "name": "Std", "rates": [rate]}, format="json")
    assert r.status_code == 400
    assert r.json()["code"] == "validation_error"
    assert r.json()["errors"][0]["field"] == field
    assert TaxCategory.objects.count() == 0


# ---------------------------------------------------------------- currencies


def test_currency_list(api):
    r = api.get("/api/admin/currencies")
    assert r.status_code == 200
    by_code = {c["code"]: c for c in r.json()}
    assert set(by_code) == {"USD", "EUR", "GBP"}
    assert Decimal(by_code["USD"]["rate"]) == 1
    assert all(c["enabled"] for c in by_code.values())
