"""Create Shipment (SPEC §5): takes stock at the chosen source and releases the reservation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from accounts.models import User
from catalog.errors import InventorySourceNotFound
from catalog.models import InventorySource
from catalog.services.stock import lock_products, stock_take
from config.money import ZERO
from sales import status as rules
from sales.errors import ItemNotShippable, OrderNotShippable
from sales.events import event_shipped, events_scope
from sales.locks import order_items_lock, order_lock
from sales.models import Order, OrderItem, Shipment, ShipmentItem
from sales.services.common import (
    LineAmounts,
    LineQty,
    amounts_for_shipment,
    line_amounts,
    lines_data,
    lines_resolve,
    order_refresh_state,
    quantities_within,
)
from sales.services.emails import email_after_commit
from sales.services.holding import hold_check
from sales.services.numbering import number_next


@dataclass(frozen=True)
class ShipmentPlan:
    source: InventorySource
    lines: list[LineAmounts]

    @property
    def total_qty(self) -> int:
        return sum(x.quantity for x in self.lines)


def _source(inventory_source_id: int | None) -> InventorySource:
    if inventory_source_id is None:
        raise InventorySourceNotFound("inventory_source_id is required: the source the units leave from.",
                                      field="inventory_source_id")
    source = InventorySource.objects.filter(id=inventory_source_id).first()
    if source is None:
        raise InventorySourceNotFound(f"No inventory source with id {inventory_source_id}.",
                                      field="inventory_source_id")
    if not source.active:
        raise InventorySourceNotFound(f"Inventory source {source.name} is inactive.", field="inventory_source_id")
    return source


def shipped_amounts(item_ids: list[int]) -> dict[int, tuple[Decimal, Decimal, Decimal]]:
    """order_item_id → (subtotal, tax, discount) its shipments took so far, one query. Read under
    the order lock, so no other shipment of these lines can land in between."""
    if not item_ids:
        return {}
    rows = (ShipmentItem.objects.filter(order_item_id__in=item_ids).values("order_item_id")
            .annotate(subtotal=Sum("subtotal"), tax=Sum("tax_amount"), discount=Sum("discount_amount"))
            .values_list("order_item_id", "subtotal", "tax", "discount"))
    return {item_id: (subtotal, tax, discount) for item_id, subtotal, tax, discount in rows}


def shipment_plan(order: Order, items: Sequence[OrderItem], lines: list[LineQty] | None,
                  inventory_source_id: int | None) -> ShipmentPlan:
    source = _source(inventory_source_id)
    wanted = lines_resolve(items, lines)
    by_id = {i.id: i for i in items}
    if wanted is not None:
        for n, item_id in enumerate(wanted):
            if not by_id[item_id].is_shippable:
                raise ItemNotShippable(f"{by_id[item_id].name} is virtual and does not ship.",
                                       field=f"items.{n}.order_item_id")
    if (blocked := rules.blocked_reason("ship", order.status)) is not None:
        raise OrderNotShippable(f"Order #{order.number} cannot be shipped: {blocked}.")
    if not any(i.qty_to_ship > 0 for i in items):
        raise OrderNotShippable(f"Order #{order.number} has nothing left to ship.")
    hold_check(order, "ship")
    if wanted is None:
        wanted = {i.id: i.qty_to_ship for i in items if i.qty_to_ship > 0}
    quantities_within(wanted, by_id, lambda i: i.qty_to_ship, doing="to ship", left_text="left to ship")
    # Only a shipment completing a line that earlier shipments began needs what they took of it.
    completing = [iid for iid, qty in wanted.items() if qty > 0 and by_id[iid].qty_shipped
                  and by_id[iid].qty_shipped + by_id[iid].qty_canceled + qty == by_id[iid].qty_ordered]
    shipped = shipped_amounts(completing)
    plan_lines = []
    for item_id, qty in wanted.items():
        if qty <= 0:
            continue
        item = by_id[item_id]
        plan_lines.append(line_amounts(item, qty, amounts_for_shipment(item, qty,
                                                                       shipped.get(item_id, (ZERO, ZERO, ZERO)))))
    if not plan_lines:
        raise OrderNotShippable("Nothing to ship: every quantity given is 0.")
    return ShipmentPlan(source=source, lines=plan_lines)


def shipment_apply(order: Order, items: Sequence[OrderItem], plan: ShipmentPlan, *, actor: User | None,
                   carrier_title: str = "", track_number: str = "", notify: bool = True,
                   take_stock: bool = True) -> Shipment:
    by_id = {i.id: i for i in items}
    stock: dict[int, int] = {}
    for line in plan.lines:
        item = by_id[line.order_item_id]
        if item.is_stocked and item.product_id:
            stock[item.product_id] = stock.get(item.product_id, 0) + line.quantity
    if take_stock and stock:
        lock_products(stock)  # lock order: order, products, then inventory rows
        stock_take(source_id=plan.source.id, quantities=stock)
    for line in plan.lines:
        by_id[line.order_item_id].qty_shipped += line.quantity
    OrderItem.objects.bulk_update([by_id[x.order_item_id] for x in plan.lines], ["qty_shipped"])
    subtotal = sum(x.subtotal for x in plan.lines)
    tax = sum(x.tax_amount for x in plan.lines)
    discount = sum(x.discount_amount for x in plan.lines)
    order_refresh_state(order, items)
    order.save()
    # The number last (sales.services.numbering): only the shipment, its lines and its event follow it.
    shipment = Shipment.objects.create(
        order=order, number=number_next("shipment"), created_by=actor, carrier_title=carrier_title or "",
        track_number=track_number or "", inventory_source=plan.source, total_qty=plan.total_qty,
        subtotal=subtotal, tax_total=tax, discount_total=discount, shipping_total=0,
        grand_total=subtotal - discount + tax)
    ShipmentItem.objects.bulk_create([
        ShipmentItem(shipment=shipment, order_item_id=x.order_item_id, sku=x.sku, name=x.name, quantity=x.quantity,
                     price=x.price, subtotal=x.subtotal, tax_amount=x.tax_amount, discount_amount=x.discount_amount,
                     total=x.total) for x in plan.lines])
    event_shipped(order, shipment, actor, source_code=plan.source.code, items=lines_data(plan.lines))
    if notify:
        email_after_commit(order_id=order.id, kind="shipment", document_number=shipment.number,
                           carrier_title=shipment.carrier_title, track_number=shipment.track_number,
                           lines=[{"name": x.name, "quantity": x.quantity} for x in plan.lines])
    return shipment


def shipment_create(*, order_id: int, inventory_source_id: int | None, items: list[LineQty] | None,
                    carrier_title: str = "", track_number: str = "", actor: User | None) -> Shipment:
    """Ship the given lines (None = everything left) from one source. One transaction."""
    with transaction.atomic(), events_scope():
        order = order_lock(order_id)
        order_items = order_items_lock(order)
        plan = shipment_plan(order, order_items, items, inventory_source_id)
        return shipment_apply(order, order_items, plan, actor=actor, carrier_title=carrier_title,
                              track_number=track_number)

