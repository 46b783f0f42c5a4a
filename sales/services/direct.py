"""Direct create (SPEC §7.1, seed 001): one call creates an order for API clients that do not
need the cart steps — with line items (through a draft cart, so every cart rule applies) or a
product-less `cost` (one custom line that touches no stock)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction

from accounts.models import User
from carts.errors import PaymentMethodNotAvailable
from carts.models import PaymentMethod
from carts.services import carts as cart_services
from catalog.services.pricing_inputs import currency_get_enabled
from config.errors import InvalidInput
from customers.errors import CustomerNotFound
from customers.models import Customer
from customers.services.customers import customer_get_or_create_by_email
from sales import status as rules
from sales.events import event_created, events_scope
from sales.models import Channel, FulfillmentType, Order, OrderItem, OrderStatus
from sales.models.counters import WORK_INVOICE
from sales.models.order import CLIENT_FIELDS
from sales.services.counters import order_added
from sales.services.emails import email_after_commit
from sales.services.numbering import number_next
from sales.services.placing import checkout_token_new, checkout_url_for, order_place


@dataclass(frozen=True)
class DirectItem:
    quantity: int
    product_id: int | None = None
    sku: str | None = None


@dataclass(frozen=True)
class DirectOrderRequest:
    email: str
    items: list[DirectItem] = field(default_factory=list)
    cost: Decimal | None = None
    description: str | None = None
    customer_id: int | None = None
    payment_method: str = "paylink"
    coupon_code: str | None = None
    billing_address: dict[str, Any] | None = None
    shipping_address: dict[str, Any] | None = None
    shipping_method: dict[str, Any] | None = None
    currency: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # CLIENT_FIELDS: shown as the order's `client`
    send_receipt: bool = True


def _customer(req: DirectOrderRequest) -> Customer:
    if req.customer_id is not None:
        customer = Customer.objects.filter(id=req.customer_id).first()
        if customer is None:
            raise CustomerNotFound(f"No customer with id {req.customer_id}.", field="customer_id")
        return customer
    names = req.billing_address or {}
    return customer_get_or_create_by_email(email=req.email, first_name=names.get("first_name", ""),
                                           last_name=names.get("last_name", ""))


def _payment_method(code: str) -> PaymentMethod:
    method = PaymentMethod.objects.filter(code=code).first()
    if method is None or not method.enabled:
        raise PaymentMethodNotAvailable(f"Payment method {code!r} {'does not exist' if method is None else 'is disabled'}.",
                                        field="payment_method")
    return method


def _check_combination(req: DirectOrderRequest) -> None:
    """Parts of a request that cannot all be kept are refused, never dropped (SPEC §7.1)."""
    if req.cost is not None:
        if req.coupon_code:
            raise InvalidInput("A custom amount (cost) takes no coupon: leave coupon_code out.", field="coupon_code")
        if req.shipping_method:
            raise InvalidInput("Nothing ships in a custom-amount order (cost): leave shipping_method out.",
                               field="shipping_method")
    elif req.shipping_method and req.shipping_method.get("code") == "pickup" and req.shipping_address:
        raise InvalidInput("A pickup order has no shipping address: leave shipping_address out, or choose a "
                           "shipping method that ships.", field="shipping_address")


def order_create_direct(*, request: DirectOrderRequest, actor: User | None) -> Order:
    _check_combination(request)
    extra = {**{k: v for k, v in request.extra.items() if k in CLIENT_FIELDS and v},
             "send_receipt": request.send_receipt}
    with transaction.atomic(), events_scope():
        customer = _customer(request)
        if request.cost is not None:
            order = _create_custom_amount(request, customer, actor, extra)
        else:
            cart = cart_services.cart_create(customer_id=customer.id, currency=request.currency, actor=actor)
            for n, item in enumerate(request.items):
                try:
                    cart_services.cart_item_add(cart_id=cart.id, product_id=item.product_id, sku=item.sku,
                                                quantity=item.quantity)
                except Exception as exc:  # point the error at the line it came from
                    _prefix_field(exc, f"items.{n}")
                    raise
            if request.billing_address or request.shipping_address:
                cart_services.cart_addresses_set(cart_id=cart.id, billing=request.billing_address or {},
                                                 shipping=request.shipping_address)
            if request.shipping_method:
                cart_services.cart_shipping_method_set(cart_id=cart.id, code=request.shipping_method["code"],
                                                       location_id=request.shipping_method.get("location_id"))
            cart_services.cart_payment_method_set(cart_id=cart.id, code=request.payment_method)
            if request.coupon_code:
                cart_services.cart_coupon_apply(cart_id=cart.id, code=request.coupon_code)
            order = order_place(cart_id=cart.id, actor=actor, channel=Channel.API, direct=True, extra=extra,
                                metadata=request.metadata)
            event_created(order, actor, channel=Channel.API)
    return order


def _prefix_field(exc: Exception, prefix: str) -> None:
    errors = getattr(exc, "errors", None)
    if errors:
        for e in errors:
            e["field"] = f"{prefix}.{e['field']}" if e.get("field") else prefix


def _create_custom_amount(req: DirectOrderRequest, customer: Customer, actor: User | None,
                          extra: dict[str, Any]) -> Order:
    method = _payment_method(req.payment_method)
    currency = currency_get_enabled(req.currency)
    gateway = rules.is_gateway_payment(method.code)
    cost = req.cost or Decimal("0")
    order = Order.objects.create(
        number=number_next("order"), status=OrderStatus.PENDING_PAYMENT if gateway else OrderStatus.PENDING,
        channel=Channel.API, customer=customer, customer_email=customer.email,
        customer_name=customer.name[:255],  # a display copy: first + last name can reach 301 characters
        currency=currency.code, base_currency=settings.BASE_CURRENCY, exchange_rate=currency.rate,
        billing_address=req.billing_address, shipping_address=None, fulfillment_type=FulfillmentType.NONE,
        payment_method_code=method.code, payment_method_title=method.title, subtotal=cost, grand_total=cost,
        checkout_token=checkout_token_new() if gateway else None, created_by=actor, metadata=req.metadata,
        extra=extra, work_left=WORK_INVOICE)
    line = OrderItem.objects.create(order=order, product=None, sku=None, name=req.description or "Custom amount",
                             type="virtual", is_shippable=False, is_stocked=False, qty_ordered=1, price=cost,
                             subtotal=cost, total=cost)
    order_added(order, [line])  # the status counters and the day's rollups, in this transaction
    event_created(order, actor, channel=Channel.API, cost=cost)
    email_after_commit(order_id=order.id, kind="order_placed", checkout_url=checkout_url_for(order))
    return order
