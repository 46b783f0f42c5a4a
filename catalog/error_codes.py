"""The catalog's error codes (products, stock, inventory sources, tax, currencies)."""

from __future__ import annotations

from enum import StrEnum


class CatalogErrorCode(StrEnum):
    PRODUCT_NOT_FOUND = "product_not_found"
    PRODUCT_OUT_OF_STOCK = "product_out_of_stock"
    PRODUCT_DISABLED = "product_disabled"
    PRODUCT_TYPE_NOT_ALLOWED = "product_type_not_allowed"
    VARIANT_REQUIRED = "variant_required"
    SKU_TAKEN = "sku_taken"
    INVENTORY_SOURCE_NOT_FOUND = "inventory_source_not_found"
    INSUFFICIENT_STOCK = "insufficient_stock"
    CODE_TAKEN = "code_taken"
    CURRENCY_NOT_SUPPORTED = "currency_not_supported"
    TAX_CATEGORY_NOT_FOUND = "tax_category_not_found"
    DUPLICATE_RATE = "duplicate_rate"


__all__ = ["CatalogErrorCode"]
