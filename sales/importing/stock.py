"""Stock verdicts for planned documents: both writers check stock here, in document order."""

from __future__ import annotations

from collections.abc import Sequence

from catalog.errors import InsufficientStock
from catalog.models import Product, ProductInventory
from catalog.services.stock import lock_products, on_hand_map
from sales.importing.plan import ImportPlan


def stock_verdicts(plans: Sequence[ImportPlan],
                   source_id: int | None) -> tuple[dict[int, Product], list[InsufficientStock | None]]:
    """Lock the products (pk order) and the default source's rows, then take the plans in
    order as if imported one after another: each either fits in what the previous ones left
    (None) or is refused with the 409 insufficient_stock a one-document import would give it.
    A reservation needs saleable units (Σ qty over active sources − reserved); a shipment
    needs units at the default source. Importing a plan takes its ordered units from the
    saleable quantity (a shipment turns reserved units into shipped ones) and its shipped
    units from the default source."""
    reserve_ids = {pid for plan in plans for pid in plan.reserve}
    ship_ids = {pid for plan in plans for pid in plan.ship}
    products = lock_products(reserve_ids | ship_ids)
    saleable: dict[int, int] = {}
    if reserve_ids:
        on_hand = on_hand_map(reserve_ids)
        saleable = {pid: on_hand[pid] - products[pid].qty_reserved for pid in reserve_ids}
    at_source: dict[int, int] = {}
    if ship_ids and source_id is not None:
        at_source = dict(ProductInventory.objects.select_for_update(no_key=True).filter(source_id=source_id,
                                                                             product_id__in=ship_ids)
                         .order_by("id").values_list("product_id", "qty"))
    verdicts: list[InsufficientStock | None] = []
    for plan in plans:
        error = _verdict(plan, products, saleable, at_source, source_id)
        if error is None:
            for pid, q in plan.reserve.items():
                saleable[pid] -= q
            for pid, q in plan.ship.items():
                at_source[pid] = at_source.get(pid, 0) - q
        verdicts.append(error)
    return products, verdicts


def _verdict(plan: ImportPlan, products: dict[int, Product], saleable: dict[int, int], at_source: dict[int, int],
             source_id: int | None) -> InsufficientStock | None:
    for pid in sorted(plan.reserve):
        if plan.reserve[pid] > saleable[pid]:
            return _stock_error(plan, pid, products[pid], f"{max(saleable[pid], 0)} saleable, "
                                                          f"{plan.reserve[pid]} to reserve", shipping=False)
    if plan.ship and source_id is None:
        return InsufficientStock("There is no default inventory source to ship from.", field="fulfillments")
    for pid in sorted(plan.ship):
        if plan.ship[pid] > at_source.get(pid, 0):
            return _stock_error(plan, pid, products[pid], f"{at_source.get(pid, 0)} in stock at the "
                                                          f"default source, {plan.ship[pid]} to ship", shipping=True)
    return None


def _stock_error(plan: ImportPlan, pid: int, product: Product, what: str, *, shipping: bool) -> InsufficientStock:
    path = "items"
    if shipping:
        path = next((f"fulfillments.{s.index}" for s in plan.shipments for pos, _ in s.lines or ()
                     if plan.items[pos].product_id == pid), path)
    else:
        pos = next(n for n, i in enumerate(plan.items) if i.product_id == pid)
        path = f"items.{pos}.quantity"
    return InsufficientStock(f"{product.sku}: {what}.", field=path)


__all__ = ["stock_verdicts"]
