from catalog.error_codes import CatalogErrorCode
from config.errors import Conflict, InvalidInput


class ProductNotFound(InvalidInput):
    code = CatalogErrorCode.PRODUCT_NOT_FOUND
    default_message = "Product not found."


class ProductOutOfStock(Conflict):
    code = CatalogErrorCode.PRODUCT_OUT_OF_STOCK
    default_message = "Not enough saleable stock."


class ProductDisabled(Conflict):
    code = CatalogErrorCode.PRODUCT_DISABLED
    default_message = "The product is disabled."


class ProductTypeNotAllowed(Conflict):
    code = CatalogErrorCode.PRODUCT_TYPE_NOT_ALLOWED
    default_message = "This product type cannot be added to an admin order."


class VariantRequired(InvalidInput):
    code = CatalogErrorCode.VARIANT_REQUIRED
    default_message = "This is a configurable product; add one of its variants."


class InventorySourceNotFound(InvalidInput):
    code = CatalogErrorCode.INVENTORY_SOURCE_NOT_FOUND
    default_message = "Inventory source not found."


class InsufficientStock(Conflict):
    code = CatalogErrorCode.INSUFFICIENT_STOCK
    default_message = "Not enough stock at the inventory source."


class CurrencyNotSupported(InvalidInput):
    code = CatalogErrorCode.CURRENCY_NOT_SUPPORTED
    default_message = "The currency is not enabled."


class TaxCategoryNotFound(InvalidInput):
    code = CatalogErrorCode.TAX_CATEGORY_NOT_FOUND
    default_message = "Tax category not found."


class SkuTaken(Conflict):
    code = CatalogErrorCode.SKU_TAKEN
    default_message = "This SKU is already used."


class CodeTaken(Conflict):
    """An inventory source's or a tax category's code is already used."""

    code = CatalogErrorCode.CODE_TAKEN
    default_message = "This code is already used."


class DuplicateRate(Conflict):
    code = CatalogErrorCode.DUPLICATE_RATE
    default_message = "Two rates for the same country and zone."
