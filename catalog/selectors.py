from django.db.models import IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from catalog.models import Product, ProductInventory


def products_with_stock() -> QuerySet[Product]:
    """Products annotated with `on_hand` (Σ active sources) and their inventories prefetched."""
    on_hand = (ProductInventory.objects.filter(product=OuterRef("pk"), source__active=True)
               .values("product").annotate(t=Sum("qty")).values("t"))
    return (Product.objects.annotate(on_hand=Coalesce(Subquery(on_hand, output_field=IntegerField()), Value(0)))
            .prefetch_related("inventories"))


def saleable_of(product: Product) -> int | None:
    if not product.is_stocked:
        return None
    on_hand = getattr(product, "on_hand", None)
    if on_hand is None:
        on_hand = sum(i.qty for i in product.inventories.all() if i.source.active)
    return max(0, on_hand - product.qty_reserved)
