"""Cancel Order (SPEC §5): cancels every qty_to_cancel, releases reservations, gives a fully
canceled order's coupon use back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F

from accounts.models import User
from carts.models import Coupon, CouponUsage
from catalog.services.stock import lock_products, stock_release
from config.money import ZERO
from sales import status as rules
from sales.errors import OrderNotCancelable
from sales.events import event_canceled, events_scope, line_ref
from sales.locks import order_items_lock, order_lock
from sales.models import Order, OrderItem
from sales.services.common import amounts_for_billing, order_refresh_state
from sales.services.emails import email_after_commit


def cancel_check(order: Order, items: Sequence[OrderItem]) -> dict[int, int]:
    if (blocked := rules.blocked_reason("cancel", order.status)) is not None:
        raise OrderNotCancelable(f"Order #{order.number} cannot be canceled: {blocked}.")
    to_cancel = {i.id: i.qty_to_cancel for i in items if i.qty_to_cancel > 0}
    if not to_cancel:
        raise OrderNotCancelable(f"Order #{order.number} has nothing left to cancel: every unit is invoiced or "
                                 f"shipped.")
    return to_cancel


@dataclass(frozen=True)
class CancelOutcome:
    release: dict[int, int]  # product id → units whose reservation goes
    lines: list[dict[str, Any]]  # the event's items
    amount: Decimal  # what the cancel takes off the order (its shipping too when it cancels everything)
    fully: bool


def cancel_counts(order: Order, items: Sequence[OrderItem], to_cancel: dict[int, int]) -> CancelOutcome:
    """What canceling ``to_cancel`` (item id → units) does to the order's own numbers, in memory and
    without a query: each line's canceled counters and amounts, the order's total_canceled. The
    service writes the result; seed_demo's bulk writer writes the same objects as rows."""
    by_id = {i.id: i for i in items}
    release: dict[int, int] = {}
    canceled_total = ZERO
    lines = []
    for item_id, qty in to_cancel.items():
        item = by_id[item_id]
        subtotal, tax, discount = amounts_for_billing(item, qty)
        item.qty_canceled += qty
        item.subtotal_canceled += subtotal
        item.tax_canceled += tax
        item.discount_canceled += discount
        canceled_total += subtotal - discount + tax
        if item.is_stocked and item.product_id and item.is_shippable:
            release[item.product_id] = release.get(item.product_id, 0) + qty
        lines.append(line_ref(item.id, item.sku, qty))
    fully = all(i.qty_canceled == i.qty_ordered for i in items)
    if fully:
        canceled_total += order.shipping_total - order.shipping_invoiced
    order.total_canceled += canceled_total
    return CancelOutcome(release=release, lines=lines, amount=canceled_total, fully=fully)


def cancel_apply(order: Order, items: list[OrderItem], to_cancel: dict[int, int], *, actor: User | None,
                 notify: bool = True, reason: str | None = None) -> Order:
    outcome = cancel_counts(order, items, to_cancel)
    release, fully = outcome.release, outcome.fully
    if release:
        lock_products(release)
        stock_release(quantities=release)
    by_id = {i.id: i for i in items}
    OrderItem.objects.bulk_update([by_id[i] for i in to_cancel],
                                  ["qty_canceled", "subtotal_canceled", "tax_canceled", "discount_canceled"])
    if fully and order.coupon_id:
        usage = CouponUsage.objects.filter(order_id=order.id).first()
        if usage is not None:
            usage.delete()
            Coupon.objects.filter(id=usage.coupon_id, times_used__gt=0).update(times_used=F("times_used") - 1)
    order_refresh_state(order, items)
    order.save()
    event_canceled(order, actor, items=outcome.lines, amount=outcome.amount, fully=fully, reason=reason)
    if notify:
        email_after_commit(order_id=order.id, kind="canceled")
    return order


def order_cancel(*, order_id: int, actor: User | None) -> Order:
    with transaction.atomic(), events_scope():
        order = order_lock(order_id)
        items = order_items_lock(order)
        to_cancel = cancel_check(order, items)
        return cancel_apply(order, items, to_cancel, actor=actor)
