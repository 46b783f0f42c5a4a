from config.errors import Conflict, InvalidInput


class ProductNotFound(InvalidInput):
    code = "product_not_found"
    default_message = "Product not found."


class ProductOutOfStock(Conflict):
    code = "product_out_of_stock"
    default_message = "Not enough saleable stock."


class ProductDisabled(Conflict):
    code = "product_disabled"
    default_message = "The product is disabled."


class ProductTypeNotAllowed(Conflict):
    code = "product_type_not_allowed"
    default_message = "This product type cannot be added to an admin order."


class VariantRequired(InvalidInput):
    code = "variant_required"
    default_message = "This is a configurable product; add one of its variants."


class InventorySourceNotFound(InvalidInput):
    code = "inventory_source_not_found"
    default_message = "Inventory source not found."


class InsufficientStock(Conflict):
    code = "insufficient_stock"
    default_message = "Not enough stock at the inventory source."


class CurrencyNotSupported(InvalidInput):
    code = "currency_not_supported"
    default_message = "The currency is not enabled."


class TaxCategoryNotFound(InvalidInput):
    code = "tax_category_not_found"
    default_message = "Tax category not found."
