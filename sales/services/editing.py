"""Edit an order's lines (SPEC §7.3, seed 003): add, change, remove lines of an order that is
still pending. Re-reserves stock, recomputes totals with carts.pricing, clears the coupon and
discounts (giving the coupon use back), records history."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F

from accounts.models import User
from carts.models import Coupon, CouponUsage, ShippingMethod
from carts.pricing import PricingLine, compute_totals, shipping_amount, tax_address
from carts.services.carts import product_resolve
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
from sales.events import event_edited, events_scope
from sales.locks import order_items_lock, order_lock
from sales.models import Order, OrderItem
from sales.services.common import order_refresh_state
from sales.services.holding import hold_check


class OrderNotEditable(Conflict):
    code = SalesErrorCode.ORDER_NOT_EDITABLE


class OrderCannotBeEmpty(InvalidInput):
    code = SalesErrorCode.ORDER_CANNOT_BE_EMPTY
    default_message = "An order keeps at least one line."


@dataclass(frozen=True)
class EditLine:
    quantity: int
    id: int | None = None
    product_id: int | None = None
    sku: str | None = None


def _order_tax_address(order: Order) -> dict[str, Any]:
    """The order's tax address by carts' rule (carts.pricing.tax_address)."""
    location = order.pickup_location if order.pickup_location_id else None
    return tax_address(billing=order.billing_address, shipping=order.shipping_address,
                       pickup=(location.address or {}) if location is not None else None)


def _order_shipping_amount(order: Order, items: list[OrderItem]) -> Decimal:
    """The edited order's shipping charge: a rated method (flatrate) priced again by carts' rule
    (carts.pricing.shipping_amount) for the shippable units; any other keeps what was charged."""
    if order.fulfillment_type != "shipping" or not order.shipping_method_code:
        return ZERO
    method = ShippingMethod.objects.filter(code=order.shipping_method_code).first()
    if method is None or method.code != "flatrate":
        return order.shipping_total
    return shipping_amount(amount=method.amount, calc=method.calc, rate=order.exchange_rate,
                           units=sum(i.qty_ordered for i in items if i.is_shippable))


def order_edit(*, order_id: int, lines: list[EditLine], actor: User | None) -> Order:
    with transaction.atomic(), events_scope():
        order = order_lock(order_id)
        items = order_items_lock(order)
        by_id = {i.id: i for i in items}
        # 400s first: unknown lines and products.
        for n, line in enumerate(lines):
            if line.id is not None and line.id not in by_id:
                raise OrderItemNotFound(f"Order item {line.id} is not a line of this order.", field=f"items.{n}.id")
        new_products = {n: product_resolve(product_id=line.product_id, sku=line.sku)
                        for n, line in enumerate(lines) if line.id is None}
        if rules.is_blocked("edit", order.status):
            raise OrderNotEditable(f"Order #{order.number} is {order.status_code}: only pending orders can be edited.")
        for n, line in enumerate(lines):
            if line.id is not None:
                item = by_id[line.id]
                if item.qty_invoiced or item.qty_shipped or item.qty_refunded or item.qty_canceled:
                    raise OrderNotEditable(f"{item.name}: already invoiced, shipped, refunded or canceled in part; "
                                           f"it cannot change.", field=f"items.{n}.id")
        hold_check(order, "edit")
        # Work out the new quantities per line.
        old_reserved: dict[int, int] = {}
        for item in items:
            if item.is_stocked and item.product_id and item.is_shippable:
                old_reserved[item.product_id] = old_reserved.get(item.product_id, 0) + item.qty_to_ship
        removed: list[OrderItem] = []
        changed: list[OrderItem] = []
        for line in lines:
            if line.id is None:
                continue
            item = by_id[line.id]
            if line.quantity == 0:
                removed.append(item)
            elif line.quantity != item.qty_ordered:
                item.qty_ordered = line.quantity
                changed.append(item)
        added: list[OrderItem] = []
        for n, product in new_products.items():
            added.append(OrderItem(order=order, product=product, sku=product.sku, name=product.name, type=product.type,
                                   is_shippable=product.is_shippable, is_stocked=product.is_stocked,
                                   qty_ordered=lines[n].quantity, price=convert(product.price, order.exchange_rate)))
        removed_ids = {i.id for i in removed}
        final = [i for i in items if i.id not in removed_ids] + added
        if not final:
            raise OrderCannotBeEmpty(f"Order #{order.number} must keep at least one line.", field="items")
        if len(final) > MAX_ORDER_LINES:
            raise InvalidInput(f"An order holds at most {MAX_ORDER_LINES:,} lines; this edit would make {len(final):,}.",
                               field="items")
        # Saleability of what is added or grows, then stock: release the old reservation, reserve the new.
        products = lock_products({i.product_id for i in final if i.product_id} | set(old_reserved))
        new_reserved: dict[int, int] = {}
        for item in final:
            if item.is_stocked and item.product_id and item.is_shippable:
                new_reserved[item.product_id] = new_reserved.get(item.product_id, 0) + item.qty_ordered
        for item in [*added, *changed]:
            if item.product_id:
                product = products[item.product_id]
                product_check_orderable(product, field=None)  # stock: the reservation checks it
        stock_release(quantities=old_reserved)
        _refresh_products(products)
        stock_reserve(quantities=new_reserved, locked=products)
        # Totals: discounts and coupon cleared, tax from the order's tax address.
        address = _order_tax_address(order)
        categories: set[int] = {category for i in final if i.product_id
                                and (category := products[i.product_id].tax_category_id) is not None}
        rates = tax_rate_map(categories, country=address.get("country"), zone=address.get("zone"))
        for item in final:
            category = products[item.product_id].tax_category_id if item.product_id else None
            if category is not None or item.product_id:
                item.tax_percent = rates.get(category, ZERO) if category else ZERO
        totals = compute_totals([PricingLine(price=i.price, quantity=i.qty_ordered, tax_percent=i.tax_percent)
                                 for i in final], shipping_amount=_order_shipping_amount(order, final))
        for item, t in zip(final, totals.lines, strict=True):
            item.subtotal, item.discount_amount, item.tax_amount, item.total = t.subtotal, t.discount, t.tax, t.total
        if removed:
            OrderItem.objects.filter(id__in=removed_ids).delete()
        kept = [i for i in final if i.pk]
        OrderItem.objects.bulk_update(kept, ["qty_ordered", "subtotal", "discount_amount", "tax_amount", "total",
                                             "tax_percent"])
        if added:
            OrderItem.objects.bulk_create(added)
        coupon_code = order.coupon_code
        if order.coupon_id:
            usage = CouponUsage.objects.filter(order_id=order.id).first()
            if usage is not None:
                usage.delete()
                Coupon.objects.filter(id=usage.coupon_id, times_used__gt=0).update(times_used=F("times_used") - 1)
        order.coupon, order.coupon_code = None, ""
        order.subtotal, order.discount_total, order.tax_total = totals.subtotal, totals.discount_total, totals.tax_total
        order.shipping_total, order.grand_total = totals.shipping_total, totals.grand_total
        order_refresh_state(order, final)
        order.save()
        event_edited(order, actor,
                     added=[{"product_id": i.product_id, "sku": i.sku, "quantity": i.qty_ordered} for i in added],
                     changed=[{"order_item_id": i.id, "quantity": i.qty_ordered} for i in changed],
                     removed=[{"order_item_id": i.id, "sku": i.sku} for i in removed],
                     coupon_removed=coupon_code or None)
    return order


def _refresh_products(products: dict[int, Product]) -> None:
    fresh = dict(Product.objects.filter(id__in=products).values_list("id", "qty_reserved"))
    for pid, product in products.items():
        product.qty_reserved = fresh.get(pid, product.qty_reserved)


__all__ = ["EditLine", "OrderCannotBeEmpty", "OrderNotEditable", "order_edit"]
