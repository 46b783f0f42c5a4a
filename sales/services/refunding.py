"""Create Refund and Refund Preview (SPEC §5). Both run the same plan function, so the preview
returns exactly what the refund would record, and refuses exactly as it would."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction

from accounts.models import User
from catalog.services.stock import lock_products, stock_release, stock_return
from config.errors import InvalidInput
from config.money import ZERO, q2
from sales import status as rules
from sales.errors import OrderNotRefundable, RefundEmpty, RefundExceedsRefundable
from sales.events import event_refunded, events_scope
from sales.locks import order_items_lock, order_lock
from sales.models import Order, OrderItem, Refund, RefundItem, ShipmentItem
from sales.selectors import order_get_detail
from sales.services.common import (
    LineAmounts,
    LineQty,
    amounts_for_refund,
    line_amounts,
    lines_data,
    lines_resolve,
    order_refresh_state,
    sums,
)
from sales.services.counters import revenue_record
from sales.services.emails import email_after_commit
from sales.services.numbering import number_next


@dataclass(frozen=True)
class RefundRequest:
    items: list[LineQty] = field(default_factory=list)
    shipping_amount: Decimal = ZERO
    adjustment_refund: Decimal = ZERO
    adjustment_fee: Decimal = ZERO
    return_to_stock: bool = False


@dataclass(frozen=True)
class RefundPlan:
    lines: list[LineAmounts]
    shipping_amount: Decimal
    adjustment_refund: Decimal
    adjustment_fee: Decimal
    return_to_stock: bool
    # order_item_id → units of the line's refund that had been shipped (SPEC §5 "which units a
    # refund takes"); the line's other units were never sent.
    returned: dict[int, int] = field(default_factory=dict)

    @property
    def totals(self) -> dict[str, Decimal]:
        subtotal, tax, discount = sums(self.lines)
        grand = subtotal - discount + tax + self.shipping_amount + self.adjustment_refund - self.adjustment_fee
        return {"subtotal": subtotal, "tax_total": tax, "discount_total": discount,
                "shipping_total": self.shipping_amount, "adjustment_refund": self.adjustment_refund,
                "adjustment_fee": self.adjustment_fee, "grand_total": grand}


def refund_plan(order: Order, items: Sequence[OrderItem], request: RefundRequest) -> RefundPlan:
    """Every check of Create Refund, in SPEC order, and the totals it would record. Writes nothing."""
    wanted = lines_resolve(items, request.items, allow_empty=True) or {}
    for name in ("shipping_amount", "adjustment_refund", "adjustment_fee"):
        if getattr(request, name) < ZERO:
            raise InvalidInput(f"{name} must be 0.00 or more, not {getattr(request, name)}.", field=name)
    if (blocked := rules.blocked_reason("refund", order.status)) is not None:
        raise OrderNotRefundable(f"Order #{order.number} cannot be refunded: {blocked}.")
    # Money, not units, decides (as can.refund does): a refund must come to more than 0.00 and no
    # more than what is invoiced and not refunded, so with nothing of that left none is possible.
    if not any(i.qty_invoiced for i in items) and order.total_invoiced <= ZERO:
        raise OrderNotRefundable(f"Order #{order.number} has not been invoiced: only billed money can be refunded.")
    if order.total_invoiced <= ZERO:
        raise OrderNotRefundable(f"Order #{order.number} was invoiced at {order.total_invoiced}: there is no money "
                                 f"to refund.")
    if order.total_invoiced - order.total_refunded <= ZERO:
        raise OrderNotRefundable(f"Order #{order.number} has nothing left to refund: all {order.total_invoiced} "
                                 f"invoiced has been refunded.")
    by_id = {i.id: i for i in items}
    for n, (item_id, qty) in enumerate(wanted.items()):
        item = by_id[item_id]
        if qty > item.qty_to_refund:
            raise RefundExceedsRefundable(
                f"{item.name} ({item.sku or 'custom'}): {qty} to refund but only {item.qty_to_refund} invoiced and "
                f"not yet refunded.", field=f"items.{n}.quantity")
    shipping = q2(request.shipping_amount)
    shipping_left = order.shipping_invoiced - order.shipping_refunded
    if shipping > shipping_left:
        raise RefundExceedsRefundable(f"Shipping refund {shipping} exceeds the shipping invoiced and not yet "
                                      f"refunded ({shipping_left}).", field="shipping_amount")
    lines = [line_amounts(by_id[iid], q, amounts_for_refund(by_id[iid], q)) for iid, q in wanted.items() if q > 0]
    returned = {iid: rules.refund_units(by_id[iid], q)[1] for iid, q in wanted.items() if q > 0}
    plan = RefundPlan(lines=lines, shipping_amount=shipping, adjustment_refund=q2(request.adjustment_refund),
                      adjustment_fee=q2(request.adjustment_fee), return_to_stock=request.return_to_stock,
                      returned={iid: q for iid, q in returned.items() if q})
    grand = plan.totals["grand_total"]
    if grand <= ZERO:
        raise RefundEmpty(f"The refund comes to {grand}: it must be greater than 0.00 (give items, shipping or an "
                          f"adjustment).")
    refundable = order.total_invoiced - order.total_refunded
    if grand > refundable:
        raise RefundExceedsRefundable(f"The refund total {grand} exceeds what was invoiced and not yet refunded "
                                      f"({refundable}).")
    return plan


def _latest_sources(item_ids: list[int]) -> dict[int, int]:
    """order_item_id → inventory source of its latest shipment (one query)."""
    rows = (ShipmentItem.objects.filter(order_item_id__in=item_ids).order_by("order_item_id", "-shipment_id")
            .values_list("order_item_id", "shipment__inventory_source_id"))
    out: dict[int, int] = {}
    for item_id, source_id in rows:
        out.setdefault(item_id, source_id)
    return out


def refund_apply(order: Order, items: Sequence[OrderItem], plan: RefundPlan, *, actor: User | None,
                 notify: bool = True) -> Refund:
    by_id = {i.id: i for i in items}
    release: dict[int, int] = {}
    returns: dict[int, dict[int, int]] = {}
    shipped_parts: dict[int, int] = {}
    for line in plan.lines:
        item = by_id[line.order_item_id]
        returned = plan.returned.get(item.id, 0)
        unsent = line.quantity - returned
        if item.is_stocked and item.product_id and item.is_shippable:
            if unsent:  # no longer to ship: its reservation goes (qty_to_ship falls by as much)
                release[item.product_id] = release.get(item.product_id, 0) + unsent
            if returned:
                shipped_parts[item.id] = returned
        item.qty_refunded += line.quantity
        item.qty_returned += returned
        item.subtotal_refunded += line.subtotal
        item.tax_refunded += line.tax_amount
        item.discount_refunded += line.discount_amount
    if plan.return_to_stock and shipped_parts:
        sources = _latest_sources(list(shipped_parts))
        for item_id, qty in shipped_parts.items():
            source_id = sources.get(item_id)
            if source_id is not None:
                bucket = returns.setdefault(source_id, {})
                pid = by_id[item_id].product_id
                assert pid is not None  # only stocked product lines go back to stock
                bucket[pid] = bucket.get(pid, 0) + qty
    if release or returns:
        lock_products(set(release) | {pid for b in returns.values() for pid in b})
        stock_release(quantities=release)
        for source_id, quantities in sorted(returns.items()):
            stock_return(source_id=source_id, quantities=quantities)
    if plan.lines:
        OrderItem.objects.bulk_update([by_id[x.order_item_id] for x in plan.lines],
                                      ["qty_refunded", "qty_returned", "subtotal_refunded", "tax_refunded",
                                       "discount_refunded"])
    totals = plan.totals
    order.total_refunded += totals["grand_total"]
    order.shipping_refunded += plan.shipping_amount
    order_refresh_state(order, items)
    order.save()
    # The number last (sales.services.numbering): only the refund, its lines and its event follow it.
    refund = Refund.objects.create(order=order, number=number_next("refund"), created_by=actor,
                                   return_to_stock=plan.return_to_stock, **totals)
    revenue_record(order, created_at=refund.created_at, amount=-refund.grand_total)
    RefundItem.objects.bulk_create([
        RefundItem(refund=refund, order_item_id=x.order_item_id, sku=x.sku, name=x.name, quantity=x.quantity,
                   price=x.price, subtotal=x.subtotal, tax_amount=x.tax_amount, discount_amount=x.discount_amount,
                   total=x.total) for x in plan.lines])
    event_refunded(order, refund, actor, shipping_amount=plan.shipping_amount, adjustment_refund=plan.adjustment_refund,
                   adjustment_fee=plan.adjustment_fee, return_to_stock=plan.return_to_stock,
                   items=lines_data(plan.lines))
    if notify:
        email_after_commit(order_id=order.id, kind="refund", document_number=refund.number,
                           amount=str(totals["grand_total"]))
    return refund


def refund_create(*, order_id: int, request: RefundRequest, actor: User | None) -> Refund:
    with transaction.atomic(), events_scope():
        order = order_lock(order_id)
        order_items = order_items_lock(order)
        plan = refund_plan(order, order_items, request)
        return refund_apply(order, order_items, plan, actor=actor)


def refund_preview(*, order_id: int, request: RefundRequest) -> RefundPlan:
    """What refund_create would record, computed by the same code; no lock, no number, no write."""
    order = order_get_detail(order_id)
    return refund_plan(order, list(order.items.all()), request)
