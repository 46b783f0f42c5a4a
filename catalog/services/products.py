from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from catalog.errors import (
    CodeTaken,
    DuplicateRate,
    InventorySourceNotFound,
    ProductNotFound,
    SkuTaken,
    TaxCategoryNotFound,
)
from catalog.models import InventorySource, Product, ProductType, TaxCategory, TaxRate
from catalog.services.stock import inventory_set
from config.errors import InvalidInput


def product_check_type_and_parent(product: Product | None, data: dict[str, Any]) -> None:
    """Variants are simple products; a configurable product with variants stays configurable.

    Checked on the product as it will be (stored values overlaid with the change), so a PATCH
    of ``type`` alone cannot turn a variant into a configurable product, nor a parent with
    variants into a simple one.
    """
    ptype = data.get("type", product.type if product else ProductType.SIMPLE)
    parent_id = data.get("parent_id", product.parent_id if product else None)
    if parent_id is not None and ptype != ProductType.SIMPLE:
        field = "parent_id" if "parent_id" in data else "type"
        raise InvalidInput("Only simple products can be variants (have a parent_id).", field=field)
    if (product is not None and product.type == ProductType.CONFIGURABLE and ptype != ProductType.CONFIGURABLE
            and product.variants.exists()):
        raise InvalidInput(f"{product.sku} has variants: it must stay configurable.", field="type")


def _check_refs(data: dict[str, Any], inventories: list[dict[str, int]] | None) -> None:
    tax_category_id = data.get("tax_category_id")
    if tax_category_id is not None and not TaxCategory.objects.filter(id=tax_category_id).exists():
        raise TaxCategoryNotFound(f"No tax category with id {tax_category_id}.", field="tax_category_id")
    parent_id = data.get("parent_id")
    if parent_id is not None and not Product.objects.filter(id=parent_id, type="configurable").exists():
        raise ProductNotFound(f"No configurable product with id {parent_id}.", field="parent_id")
    if inventories:
        ids = {i["source_id"] for i in inventories}
        known = set(InventorySource.objects.filter(id__in=ids).values_list("id", flat=True))
        seen: set[int] = set()
        for n, inv in enumerate(inventories):
            if inv["source_id"] not in known:
                raise InventorySourceNotFound(f"No inventory source with id {inv['source_id']}.",
                                              field=f"inventories.{n}.inventory_source_id")
            if inv["source_id"] in seen:
                raise InvalidInput(f"Inventory source {inv['source_id']} is listed twice; give one qty per source.",
                                   field=f"inventories.{n}.inventory_source_id")
            seen.add(inv["source_id"])


def product_create(*, data: dict[str, Any], inventories: list[dict[str, int]] | None = None) -> Product:
    product_check_type_and_parent(None, data)
    _check_refs(data, inventories)
    if Product.objects.filter(sku=data["sku"]).exists():
        raise SkuTaken(f"SKU {data['sku']!r} is already used.", field="sku")
    try:
        with transaction.atomic():
            product = Product.objects.create(**data)
            if inventories:
                inventory_set(product=product, levels={i["source_id"]: i["qty"] for i in inventories})
    except IntegrityError:
        raise SkuTaken(f"SKU {data['sku']!r} is already used.", field="sku") from None
    return product


def product_update(*, product: Product, data: dict[str, Any], inventories: list[dict[str, int]] | None = None
                   ) -> Product:
    product_check_type_and_parent(product, data)
    _check_refs(data, inventories)
    if "sku" in data and Product.objects.filter(sku=data["sku"]).exclude(id=product.id).exists():
        raise SkuTaken(f"SKU {data['sku']!r} is already used.", field="sku")
    with transaction.atomic():
        for key, value in data.items():
            setattr(product, key, value)
        product.save()
        if inventories:
            inventory_set(product=product, levels={i["source_id"]: i["qty"] for i in inventories})
    return product


def inventory_source_create(*, data: dict[str, Any]) -> InventorySource:
    if InventorySource.objects.filter(code=data["code"]).exists():
        raise CodeTaken(f"Inventory source code {data['code']!r} is already used.", field="code")
    return InventorySource.objects.create(**data)


def tax_category_create(*, code: str, name: str, rates: list[dict[str, Any]]) -> TaxCategory:
    if TaxCategory.objects.filter(code=code).exists():
        raise CodeTaken(f"Tax category code {code!r} is already used.", field="code")
    seen = set()
    for n, r in enumerate(rates):
        key = (r["country"], r.get("zone") or "")
        if key in seen:
            raise DuplicateRate("Two rates for the same country and zone.", field=f"rates.{n}")
        seen.add(key)
    with transaction.atomic():
        category = TaxCategory.objects.create(code=code, name=name)
        TaxRate.objects.bulk_create([TaxRate(category=category, country=r["country"], zone=r.get("zone") or "",
                                             rate=r["rate"]) for r in rates])
    return category
