"""SPEC §3: products with stock per source and saleable quantity."""

from decimal import Decimal

import pytest

from catalog.models import Product, ProductInventory
from tests.carts.helpers import ready_cart
from tests.catalog.factories import InventorySourceFactory, ProductFactory, TaxCategoryFactory, default_source

pytestmark = pytest.mark.django_db

URL = "/api/admin/products"


def test_create_product_with_stock_per_source(api):
    default = default_source()
    second = InventorySourceFactory(code="east")
    tax = TaxCategoryFactory()
    r = api.post(URL, {"sku": "TEE-1", "name": "T-shirt", "type": "simple", "price": "19.99", "weight": "0.250",
                       "tax_category_id": tax.id,
                       "inventories": [{"inventory_source_id": default.id, "qty": 7},
                                       {"inventory_source_id": second.id, "qty": 3}]}, format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["sku"] == "TEE-1"
    assert body["price"] == "19.99"
    assert body["status"] == "enabled"
    assert body["tax_category_id"] == tax.id
    assert body["parent_id"] is None
    assert body["saleable_qty"] == 10
    assert sorted((i["inventory_source_id"], i["qty"]) for i in body["inventories"]) == [(default.id, 7),
                                                                                         (second.id, 3)]
    product = Product.objects.get(sku="TEE-1")
    assert product.price == Decimal("19.99")
    assert product.weight == Decimal("0.250")
    assert {i.source_id: i.qty for i in product.inventories.all()} == {default.id: 7, second.id: 3}


def test_get_product(api):
    product = ProductFactory(sku="G-1", price=Decimal("2.50"), stock=4)
    r = api.get(f"{URL}/{product.id}")
    assert r.status_code == 200
    assert r.json()["sku"] == "G-1"
    assert r.json()["price"] == "2.50"
    assert r.json()["saleable_qty"] == 4


def test_unknown_product_is_404(api):
    r = api.get(f"{URL}/987654")
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"


def test_saleable_qty_counts_active_sources_minus_reserved(api):
    product = ProductFactory(stock=5)
    closed = InventorySourceFactory(active=False)
    ProductInventory.objects.create(product=product, source=closed, qty=100)
    assert api.get(f"{URL}/{product.id}").json()["saleable_qty"] == 5
    cart = ready_cart((product, 2))
    assert api.post(f"/api/admin/orders/place/{cart.id}").status_code == 201
    assert api.get(f"{URL}/{product.id}").json()["saleable_qty"] == 3
    listed = api.get(URL, {"sku": product.sku}).json()["results"]
    assert listed[0]["saleable_qty"] == 3


def test_virtual_product_has_no_saleable_qty(api):
    r = api.post(URL, {"sku": "EBOOK", "name": "E-book", "type": "virtual", "price": "5.00"}, format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["saleable_qty"] is None


def test_patch_product_fields_and_stock(api):
    product = ProductFactory(name="Old", price=Decimal("1.00"), stock=2)
    other = InventorySourceFactory()
    r = api.patch(f"{URL}/{product.id}", {"name": "New", "price": "3.30", "status": "disabled",
                                          "inventories": [{"inventory_source_id": default_source().id, "qty": 9},
                                                          {"inventory_source_id": other.id, "qty": 1}]},
                  format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["name"] == "New"
    assert r.json()["price"] == "3.30"
    assert r.json()["status"] == "disabled"
    assert r.json()["saleable_qty"] == 10
    product.refresh_from_db()
    assert (product.name, product.price, product.status) == ("New", Decimal("3.30"), "disabled")


def test_patch_without_inventories_keeps_stock(api):
    product = ProductFactory(stock=6)
    r = api.patch(f"{URL}/{product.id}", {"name": "Renamed"}, format="json")
    assert r.status_code == 200
    assert r.json()["saleable_qty"] == 6


def test_variant_of_a_configurable_product(api):
    parent = ProductFactory(type="configurable", sku="SHIRT")
    r = api.post(URL, {"sku": "SHIRT-M", "name": "Shirt M", "price": "10.00", "parent_id": parent.id},
                 format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["parent_id"] == parent.id
    assert Product.objects.get(sku="SHIRT-M").parent_id == parent.id


def test_parent_must_be_configurable(api):
    simple = ProductFactory()
    r = api.post(URL, {"sku": "V", "name": "V", "price": "1.00", "parent_id": simple.id}, format="json")
    assert r.status_code == 400
    assert r.json()["code"] == "product_not_found"
    assert r.json()["errors"][0]["field"] == "parent_id"
    assert not Product.objects.filter(sku="V").exists()


def test_only_simple_products_are_variants(api):
    parent = ProductFactory(type="configurable")
    r = api.post(URL, {"sku": "V", "name": "V", "price": "1.00", "type": "virtual", "parent_id": parent.id},
                 format="json")
    assert r.status_code == 400
    assert r.json()["code"] == "validation_error"
    assert r.json()["errors"][0]["field"] == "parent_id"


def test_a_variant_cannot_become_configurable(api):
    parent = ProductFactory(type="configurable")
    variant = ProductFactory(parent=parent)
    r = api.patch(f"{URL}/{variant.id}", {"type": "configurable"}, format="json")
    assert r.status_code == 400, r.json()
    assert r.json()["code"] == "validation_error"
    assert r.json()["errors"][0]["field"] == "type"
    variant.refresh_from_db()
    assert variant.type == "simple"
    # Detaching it from its parent in the same change is fine.
    r = api.patch(f"{URL}/{variant.id}", {"type": "configurable", "parent_id": None}, format="json")
    assert r.status_code == 200, r.json()
    assert (r.json()["type"], r.json()["parent_id"]) == ("configurable", None)


def test_a_parent_with_variants_stays_configurable(api):
    parent = ProductFactory(type="configurable")
    ProductFactory(parent=parent)
    lonely = ProductFactory(type="configurable")
    r = api.patch(f"{URL}/{parent.id}", {"type": "simple"}, format="json")
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "type"
    parent.refresh_from_db()
    assert parent.type == "configurable"
    assert api.patch(f"{URL}/{lonely.id}", {"type": "simple"}, format="json").status_code == 200


def test_a_source_listed_twice_is_400(api):
    source_id = default_source().id
    r = api.post(URL, {"sku": "T", "name": "T", "price": "1.00",
                       "inventories": [{"inventory_source_id": source_id, "qty": 5},
                                       {"inventory_source_id": source_id, "qty": 3}]}, format="json")
    assert r.status_code == 400
    assert r.json()["code"] == "validation_error"
    assert r.json()["errors"][0]["field"] == "inventories.1.inventory_source_id"
    assert not Product.objects.filter(sku="T").exists()


def test_duplicate_sku_is_409(api):
    ProductFactory(sku="DUP")
    r = api.post(URL, {"sku": "DUP", "name": "Again", "price": "1.00"}, format="json")
    assert r.status_code == 409
    assert r.json()["code"] == "sku_taken"
    assert Product.objects.filter(sku="DUP").count() == 1


def test_patch_to_a_taken_sku_is_409(api):
    ProductFactory(sku="A")
    b = ProductFactory(sku="B")
    r = api.patch(f"{URL}/{b.id}", {"sku": "A"}, format="json")
    assert r.status_code == 409
    assert r.json()["code"] == "sku_taken"
    b.refresh_from_db()
    assert b.sku == "B"


def test_unknown_tax_category_is_400(api):
    r = api.post(URL, {"sku": "T", "name": "T", "price": "1.00", "tax_category_id": 424242}, format="json")
    assert r.status_code == 400
    assert r.json()["code"] == "tax_category_not_found"
    assert r.json()["errors"][0]["field"] == "tax_category_id"
    assert not Product.objects.filter(sku="T").exists()


def test_unknown_inventory_source_is_400_and_nothing_written(api):
    r = api.post(URL, {"sku": "T", "name": "T", "price": "1.00",
                       "inventories": [{"inventory_source_id": default_source().id, "qty": 1},
                                       {"inventory_source_id": 424242, "qty": 1}]}, format="json")
    assert r.status_code == 400
    assert r.json()["code"] == "inventory_source_not_found"
    assert r.json()["errors"][0]["field"] == "inventories.1.inventory_source_id"
    assert not Product.objects.filter(sku="T").exists()
    assert ProductInventory.objects.count() == 0


def test_patch_with_unknown_inventory_source_changes_nothing(api):
    product = ProductFactory(name="Keep", stock=3)
    r = api.patch(f"{URL}/{product.id}", {"name": "Changed",
                                          "inventories": [{"inventory_source_id": 424242, "qty": 1}]}, format="json")
    assert r.status_code == 400
    assert r.json()["code"] == "inventory_source_not_found"
    product.refresh_from_db()
    assert product.name == "Keep"


@pytest.mark.parametrize("body,field", [
    ({"name": "N", "price": "1.00"}, "sku"),
    ({"sku": "S", "price": "1.00"}, "name"),
    ({"sku": "S", "name": "N"}, "price"),
    ({"sku": "S", "name": "N", "price": "-1.00"}, "price"),
    ({"sku": "S", "name": "N", "price": "1.001"}, "price"),
    ({"sku": "S", "name": "N", "price": "abc"}, "price"),
    ({"sku": "S", "name": "N", "price": "1.00", "type": "bundle"}, "type"),
    ({"sku": "S", "name": "N", "price": "1.00", "status": "on"}, "status"),
    ({"sku": "S", "name": "N", "price": "1.00", "inventories": [{"inventory_source_id": 1, "qty": -1}]},
     "inventories.0.qty"),
])
def test_invalid_product_fields_are_400(api, body, field):
    r = api.post(URL, body, format="json")
    assert r.status_code == 400, r.json()
    assert r.json()["code"] == "validation_error"
    assert field in [e["field"] for e in r.json()["errors"]]
    assert Product.objects.count() == 0


def test_list_is_paginated_and_filtered(api):
    a = ProductFactory(sku="RED-SHIRT", name="Red shirt")
    b = ProductFactory(sku="BLUE-MUG", name="Blue mug", type="virtual")
    c = ProductFactory(sku="RED-MUG", name="Red mug", status="disabled")
    r = api.get(URL)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert [p["id"] for p in body["results"]] == [a.id, b.id, c.id]

    def ids(**params):
        r = api.get(URL, params)
        assert r.status_code == 200, r.json()
        return [p["id"] for p in r.json()["results"]]

    assert ids(search="red") == [a.id, c.id]
    assert ids(search="MUG") == [b.id, c.id]
    assert ids(sku="BLUE-MUG") == [b.id]
    assert ids(sku="BLUE") == []
    assert ids(type="virtual") == [b.id]
    assert ids(status="disabled") == [c.id]
    assert ids(status="enabled", search="red") == [a.id]


@pytest.mark.parametrize("params", [{"type": "bundle"}, {"status": "maybe"}])
def test_unknown_filter_value_is_400(api, params):
    r = api.get(URL, params)
    assert r.status_code == 400
    assert r.json()["code"] == "validation_error"


def test_page_size(api):
    for _ in range(5):
        ProductFactory()
    r = api.get(URL, {"page_size": 2})
    assert r.json()["count"] == 5
    assert len(r.json()["results"]) == 2
    assert r.json()["next"] and r.json()["previous"] is None
    r = api.get(URL, {"page_size": 2, "page": 3})
    assert len(r.json()["results"]) == 1
    assert r.json()["next"] is None
