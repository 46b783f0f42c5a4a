"""Edit an order after it was placed (SPEC §7.3, §12): its lines, its addresses and staff note.

Two rules for lines, by status:

- ``pending`` / ``pending_payment`` (§7.3): lines change in place, stock is re-reserved, totals are
  recomputed with carts.pricing, and the coupon and discounts are cleared (its use given back).
- ``processing`` (§12, not paid by a gateway): existing lines never change their amounts, so what
  is invoiced or canceled stays exact. A line's requested quantity is its effective quantity
  (ordered − canceled): above it the extra units become a new line of the same product; below it
  the difference is canceled exactly as Cancel does (``canceling.cancel_counts``), never more than
  the line's ``qty_to_cancel`` (409 ``quantity_below_minimum``). New lines take the current price,
  the tax rate of the order's tax address, and no discount; shipping never changes. The grand total
  grows by the new lines and ``total_due`` is the balance to bill.

Each call is plan then apply inside one transaction: ``edit_plan`` runs every check in SPEC order
(400s, the status, the hold, quantities, saleability, stock) and writes nothing; ``edit_apply``
writes the plan. A dry run (``?dry_run=true``) runs both and rolls back.

Addresses and the staff note (§12) change on any order that is not canceled or closed; the
shipping address only while the order ships and has something left to ship. Totals are not
recomputed by an address change (the tax of what was billed stays as billed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F

from accounts.models import User
from carts.models import Coupon, CouponUsage, ShippingMethod
from carts.pricing import PricingLine, compute_totals, shipping_amount, tax_address
from catalog.errors import ProductNotFound
from catalog.models import Product
from catalog.services.orderable import product_check_orderable
from catalog.services.pricing_inputs import convert, tax_rate_map
from catalog.services.stock import lock_products, stock_release, stock_reserve
from config.errors import Conflict, InvalidInput
from config.fields import MAX_ORDER_LINES
from config.money import ZERO
from sales import status as rules
from sales.error_codes import SalesErrorCode
from sales.errors import OrderItemNotFound
from sales.events import event_details_changed, event_edited, events_scope, line_ref
from sales.locks import order_items_lock, order_lock
from sales.models import Order, OrderItem
from sales.services import counters
from sales.services.canceling import cancel_counts
from sales.services.common import is_gateway, order_refresh_state
from sales.services.holding import hold_check

DETAIL_FIELDS = ("billing_address", "shipping_address", "staff_note")


class OrderNotEditable(Conflict):
    code = SalesErrorCode.ORDER_NOT_EDITABLE


class OrderCannotBeEmpty(InvalidInput):
    code = SalesErrorCode.ORDER_CANNOT_BE_EMPTY
    default_message = "An order keeps at least one line."


class QuantityBelowMinimum(Conflict):
    code = SalesErrorCode.QUANTITY_BELOW_MINIMUM


@dataclass(frozen=True)
class EditLine:
    quantity: int
    id: int | None = None
    product_id: int | None = None
    sku: str | None = None


@dataclass
class EditPlan:
    """What an edit does, worked out in memory: the lines after it and the stock it moves."""

    processing: bool
    final: list[OrderItem]  # every line after the edit (new ones without a pk)
    added: list[OrderItem] = field(default_factory=list)
    changed: list[OrderItem] = field(default_factory=list)  # pending: quantity changed in place
    removed: list[OrderItem] = field(default_factory=list)  # pending: deleted
    to_cancel: dict[int, int] = field(default_factory=dict)  # processing: item id → units canceled
    ordered_before: dict[int, int] = field(default_factory=dict)  # pending: a changed line's old quantity
    products: dict[int, Product] = field(default_factory=dict)  # locked
    release: dict[int, int] = field(default_factory=dict)  # product id → reserved units given back
    reserve: dict[int, int] = field(default_factory=dict)  # product id → units reserved


def _order_tax_address(order: Order) -> dict[str, Any]:
    """The order's tax address by carts' rule (carts.pricing.tax_address)."""
    location = order.pickup_location if order.pickup_location_id else None
    return tax_address(billing=order.billing_address, shipping=order.shipping_address,
                       pickup=(location.address or {}) if location is not None else None)


def _order_shipping_amount(order: Order, items: list[OrderItem]) -> Decimal:
    """A pending order's shipping charge after the edit: a rated method (flatrate) priced again by
    carts' rule (carts.pricing.shipping_amount) for the shippable units; any other keeps its charge."""
    if order.fulfillment_type != "shipping" or not order.shipping_method_code:
        return ZERO
    method = ShippingMethod.objects.filter(code=order.shipping_method_code).first()
    if method is None or method.code != "flatrate":
        return order.shipping_total
    return shipping_amount(amount=method.amount, calc=method.calc, rate=order.exchange_rate,
                           units=sum(i.qty_ordered for i in items if i.is_shippable))


def _resolve_new_products(lines: list[EditLine]) -> dict[int, Product]:
    """Line index → product for the lines without ``id``, in two queries; 400 product_not_found."""
    wanted = {n: line for n, line in enumerate(lines) if line.id is None}
    by_id = Product.objects.in_bulk([x.product_id for x in wanted.values() if x.product_id is not None])
    by_sku = Product.objects.in_bulk([x.sku for x in wanted.values() if x.product_id is None and x.sku],
                                     field_name="sku")
    out: dict[int, Product] = {}
    for n, line in wanted.items():
        if line.product_id is not None:
            if (product := by_id.get(line.product_id)) is None:
                raise ProductNotFound(f"No product with id {line.product_id}.", field=f"items.{n}.product_id")
        elif (product := by_sku.get(line.sku or "")) is None:
            raise ProductNotFound(f"No product with SKU {line.sku!r}.", field=f"items.{n}.sku")
        out[n] = product
    return out


def _new_line(order: Order, product: Product, quantity: int) -> OrderItem:
    return OrderItem(order=order, product=product, sku=product.sku, name=product.name, type=product.type,
                     is_shippable=product.is_shippable, is_stocked=product.is_stocked, qty_ordered=quantity,
                     price=convert(product.price, order.exchange_rate))


def _reserving(item: OrderItem) -> bool:
    return bool(item.is_stocked and item.product_id and item.is_shippable)


def _add_units(into: dict[int, int], product_id: int | None, qty: int) -> None:
    if product_id is not None:  # a line whose product was deleted reserves nothing
        into[product_id] = into.get(product_id, 0) + qty


def _plan_pending(order: Order, items: list[OrderItem], lines: list[EditLine],
                  new_products: dict[int, Product]) -> EditPlan:
    """§7.3: lines change in place; every reservation is taken back and made again."""
    by_id = {i.id: i for i in items}
    for n, line in enumerate(lines):
        if line.id is not None and (item := by_id[line.id]).qty_canceled:
            raise OrderNotEditable(f"{item.name}: canceled in part; it cannot change.", field=f"items.{n}.id")
    plan = EditPlan(processing=False, final=[])
    for item in items:
        if _reserving(item):
            _add_units(plan.release, item.product_id, rules.qty_to_ship(item))
    for line in lines:
        if line.id is None:
            continue
        item = by_id[line.id]
        if line.quantity == 0:
            plan.removed.append(item)
        elif line.quantity != item.qty_ordered:
            plan.ordered_before[item.id] = item.qty_ordered
            item.qty_ordered = line.quantity
            plan.changed.append(item)
    plan.added = [_new_line(order, product, lines[n].quantity) for n, product in new_products.items()]
    removed_ids = {i.id for i in plan.removed}
    plan.final = [i for i in items if i.id not in removed_ids] + plan.added
    for item in plan.final:
        if _reserving(item):
            _add_units(plan.reserve, item.product_id, item.qty_ordered)
    return plan


def _plan_processing(order: Order, items: list[OrderItem], lines: list[EditLine],
                     new_products: dict[int, Product]) -> EditPlan:
    """§12: existing lines keep their amounts; more units → a new line, fewer → canceled units."""
    by_id = {i.id: i for i in items}
    plan = EditPlan(processing=True, final=list(items))
    extra: list[tuple[OrderItem, int]] = []  # (line, units) that become new lines of its product
    for n, line in enumerate(lines):
        if line.id is None:
            continue
        item = by_id[line.id]
        effective = item.qty_ordered - item.qty_canceled
        if line.quantity < effective:
            fewer, open_units = effective - line.quantity, rules.qty_to_cancel(item)
            if fewer > open_units:
                raise QuantityBelowMinimum(
                    f"{item.name}: the quantity can go down to {effective - open_units}, not {line.quantity} "
                    f"({effective - open_units} of its {effective} units are invoiced or shipped).",
                    field=f"items.{n}.quantity")
            plan.to_cancel[item.id] = fewer
            if _reserving(item):
                _add_units(plan.release, item.product_id, fewer)
        elif line.quantity > effective:
            if item.product_id is None:
                raise OrderNotEditable(f"{item.name}: its product no longer exists, so no units can be added.",
                                       field=f"items.{n}.quantity")
            extra.append((item, line.quantity - effective))
    products = Product.objects.in_bulk([item.product_id for item, _ in extra])
    plan.added = [_new_line(order, products[item.product_id], units) for item, units in extra]
    plan.added += [_new_line(order, product, lines[n].quantity) for n, product in new_products.items()]
    plan.final += plan.added
    for item in plan.added:
        if _reserving(item):
            _add_units(plan.reserve, item.product_id, item.qty_ordered)
    return plan


def _check_lines(order: Order, items: list[OrderItem], lines: list[EditLine]) -> dict[int, Product]:
    """The 400s (unknown lines and products), then the status, then the hold (SPEC §12's order)."""
    ids = {i.id for i in items}
    for n, line in enumerate(lines):
        if line.id is not None and line.id not in ids:
            raise OrderItemNotFound(f"Order item {line.id} is not a line of this order.", field=f"items.{n}.id")
    new_products = _resolve_new_products(lines)
    if (reason := rules.edit_refused_reason(order.status, gateway_payment=is_gateway(order))) is not None:
        raise OrderNotEditable(f"Order #{order.number}'s lines cannot be edited: {reason}.")
    hold_check(order, "edit")
    return new_products


def edit_plan(order: Order, items: list[OrderItem], lines: list[EditLine]) -> EditPlan:
    """Every check of an items edit, in SPEC order; locks the products involved. Writes nothing."""
    new_products = _check_lines(order, items, lines)
    planner = _plan_processing if order.status == rules.PROCESSING else _plan_pending
    plan = planner(order, items, lines, new_products)
    if not any(i.qty_ordered - i.qty_canceled - plan.to_cancel.get(i.id, 0) > 0 for i in plan.final):
        raise OrderCannotBeEmpty(f"Order #{order.number} must keep at least one line.", field="items")
    if len(plan.final) > MAX_ORDER_LINES:
        raise InvalidInput(f"An order holds at most {MAX_ORDER_LINES:,} lines; this edit would make "
                           f"{len(plan.final):,}.", field="items")
    plan.products = lock_products({i.product_id for i in plan.final if i.product_id} | set(plan.release))
    for item in [*plan.added, *plan.changed]:
        if item.product_id:
            product_check_orderable(plan.products[item.product_id], field=None)  # stock: the reservation
    return plan


def _price_lines(order: Order, plan: EditPlan, lines: list[OrderItem], *, shipping: Decimal) -> Any:
    """Tax rates from the order's tax address, then carts' totals for ``lines`` (no coupon)."""
    address = _order_tax_address(order)
    categories = {c for i in lines if i.product_id and (c := plan.products[i.product_id].tax_category_id)}
    rates = tax_rate_map(categories, country=address.get("country"), zone=address.get("zone"))
    for item in lines:
        if item.product_id:
            category = plan.products[item.product_id].tax_category_id
            item.tax_percent = rates.get(category, ZERO) if category else ZERO
    totals = compute_totals([PricingLine(price=i.price, quantity=i.qty_ordered, tax_percent=i.tax_percent)
                             for i in lines], shipping_amount=shipping)
    for item, t in zip(lines, totals.lines, strict=True):
        item.subtotal, item.discount_amount, item.tax_amount, item.total = t.subtotal, t.discount, t.tax, t.total
    return totals


def _move_stock(plan: EditPlan) -> None:
    stock_release(quantities=plan.release)
    if plan.release:  # the reservation check reads the locked rows: give it the released counts
        fresh = dict(Product.objects.filter(id__in=plan.products).values_list("id", "qty_reserved"))
        for pid, product in plan.products.items():
            product.qty_reserved = fresh.get(pid, product.qty_reserved)
    stock_reserve(quantities=plan.reserve, locked=plan.products)


def _apply_pending(order: Order, plan: EditPlan, actor: User | None) -> None:
    before = order.grand_total
    # the product rollups follow each line (sales.services.counters): units and totals before the edit
    was = {i.id: (i.qty_ordered, i.total) for i in plan.final if i.pk} | {i.id: (i.qty_ordered, i.total)
                                                                          for i in plan.removed}
    was.update({i.id: (plan.ordered_before[i.id], i.total) for i in plan.changed})
    _move_stock(plan)
    totals = _price_lines(order, plan, plan.final, shipping=_order_shipping_amount(order, plan.final))
    if plan.removed:
        OrderItem.objects.filter(id__in=[i.id for i in plan.removed]).delete()
    OrderItem.objects.bulk_update([i for i in plan.final if i.pk], ["qty_ordered", "subtotal", "discount_amount",
                                                                    "tax_amount", "total", "tax_percent"])
    OrderItem.objects.bulk_create(plan.added)
    coupon_code = order.coupon_code
    if order.coupon_id and (usage := CouponUsage.objects.filter(order_id=order.id).first()) is not None:
        usage.delete()
        Coupon.objects.filter(id=usage.coupon_id, times_used__gt=0).update(times_used=F("times_used") - 1)
    order.coupon, order.coupon_code = None, ""
    order.subtotal, order.discount_total, order.tax_total = totals.subtotal, totals.discount_total, totals.tax_total
    order.shipping_total, order.grand_total = totals.shipping_total, totals.grand_total
    order_refresh_state(order, plan.final)
    order.save()
    counters.order_sales_record(order, placed=False, grand_total_before=before, lines=[
        *(counters.LineDelta(i.product_id, -was[i.id][0], was[i.id][1], ZERO) for i in plan.removed),
        *(counters.LineDelta(i.product_id, i.qty_ordered - was[i.id][0], was[i.id][1], i.total)
          for i in plan.final if i.id in was),
        *(counters.LineDelta(i.product_id, i.qty_ordered, ZERO, i.total) for i in plan.added)])
    event_edited(order, actor, grand_total_before=before,
                 added=[{"product_id": i.product_id, "sku": i.sku, "quantity": i.qty_ordered} for i in plan.added],
                 changed=[{"order_item_id": i.id, "quantity": i.qty_ordered} for i in plan.changed],
                 removed=[{"order_item_id": i.id, "sku": i.sku} for i in plan.removed],
                 coupon_removed=coupon_code or None)


def _apply_processing(order: Order, plan: EditPlan, actor: User | None) -> None:
    before = order.grand_total
    _move_stock(plan)
    added = _price_lines(order, plan, plan.added, shipping=ZERO) if plan.added else None
    canceled = cancel_counts(order, plan.final, plan.to_cancel) if plan.to_cancel else None
    if canceled is not None:
        OrderItem.objects.bulk_update([i for i in plan.final if i.id in plan.to_cancel],
                                      ["qty_canceled", "subtotal_canceled", "tax_canceled", "discount_canceled"])
    if added is not None:
        OrderItem.objects.bulk_create(plan.added)
        order.subtotal += added.subtotal
        order.tax_total += added.tax_total
        order.grand_total += added.subtotal + added.tax_total
    order_refresh_state(order, plan.final)
    order.save()
    # canceled units do not leave the rollups (cancellations never subtract); new lines add theirs
    counters.order_sales_record(order, placed=False, grand_total_before=before, lines=[
        counters.LineDelta(i.product_id, i.qty_ordered, ZERO, i.total) for i in plan.added])
    event_edited(order, actor, grand_total_before=before,
                 added=[{**line_ref(i.id, i.sku, i.qty_ordered), "product_id": i.product_id, "price": str(i.price),
                         "total": str(i.total)} for i in plan.added],
                 canceled=canceled.lines if canceled is not None else [])


def _details_check(order: Order, items: list[OrderItem], details: dict[str, Any]) -> None:
    if order.status in (rules.CANCELED, rules.CLOSED):
        raise OrderNotEditable(f"Order #{order.number} is {order.status_code}: its addresses and note no longer "
                               f"change.")
    if "shipping_address" in details:
        if order.fulfillment_type != "shipping":
            what = "is picked up" if order.fulfillment_type == "pickup" else "does not ship"
            raise OrderNotEditable(f"Order #{order.number} {what}: it has no shipping address to change.",
                                   field="shipping_address")
        if not any(rules.qty_to_ship(i) > 0 for i in items):
            raise OrderNotEditable(f"Order #{order.number} has nothing left to ship: its shipping address no "
                                   f"longer changes.", field="shipping_address")


def _details_apply(order: Order, details: dict[str, Any], actor: User | None) -> None:
    before = {f: getattr(order, f) for f in DETAIL_FIELDS if f in details and getattr(order, f) != details[f]}
    if not before:
        return  # nothing differs: no write, no event
    after = {f: details[f] for f in before}
    for name, value in after.items():
        setattr(order, name, value)
    order.save(update_fields=[*after, "updated_at"])
    event_details_changed(order, actor, before=before, after=after)


def order_edit(*, order_id: int, lines: list[EditLine] | None = None, details: dict[str, Any] | None = None,
               actor: User | None) -> Order:
    """Edit lines and/or details (``billing_address``, ``shipping_address``, ``staff_note``) in one
    transaction: every check of both runs before anything is written."""
    unknown = set(details or {}) - set(DETAIL_FIELDS)
    if unknown:
        raise ValueError(f"not an order detail: {sorted(unknown)}")
    with transaction.atomic(), events_scope():
        order = order_lock(order_id)
        items = order_items_lock(order)
        plan = edit_plan(order, items, lines) if lines else None
        if details:
            _details_check(order, plan.final if plan else items, details)
        if plan is not None:
            (_apply_processing if plan.processing else _apply_pending)(order, plan, actor)
        if details:
            _details_apply(order, details, actor)
    return order


__all__ = ["DETAIL_FIELDS", "EditLine", "EditPlan", "OrderCannotBeEmpty", "OrderNotEditable",
           "QuantityBelowMinimum", "edit_plan", "order_edit"]
