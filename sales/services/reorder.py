"""Reorder: a fresh draft cart seeded from an order's lines (SPEC §4)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from accounts.models import User
from carts.models import Cart, CartItem
from carts.services.carts import cart_recalculate
from catalog.error_codes import CatalogErrorCode
from catalog.models import Product
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
    customer = order.customer  # select_related: None without a query
    if customer is None:
        raise Conflict("The order has no customer to reorder for.", code=SalesErrorCode.ORDER_HAS_NO_CUSTOMER)
    currency = currency_get_enabled(order.currency)
    skipped: list[SkippedItem] = []
    with transaction.atomic():
        cart = Cart.objects.create(customer=customer, currency=currency.code, exchange_rate=currency.rate,
                                   created_by=actor, billing_address=order.billing_address,
                                   shipping_address=order.shipping_address)
        wanted: dict[int, int] = {}
        items = list(order.items.select_related("product").order_by("id"))
        products: dict[int, Product] = {}
        for item in items:
            product = item.product
            if product is None:
                skipped.append(SkippedItem(item.id, item.sku, item.name, item.qty_ordered,
                                           CatalogErrorCode.PRODUCT_NOT_FOUND, "The line has no catalog product."))
                continue
            products[product.id] = product
            qty = wanted.get(product.id, 0) + item.qty_ordered
            try:
                product_check_orderable(product, qty)
            except DomainError as exc:
                skipped.append(SkippedItem(item.id, item.sku, item.name, item.qty_ordered, exc.code, exc.message))
                continue
            wanted[product.id] = qty
        CartItem.objects.bulk_create([
            CartItem(cart=cart, product=products[pid], quantity=qty, price=convert(products[pid].price, cart.exchange_rate))
            for pid, qty in wanted.items()
        ])
        cart_recalculate(cart)
    return ReorderResult(cart=cart, skipped_items=skipped)
