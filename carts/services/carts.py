"""Draft-cart steps (SPEC §4). Each step: one transaction, cart row locked, every check
before any write, totals recomputed by carts.pricing before the cart is saved."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from carts.errors import (
    CartInactive,
    CouponNotApplicable,
    PaymentMethodNotAvailable,
    ShippingMethodNotAvailable,
)
from carts.models import Cart, CartItem, Coupon, CouponUsage, PaymentMethod, ShippingMethod
from carts.pricing import CouponTerms, PricingLine, Totals, compute_totals, shipping_amount, tax_address
from catalog.errors import InventorySourceNotFound, ProductNotFound
from catalog.models import InventorySource, Product
from catalog.services.orderable import product_check_orderable
from catalog.services.pricing_inputs import convert, currency_get_enabled, tax_rate_map
from config.errors import InvalidInput, NotFound
from config.fields import MAX_ORDER_LINES
from config.money import ZERO
from customers.models import Customer


@dataclass(frozen=True)
class ShippingOption:
    code: str
    title: str
    amount: Decimal
    method: ShippingMethod
    locations: list[InventorySource] = field(default_factory=list)


# ---------------------------------------------------------------- reads / helpers

def cart_get_for_update(cart_id: int) -> Cart:
    cart = Cart.objects.select_for_update().filter(id=cart_id).first()
    if cart is None:
        raise NotFound(f"Cart {cart_id} not found.")
    if not cart.is_active:
        raise CartInactive()
    return cart


def product_resolve(*, product_id: int | None = None, sku: str | None = None, field_name: str = "product_id"
                    ) -> Product:
    product = None
    if product_id is not None:
        product = Product.objects.filter(id=product_id).first()
        if product is None:
            raise ProductNotFound(f"No product with id {product_id}.", field=field_name)
    elif sku is not None:
        product = Product.objects.filter(sku=sku).first()
        if product is None:
            raise ProductNotFound(f"No product with SKU {sku!r}.", field="sku")
    else:
        raise ProductNotFound("Give product_id or sku.", field="product_id")
    return product


def cart_has_shippable(items: list[CartItem]) -> bool:
    return any(i.product.is_shippable for i in items)


def cart_tax_address(cart: Cart, items: list[CartItem]) -> dict[str, Any]:
    """The cart's tax address (carts.pricing.tax_address): its pickup location, else its
    shipping address when something ships, else its billing address."""
    method = cart.shipping_method  # None, without a query, when no method is set
    location = cart.pickup_location if method is not None and method.code == "pickup" else None
    return tax_address(billing=cart.billing_address, shipping=cart.shipping_address,
                       pickup=(location.address or {}) if location is not None else None,
                       ships=cart_has_shippable(items))


def coupon_terms(coupon: Coupon | None, rate: Decimal) -> CouponTerms | None:
    if coupon is None:
        return None
    value = coupon.value if coupon.discount_type == "percent" else convert(coupon.value, rate)
    return CouponTerms(discount_type=coupon.discount_type, value=value, free_shipping=coupon.free_shipping)


def coupon_check(coupon: Coupon | None, *, code: str, customer_id: int | None, subtotal: Decimal,
                 rate: Decimal) -> Coupon:
    """Raise coupon_not_applicable saying why, or return the coupon."""
    if coupon is None:
        raise CouponNotApplicable(f"Coupon {code!r} does not exist.", field="code")
    now = timezone.now()
    if not coupon.is_active:
        raise CouponNotApplicable(f"Coupon {coupon.code} is inactive.", field="code")
    if coupon.starts_at and coupon.starts_at > now:
        raise CouponNotApplicable(f"Coupon {coupon.code} is not valid before {coupon.starts_at:%Y-%m-%d %H:%M}.",
                                  field="code")
    if coupon.ends_at and coupon.ends_at < now:
        raise CouponNotApplicable(f"Coupon {coupon.code} expired on {coupon.ends_at:%Y-%m-%d %H:%M}.", field="code")
    if coupon.usage_limit is not None and coupon.times_used >= coupon.usage_limit:
        raise CouponNotApplicable(f"Coupon {coupon.code} has been used up ({coupon.usage_limit} uses).", field="code")
    if coupon.usage_limit_per_customer is not None and customer_id is not None:
        used = CouponUsage.objects.filter(coupon=coupon, customer_id=customer_id).count()
        if used >= coupon.usage_limit_per_customer:
            raise CouponNotApplicable(f"Coupon {coupon.code} has been used up by this customer "
                                      f"({coupon.usage_limit_per_customer} per customer).", field="code")
    if coupon.min_subtotal is not None:
        minimum = convert(coupon.min_subtotal, rate)
        if subtotal < minimum:
            raise CouponNotApplicable(f"Coupon {coupon.code} needs a subtotal of at least {minimum}; the cart has "
                                      f"{subtotal}.", field="code")
    return coupon


def shipping_options(cart: Cart, items: list[CartItem], *, subtotal: Decimal | None = None) -> list[ShippingOption]:
    """Methods available to the cart now. Pickup needs no address; others need a shipping address."""
    if not cart_has_shippable(items):
        return []
    if subtotal is None:
        subtotal = sum((i.price * i.quantity for i in items), ZERO)
    units = sum(i.quantity for i in items if i.product.is_shippable)
    options: list[ShippingOption] = []
    for method in ShippingMethod.objects.filter(enabled=True):
        if method.code == "pickup":
            locations = list(InventorySource.objects.filter(active=True, pickup_enabled=True))
            if locations:
                options.append(ShippingOption(method.code, method.title, ZERO, method, locations))
        elif not cart.shipping_address:
            continue
        elif method.code == "free":
            threshold = None if method.free_threshold is None else convert(method.free_threshold, cart.exchange_rate)
            if threshold is None or subtotal >= threshold:
                options.append(ShippingOption(method.code, method.title, ZERO, method))
        else:
            amount = shipping_amount(amount=method.amount, calc=method.calc, rate=cart.exchange_rate, units=units)
            options.append(ShippingOption(method.code, method.title, amount, method))
    return options


def _cart_items(cart: Cart) -> list[CartItem]:
    return list(cart.items.select_related("product").order_by("id"))


def cart_recalculate(cart: Cart, items: list[CartItem] | None = None) -> Totals:
    """Recompute every line and the totals, drop a shipping method that no longer applies, save."""
    if items is None:
        items = _cart_items(cart)
    subtotal = sum((i.price * i.quantity for i in items), ZERO)
    options = {o.code: o for o in shipping_options(cart, items, subtotal=subtotal)}
    shipping_charge = ZERO
    method = cart.shipping_method
    if method is not None:
        option = options.get(method.code)
        if option is not None and (
                option.code != "pickup" or any(loc.id == cart.pickup_location_id for loc in option.locations)):
            shipping_charge = option.amount
        else:
            cart.shipping_method = None
            cart.pickup_location = None
    address = cart_tax_address(cart, items)
    category_ids = {i.product.tax_category_id for i in items if i.product.tax_category_id}
    rates = tax_rate_map(category_ids, country=address.get("country"), zone=address.get("zone"))
    for item in items:
        item.tax_percent = rates.get(item.product.tax_category_id, ZERO) if item.product.tax_category_id else ZERO
    totals = compute_totals(
        [PricingLine(price=i.price, quantity=i.quantity, tax_percent=i.tax_percent) for i in items],
        coupon=coupon_terms(cart.coupon, cart.exchange_rate) if cart.coupon_id else None,
        shipping_amount=shipping_charge,
    )
    for item, line in zip(items, totals.lines, strict=True):
        item.subtotal, item.discount, item.tax, item.total = line.subtotal, line.discount, line.tax, line.total
    if items:
        CartItem.objects.bulk_update(items, ["subtotal", "discount", "tax", "tax_percent", "total"])
    cart.subtotal, cart.discount_total, cart.tax_total = totals.subtotal, totals.discount_total, totals.tax_total
    cart.shipping_total, cart.grand_total = totals.shipping_total, totals.grand_total
    cart.save()
    return totals


# ---------------------------------------------------------------- steps

def cart_create(*, customer_id: int, currency: str | None = None, actor: User | None = None) -> Cart:
    customer = Customer.objects.filter(id=customer_id).first()
    if customer is None:
        raise NotFound(f"Customer {customer_id} not found.")
    cur = currency_get_enabled(currency)
    return Cart.objects.create(customer=customer, currency=cur.code, exchange_rate=cur.rate, created_by=actor)


@transaction.atomic
def cart_item_add(*, cart_id: int, quantity: int, product_id: int | None = None, sku: str | None = None) -> Cart:
    cart = cart_get_for_update(cart_id)
    product = product_resolve(product_id=product_id, sku=sku)
    existing = cart.items.filter(product=product).first()
    resulting = quantity + (existing.quantity if existing else 0)
    product_check_orderable(product, resulting)
    price = convert(product.price, cart.exchange_rate)
    if existing:
        existing.quantity, existing.price = resulting, price
        existing.save(update_fields=["quantity", "price"])
    else:
        if cart.items.count() >= MAX_ORDER_LINES:
            raise InvalidInput(f"A cart holds at most {MAX_ORDER_LINES:,} lines (the most an order can have).",
                               field="product_id")
        CartItem.objects.create(cart=cart, product=product, quantity=quantity, price=price)
    cart_recalculate(cart)
    return cart


def _cart_item(cart: Cart, item_id: int) -> CartItem:
    item = cart.items.select_related("product").filter(id=item_id).first()
    if item is None:
        raise NotFound(f"Cart {cart.id} has no item {item_id}.")
    return item


@transaction.atomic
def cart_item_update(*, cart_id: int, item_id: int, quantity: int) -> Cart:
    cart = cart_get_for_update(cart_id)
    item = _cart_item(cart, item_id)
    product_check_orderable(item.product, quantity)
    item.quantity, item.price = quantity, convert(item.product.price, cart.exchange_rate)
    item.save(update_fields=["quantity", "price"])
    cart_recalculate(cart)
    return cart


@transaction.atomic
def cart_item_remove(*, cart_id: int, item_id: int) -> Cart:
    cart = cart_get_for_update(cart_id)
    _cart_item(cart, item_id).delete()
    cart_recalculate(cart)
    return cart


@transaction.atomic
def cart_addresses_set(*, cart_id: int, billing: dict[str, Any], shipping: dict[str, Any] | None = None,
                       shipping_same_as_billing: bool = False) -> Cart:
    cart = cart_get_for_update(cart_id)
    cart.billing_address = billing
    cart.shipping_address = dict(billing) if shipping_same_as_billing else shipping
    cart_recalculate(cart)
    return cart


def cart_shipping_options(*, cart_id: int) -> list[ShippingOption]:
    cart = Cart.objects.select_related("shipping_method").filter(id=cart_id).first()
    if cart is None:
        raise NotFound(f"Cart {cart_id} not found.")
    return shipping_options(cart, _cart_items(cart))


@transaction.atomic
def cart_shipping_method_set(*, cart_id: int, code: str, location_id: int | None = None) -> Cart:
    cart = cart_get_for_update(cart_id)
    location = None
    if location_id is not None:
        location = InventorySource.objects.filter(id=location_id).first()
        if location is None:
            raise InventorySourceNotFound(f"No inventory source with id {location_id}.", field="location_id")
    items = _cart_items(cart)
    options = {o.code: o for o in shipping_options(cart, items)}
    option = options.get(code)
    if option is None:
        method = ShippingMethod.objects.filter(code=code).first()
        if method is None:
            why = f"there is no shipping method {code!r}"
        elif not method.enabled:
            why = f"{method.title} is disabled"
        elif not cart_has_shippable(items):
            why = "nothing in this cart ships"
        elif code == "pickup":
            why = "no pickup location is available"
        elif not cart.shipping_address:
            why = f"{method.title} needs a shipping address first"
        elif code == "free":
            why = f"{method.title} needs a subtotal of at least {convert(method.free_threshold or ZERO, cart.exchange_rate)}"
        else:
            why = f"{method.title} does not apply to this cart"
        raise ShippingMethodNotAvailable(f"Shipping method not available: {why}.", field="code")
    if code == "pickup":
        if location is None:
            raise ShippingMethodNotAvailable("Pickup needs a location_id: one of the pickup locations listed.",
                                             field="location_id")
        if not any(loc.id == location.id for loc in option.locations):
            raise ShippingMethodNotAvailable(f"{location.name} is not a pickup location.", field="location_id")
    cart.shipping_method = option.method
    cart.pickup_location = location if code == "pickup" else None
    cart_recalculate(cart, items)
    return cart


def cart_payment_options() -> list[PaymentMethod]:
    return list(PaymentMethod.objects.filter(enabled=True))


@transaction.atomic
def cart_payment_method_set(*, cart_id: int, code: str) -> Cart:
    cart = cart_get_for_update(cart_id)
    method = PaymentMethod.objects.filter(code=code).first()
    if method is None or not method.enabled:
        why = "does not exist" if method is None else "is disabled"
        raise PaymentMethodNotAvailable(f"Payment method {code!r} {why}.", field="code")
    cart.payment_method = method
    cart.save(update_fields=["payment_method", "updated_at"])
    return cart


def coupon_find(code: str) -> Coupon | None:
    """Case-insensitive in every alphabet: codes are stored upper-cased (Coupon.save), and
    SQLite's LIKE (behind ``iexact``) folds ASCII letters only, so "été" would miss "ÉTÉ"."""
    code = (code or "").strip()
    if not code:
        return None
    return Coupon.objects.filter(Q(code=code.upper()) | Q(code__iexact=code)).first()


@transaction.atomic
def cart_coupon_apply(*, cart_id: int, code: str) -> Cart:
    cart = cart_get_for_update(cart_id)
    coupon = coupon_check(coupon_find(code), code=code, customer_id=cart.customer_id, subtotal=cart.subtotal,
                          rate=cart.exchange_rate)
    cart.coupon = coupon
    cart_recalculate(cart)
    return cart


@transaction.atomic
def cart_coupon_remove(*, cart_id: int) -> Cart:
    cart = cart_get_for_update(cart_id)
    cart.coupon = None
    cart_recalculate(cart)
    return cart


__all__ = [name for name in dir() if name.startswith(("cart_", "coupon_", "product_", "shipping_"))] + ["ShippingOption"]
