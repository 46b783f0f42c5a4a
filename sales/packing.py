"""Packing slips (SPEC §14): what goes in a parcel — items and quantities, where it goes and
where it is picked from; never prices. Drawn by sales.pdf.packing_slips_pdf.

Two kinds of slip:

- a **shipment's** slip: the shipment's lines, from the source it was shipped from, with its
  carrier and tracking number (a reprint of what left);
- an **order's** slip: what is still to ship on the order (``qty_to_ship`` of each line), to
  pick and pack before the shipment is recorded. The source it names is a suggestion, the one
  the Ship form would pre-select: the first active source, by priority, that holds every
  stocked unit; when none does, the slip says so and leaves the choice to whoever ships.

These are reads only (no rule of the lifecycle lives here). ``slips_for_orders`` reads a fixed
number of queries whatever the number of orders: orders, lines, shipments with their lines and
sources, active sources and the stock of the lines' products at them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Prefetch

from catalog.models import InventorySource, ProductInventory
from sales.models import Order, OrderItem, Shipment, ShipmentItem
from sales.pdf import address_lines

_HEAVY = ("metadata", "extra", "source_document")


@dataclass(frozen=True)
class SlipLine:
    sku: str | None
    name: str
    quantity: int


@dataclass
class PackingSlip:
    order: Order
    title: str
    lines: list[SlipLine]
    date: datetime | None = None  # when shipped; None for what is still to ship
    source_name: str = ""
    source_lines: list[str] = field(default_factory=list)
    source_note: str = ""
    carrier: str = ""
    tracking: str = ""
    note: str = ""

    @property
    def total_qty(self) -> int:
        return sum(line.quantity for line in self.lines)


def shipment_slip(shipment: Shipment) -> PackingSlip:
    """A shipment (with order, inventory source and items loaded) as a slip."""
    source = shipment.inventory_source
    return PackingSlip(
        order=shipment.order, title=f"Shipment #{shipment.number}", date=shipment.created_at,
        lines=[SlipLine(x.sku, x.name, x.quantity) for x in shipment.items.all()],
        source_name=f"{source.name} ({source.code})", source_lines=address_lines(source.address)[1:],
        carrier=shipment.carrier_title, tracking=shipment.track_number)


def order_slip(order: Order, items: Sequence[OrderItem], sources: Sequence[InventorySource],
               stock: dict[tuple[int, int], int]) -> PackingSlip | None:
    """What is left to ship on the order, or None when nothing is."""
    left = [i for i in items if i.qty_to_ship > 0]
    if not left:
        return None
    slip = PackingSlip(order=order, title=f"Order #{order.number} · to ship",
                       lines=[SlipLine(i.sku, i.name, i.qty_to_ship) for i in left],
                       note="Units still to ship on this order when the slip was printed. Record the shipment "
                            "(Ship on the order page, or the Ship action) when the parcel leaves.")
    stocked = [i for i in left if i.product_id and i.is_stocked]
    source = next((s for s in sources if all(stock.get((i.product_id or 0, s.id), 0) >= i.qty_to_ship for i in stocked)),
                  None)
    if source is not None:
        slip.source_name = f"{source.name} ({source.code})"
        slip.source_lines = address_lines(source.address)[1:]
        slip.source_note = "Suggested: holds every unit." if stocked else ""
    else:
        slip.source_note = ("No single source holds every unit: choose where to ship from." if sources
                            else "No active inventory source.")
    return slip


def stock_at(product_ids, sources) -> dict[tuple[int, int], int]:
    """(product id, source id) → units on hand: one query."""
    if not product_ids or not sources:
        return {}
    rows = ProductInventory.objects.filter(product_id__in=set(product_ids), source__in=[s.id for s in sources]) \
        .values_list("product_id", "source_id", "qty")
    return {(pid, sid): qty for pid, sid, qty in rows}


def active_sources() -> list[InventorySource]:
    return list(InventorySource.objects.filter(active=True).order_by("priority", "id"))


def slips_for_orders(order_ids: Sequence[int]) -> tuple[list[PackingSlip], list[Order]]:
    """The slips of these orders, in the order given: what is left to ship when anything is, else
    the slips of the order's shipments (a reprint). Returns (slips, orders with nothing to print)."""
    orders = {o.id: o for o in Order.objects.filter(id__in=list(order_ids)).defer(*_HEAVY)
              .select_related("pickup_location")
              .prefetch_related(Prefetch("items", queryset=OrderItem.objects.order_by("id")),
                                Prefetch("shipments", queryset=Shipment.objects.select_related("inventory_source")
                                         .prefetch_related(Prefetch("items", queryset=ShipmentItem.objects
                                                                    .order_by("id"))).order_by("id")))}
    sources = active_sources()
    wanted = {i.product_id for o in orders.values() for i in o.items.all()
              if i.product_id and i.is_stocked and i.qty_to_ship > 0}
    stock = stock_at(wanted, sources)
    slips: list[PackingSlip] = []
    nothing: list[Order] = []
    for oid in order_ids:
        order = orders.get(oid)
        if order is None:
            continue
        slip = order_slip(order, list(order.items.all()), sources, stock)
        if slip is not None:
            slips.append(slip)
            continue
        shipments = list(order.shipments.all())
        for shipment in shipments:
            shipment.order = order
            slips.append(shipment_slip(shipment))
        if not shipments:
            nothing.append(order)
    return slips, nothing
