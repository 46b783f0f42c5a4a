"""Reorder: a fresh draft cart seeded from an order's lines (SPEC §4)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from accounts.models import User
from carts.models import Cart, CartItem
from carts.services.carts import cart_recalculate
from catalog.error_codes import CatalogErrorCode
from catalog.services.orderable import product_check_orderable
from catalog.services.pricing_inputs import convert, currency_get_enabled
from config.errors import Conflict, DomainError, NotFound
from sales.error_codes import SalesErrorCode
from sales.models import Order


@dataclass(frozen=True)
class SkippedItem:
    order_item_id: int
    sku: str | None
    name: str
    quantity: int
    code: str
    reason: str


@dataclass(frozen=True)
class ReorderResult:
    cart: Cart
    skipped_items: list[SkippedItem]


def order_reorder(*, order_id: int, actor: User | None) -> ReorderResult:
    order = Order.objects.select_related("customer").filter(id=order_id).first()
    if order is None:
        raise NotFound(f"Order {order_id} not found.")
    if order.customer_id is None:
        raise Conflict("The order has no customer to reorder for.", code=SalesErrorCode.ORDER_HAS_NO_CUSTOMER)
    currency = currency_get_enabled(order.currency)
    skipped: list[SkippedItem] = []
    with transaction.atomic():
        cart = Cart.objects.create(customer=order.customer, currency=currency.code, exchange_rate=currency.rate,
                                   created_by=actor, billing_address=order.billing_address,
                                   shipping_address=order.shipping_address)
        wanted: dict[int, int] = {}
        items = list(order.items.select_related("product").order_by("id"))
        for item in items:
            if item.product is None:
                skipped.append(SkippedItem(item.id, item.sku, item.name, item.qty_ordered, CatalogErrorCode.PRODUCT_NOT_FOUND,
                                           "The line has no catalog product."))
                continue
            qty = wanted.get(item.product_id, 0) + item.qty_ordered
            try:
                product_check_orderable(item.product, qty)
            except DomainError as exc:
                skipped.append(SkippedItem(item.id, item.sku, item.name, item.qty_ordered, exc.code, exc.message))
                continue
            wanted[item.product_id] = qty
        products = {i.product_id: i.product for i in items if i.product_id}
        CartItem.objects.bulk_create([
            CartItem(cart=cart, product=products[pid], quantity=qty, price=convert(products[pid].price, cart.exchange_rate))
            for pid, qty in wanted.items()
        ])
        cart_recalculate(cart)
    return ReorderResult(cart=cart, skipped_items=skipped)
