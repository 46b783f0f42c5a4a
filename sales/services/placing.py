"""Place a draft cart as an order (SPEC §4): one transaction, stock reserved under row locks."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F

from accounts.models import User
from carts.errors import (
    AddressRequired,
    CartEmpty,
    CartInactive,
    PaymentMethodNotAvailable,
    PaymentMethodRequired,
    ShippingMethodNotAvailable,
    ShippingMethodRequired,
)
from carts.models import Cart, CartItem, Coupon, CouponUsage
from carts.services.carts import cart_has_shippable, cart_recalculate, coupon_check, shipping_options
from catalog.models import Product
from catalog.services.orderable import product_check_orderable
from catalog.services.stock import lock_products, stock_reserve
from config.errors import NotFound
from sales import status as rules
from sales.events import event_placed, events_scope
from sales.models import Channel, FulfillmentType, Order, OrderItem, OrderStatus
from sales.models.counters import WORK_INVOICE, WORK_SHIP
from sales.services.counters import order_added
from sales.services.emails import email_after_commit
from sales.services.numbering import number_next


def checkout_token_new() -> str:
    return secrets.token_urlsafe(32)


def _check_products_still_saleable(items: list[CartItem], products: dict[int, Product]) -> None:
    """Each product can still be ordered (the catalog's rule); stock is checked by the reservation."""
    for item in items:
        product_check_orderable(products[item.product_id], field=None)


def order_place(*, cart_id: int, actor: User | None, channel: str = Channel.ADMIN, direct: bool = False,
                extra: dict[str, Any] | None = None, metadata: dict[str, Any] | None = None) -> Order:
    """Place a cart. ``direct`` (the one-call create of SPEC §7.1) lets the billing address,
    shipping address and shipping method be left out: the order then carries no shipping
    charge and the merchant arranges delivery."""
    with transaction.atomic(), events_scope():
        cart = (Cart.objects.select_for_update(of=("self",))
                .select_related("customer", "shipping_method", "payment_method", "pickup_location", "coupon")
                .filter(id=cart_id).first())
        if cart is None:
            raise NotFound(f"Cart {cart_id} not found.")
        if not cart.is_active:
            raise CartInactive()
        items = list(cart.items.select_related("product").order_by("id"))
        if not items:
            raise CartEmpty("The cart has no items: add at least one product before placing it.")
        if not cart.billing_address and not direct:
            raise AddressRequired("A billing address is required.", field="billing_address")
        ships = cart_has_shippable(items)
        method = cart.shipping_method  # select_related: None without a query when none is set
        payment = cart.payment_method
        pickup = ships and method is not None and method.code == "pickup"
        if ships and not pickup and not cart.shipping_address and not (direct and method is None):
            raise AddressRequired("A shipping address is required: the cart holds items that ship.",
                                  field="shipping_address")
        if ships and method is None and not direct:
            raise ShippingMethodRequired()
        if payment is None:
            raise PaymentMethodRequired()
        if not payment.enabled:
            raise PaymentMethodNotAvailable(f"{payment.title} has been disabled; choose another.")
        if ships and method is not None:
            available = {o.code: o for o in shipping_options(cart, items)}
            option = available.get(method.code)
            if option is None or (pickup and all(loc.id != cart.pickup_location_id for loc in option.locations)):
                raise ShippingMethodNotAvailable(f"{method.title} is no longer available for this "
                                                 f"cart; choose another.")
        # Lock order: cart, products (pk order), coupon.
        products = lock_products(i.product_id for i in items)
        for item in items:
            item.product = products[item.product_id]
        _check_products_still_saleable(items, products)
        stock_reserve(quantities=_sum_by_product(items), locked=products)
        coupon = None
        if cart.coupon_id:
            coupon = Coupon.objects.select_for_update().get(id=cart.coupon_id)
            cart.coupon = coupon
        cart_recalculate(cart, items)
        if coupon is not None:
            coupon_check(coupon, code=coupon.code, customer_id=cart.customer_id, subtotal=cart.subtotal,
                         rate=cart.exchange_rate)
        if coupon is not None:
            Coupon.objects.filter(id=coupon.id).update(times_used=F("times_used") + 1)
        cart.is_active = False
        cart.save(update_fields=["is_active", "updated_at"])
        # The number last (sales.services.numbering): only the order, its lines, its coupon use and
        # its event, which need the order, follow it.
        order = _order_from_cart(cart, items, ships=ships, pickup=pickup, actor=actor, channel=channel,
                                 extra=extra or {}, metadata=metadata or {})
        if coupon is not None:
            CouponUsage.objects.create(coupon=coupon, customer_id=cart.customer_id, order_id=order.id)
        event_placed(order, actor, cart_id=cart.id, items=len(items))
        email_after_commit(order_id=order.id, kind="order_placed", checkout_url=checkout_url_for(order))
    return order


def _sum_by_product(items: list[CartItem]) -> dict[int, int]:
    out: dict[int, int] = {}
    for i in items:
        if i.product.is_stocked:
            out[i.product_id] = out.get(i.product_id, 0) + i.quantity
    return out


def checkout_url_for(order: Order) -> str | None:
    if not order.checkout_token:
        return None
    base = getattr(settings, "PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    return f"{base}/checkout/{order.checkout_token}/"


def _order_from_cart(cart: Cart, items: list[CartItem], *, ships: bool, pickup: bool, actor: User | None,
                     channel: str, extra: dict[str, Any], metadata: dict[str, Any]) -> Order:
    customer = cart.customer
    method, payment, coupon = cart.shipping_method, cart.payment_method, cart.coupon
    assert payment is not None  # order_place refused a cart without one
    gateway = rules.is_gateway_payment(payment.code)
    order = Order.objects.create(
        number=number_next("order"),
        status=OrderStatus.PENDING_PAYMENT if gateway else OrderStatus.PENDING,
        channel=channel,
        customer=customer,
        customer_email=customer.email,
        customer_name=customer.name[:255],  # a display copy: first + last name can reach 301 characters
        currency=cart.currency,
        base_currency=settings.BASE_CURRENCY,
        exchange_rate=cart.exchange_rate,
        billing_address=cart.billing_address or None,  # a direct create may leave it out (SPEC §7.1)
        shipping_address=None if (pickup or not ships) else cart.shipping_address,
        fulfillment_type=(FulfillmentType.PICKUP if pickup else FulfillmentType.SHIPPING if ships
                          else FulfillmentType.NONE),
        pickup_location=cart.pickup_location if pickup else None,
        shipping_method_code=method.code if ships and method is not None else "",
        shipping_method_title=method.title if ships and method is not None else "",
        payment_method_code=payment.code,
        payment_method_title=payment.title,
        coupon=coupon,
        coupon_code=coupon.code if coupon is not None else "",
        subtotal=cart.subtotal,
        discount_total=cart.discount_total,
        tax_total=cart.tax_total,
        shipping_total=cart.shipping_total if ships else 0,
        grand_total=cart.grand_total if ships else cart.grand_total - cart.shipping_total,
        cart=cart,
        checkout_token=checkout_token_new() if gateway else None,
        created_by=actor,
        extra=extra,
        metadata=metadata,
        work_left=WORK_INVOICE | (WORK_SHIP if ships else 0),  # what order_added counts (checked there)
    )
    lines = OrderItem.objects.bulk_create([
        OrderItem(order=order, product=i.product, sku=i.product.sku, name=i.product.name, type=i.product.type,
                  is_shippable=i.product.is_shippable, is_stocked=i.product.is_stocked, qty_ordered=i.quantity,
                  price=i.price, subtotal=i.subtotal, tax_percent=i.tax_percent, tax_amount=i.tax,
                  discount_amount=i.discount, total=i.total)
        for i in items
    ])
    order_added(order, lines)  # the status counters and the day's rollups, in this transaction
    return order
