"""Hold / release hold (SPEC §12, Magento's hold, Shopify's fulfillment hold).

A held order refuses invoice, shipment and item edits (409 ``order_on_hold``, checked by
``hold_check`` after each action's status checks and before its quantities); refunds, cancel,
comments, address changes and archiving stay allowed, and a gateway capture invoices it as usual.
The status never changes. An order that becomes canceled, closed or completed is released by
``sales.services.common.order_refresh_state``, the one place every action recomputes status.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from sales import status as rules
from sales.errors import OrderNotHoldable, OrderNotOnHold, OrderOnHold
from sales.events import event_held, event_hold_released, events_scope
from sales.locks import order_lock
from sales.models import Order
from sales.services.common import order_hold_clear
from sales.services.counters import order_counted

HOLD_FIELDS = ["hold_reason", "held_at", "held_by", "updated_at"]
_VERBS: dict[rules.Action, str] = {"invoice": "invoiced", "ship": "shipped", "edit": "edited"}


def hold_check(order: Order, action: rules.Action) -> None:
    """409 order_on_hold when the order is held and the hold refuses ``action`` (rules.HELD_REFUSES)."""
    if order.held_at is not None and action in rules.HELD_REFUSES:
        raise OrderOnHold(f"Order #{order.number} is on hold ({order.hold_reason}): it cannot be {_VERBS[action]} "
                          f"until the hold is released.")


def hold_plan(order: Order) -> None:
    """Every check of Hold, in SPEC order. Writes nothing."""
    if (blocked := rules.blocked_reason("hold", order.status)) is not None:
        raise OrderNotHoldable(f"Order #{order.number} cannot be put on hold: {blocked}.")
    if order.held_at is not None:
        raise OrderOnHold(f"Order #{order.number} is already on hold ({order.hold_reason}).")


def release_plan(order: Order) -> None:
    if order.held_at is None:
        raise OrderNotOnHold(f"Order #{order.number} is not on hold.")


def order_hold(*, order_id: int, reason: str, actor: User | None) -> Order:
    with transaction.atomic(), events_scope():
        order = order_lock(order_id)
        hold_plan(order)
        order.hold_reason, order.held_at = reason, timezone.now()
        order.held_by = actor if actor is not None and actor.pk else None
        order.save(update_fields=HOLD_FIELDS)
        order_counted(order)
        event_held(order, actor, reason=reason)
    return order


def order_release_hold(*, order_id: int, actor: User | None) -> Order:
    with transaction.atomic(), events_scope():
        order = order_lock(order_id)
        release_plan(order)
        reason = order.hold_reason
        order_hold_clear(order)
        order.save(update_fields=HOLD_FIELDS)
        order_counted(order)
        event_hold_released(order, actor, reason=reason)
    return order


__all__ = ["hold_check", "hold_plan", "order_hold", "order_release_hold", "release_plan"]
