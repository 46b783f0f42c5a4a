"""Hosted checkout (SPEC §7.1): the customer pays a gateway order at /checkout/<token>/.

Payment goes through a provider interface; the built-in ``test`` provider captures at once.
A capture invoices the order (the only way a gateway order is invoiced) and sends the receipt.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.db import transaction

from config.errors import Conflict, NotFound
from sales import status as rules
from sales.error_codes import SalesErrorCode
from sales.events import event_payment_captured, events_scope
from sales.locks import order_items_lock, order_lock
from sales.models import Invoice, Order
from sales.services.common import is_gateway
from sales.services.invoicing import invoice_apply, invoice_plan


@dataclass(frozen=True)
class Capture:
    reference: str
    amount: Decimal


class PaymentProvider(Protocol):
    code: str

    def capture(self, *, order: Order, amount: Decimal) -> Capture: ...


class TestProvider:
    """Captures immediately; for development and tests."""

    code = "test"

    def capture(self, *, order: Order, amount: Decimal) -> Capture:
        return Capture(reference=f"test_{uuid.uuid4().hex[:16]}", amount=amount)


PROVIDERS: dict[str, PaymentProvider] = {"test": TestProvider()}


class OrderAlreadyPaid(Conflict):
    code = SalesErrorCode.ORDER_ALREADY_PAID
    default_message = "This order has already been paid."


def order_for_checkout(token: str) -> Order:
    order = Order.objects.filter(checkout_token=token).prefetch_related("items").first()
    if order is None:
        raise NotFound("No order for this checkout link.")
    return order


def order_is_payable(order: Order) -> bool:
    """The one rule the page's Pay button and the capture share."""
    return not order.payment_captured and is_gateway(order) and not rules.is_blocked("pay", order.status)


def checkout_pay(*, token: str, provider: str = "test") -> Invoice:
    with transaction.atomic(), events_scope():
        found = Order.objects.filter(checkout_token=token).values_list("id", flat=True).first()
        if found is None:
            raise NotFound("No order for this checkout link.")
        order = order_lock(found)
        if order.payment_captured:
            raise OrderAlreadyPaid(f"Order #{order.number} has already been paid.")
        if rules.is_blocked("pay", order.status) or not is_gateway(order):
            raise Conflict(f"Order #{order.number} cannot be paid here.", code=SalesErrorCode.ORDER_NOT_PAYABLE)
        items = order_items_lock(order)
        plan = invoice_plan(order, items, None, skip_gateway_check=True, skip_hold_check=True)
        capture = PROVIDERS[provider].capture(order=order, amount=plan.totals["grand_total"])
        invoice = invoice_apply(order, items, plan, actor=None, payment_reference=capture.reference,
                                notify=bool(order.extra.get("send_receipt", True)))
        event_payment_captured(order, provider=provider, reference=capture.reference, amount=capture.amount,
                               invoice_id=invoice.id)
    return invoice
