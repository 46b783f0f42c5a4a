from .currency import Currency
from .inventory import InventorySource, ProductInventory
from .product import Product, ProductStatus, ProductType
from .tax import TaxCategory, TaxRate

__all__ = ["Currency", "InventorySource", "Product", "ProductInventory", "ProductStatus", "ProductType",
           "TaxCategory", "TaxRate"]
