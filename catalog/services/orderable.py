""""Can this product be ordered now": the one rule, asked by carts (add, change a line),
placing, order edits and reorder (issue 10: it used to be written three times)."""

from __future__ import annotations

from catalog.errors import ProductDisabled, ProductOutOfStock, ProductTypeNotAllowed, VariantRequired
from catalog.models import Product, ProductStatus, ProductType
from catalog.services.stock import saleable_qty_map

# A configurable product is ordered through one of its variants; bookings are not sold by staff.
ORDERABLE_TYPES = frozenset({ProductType.SIMPLE, ProductType.VIRTUAL})


def product_check_orderable(product: Product, quantity: int | None = None, *, field: str | None = "product_id"
                            ) -> None:
    """Raise the catalog's error when ``product`` cannot be ordered: a configurable parent
    (``variant_required``, naming ``field``), disabled (``product_disabled``), a type staff
    cannot order (``product_type_not_allowed``), or — when ``quantity`` is given — fewer units
    saleable than that (``product_out_of_stock``). Without a quantity, stock is left to the
    reservation, which checks it under the product row locks (``stock_reserve``)."""
    if product.type == ProductType.CONFIGURABLE:
        raise VariantRequired(f"{product.name} ({product.sku}) is a configurable product: add one of its variants "
                              f"by its own id or SKU.", field=field)
    if product.status != ProductStatus.ENABLED:
        raise ProductDisabled(f"{product.name} ({product.sku}) is disabled.")
    if product.type not in ORDERABLE_TYPES:
        raise ProductTypeNotAllowed(f"{product.name} ({product.sku}) is a {product.type} product, which cannot be "
                                    f"added to an admin order.")
    if quantity is None:
        return
    saleable = saleable_qty_map([product])[product.id]
    if saleable is not None and quantity > saleable:
        raise ProductOutOfStock(f"{product.name} ({product.sku}) is out of stock: {saleable} saleable, "
                                f"{quantity} wanted.")


__all__ = ["ORDERABLE_TYPES", "product_check_orderable"]
