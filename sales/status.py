"""Pure status rules (SPEC §5): item quantities and payment state in, status out. No ORM."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, Protocol

from carts.models.methods import GATEWAY_PAYMENT_METHODS  # carts owns the payment methods; a constant, no query


class ItemQuantities(Protocol):
    qty_ordered: int
    qty_invoiced: int
    qty_shipped: int
    qty_refunded: int
    qty_returned: int
    qty_canceled: int
    is_shippable: bool


class OrderState(Protocol):
    """What the `can` flags read of an order (read-only: any object with these attributes)."""

    @property
    def status(self) -> int: ...
    @property
    def payment_method_code(self) -> str: ...
    @property
    def total_invoiced(self) -> Decimal: ...
    @property
    def total_refunded(self) -> Decimal: ...
    @property
    def held_at(self) -> object: ...  # a datetime while the order is on hold (SPEC §12), else None


PENDING, PENDING_PAYMENT, PROCESSING, COMPLETED, CANCELED, CLOSED, FRAUD = range(1, 8)

Action = Literal["invoice", "ship", "refund", "cancel", "pay", "edit", "hold"]

# The statuses that refuse each action, the one table every service and the `can` flags read.
BLOCKING: dict[Action, frozenset[int]] = {
    "invoice": frozenset({CANCELED, CLOSED, FRAUD}),
    "ship": frozenset({CANCELED, CLOSED, FRAUD}),
    "refund": frozenset({CANCELED, CLOSED, FRAUD}),
    "cancel": frozenset({CANCELED, CLOSED, FRAUD}),
    "pay": frozenset({CANCELED, CLOSED, FRAUD}),
    # pending orders change lines in place (§7.3); processing ones by §12's rule, unless paid by a gateway
    "edit": frozenset({COMPLETED, CANCELED, CLOSED, FRAUD}),
    "hold": frozenset({COMPLETED, CANCELED, CLOSED}),  # SPEC §12; these also end a hold (HOLD_ENDING)
}
# A held order that becomes one of these is released (sales.services.common.order_refresh_state).
HOLD_ENDING: frozenset[int] = BLOCKING["hold"]
# What a hold refuses (409 order_on_hold, checked after the status checks and before the quantities);
# a gateway capture ("pay") is never refused by a hold.
HELD_REFUSES: frozenset[Action] = frozenset({"invoice", "ship", "edit"})
_REASONS = {CANCELED: "it is canceled", CLOSED: "it is closed", FRAUD: "it is flagged as suspected fraud"}


def is_blocked(action: Action, status: int) -> bool:
    return status in BLOCKING[action]


def blocked_reason(action: Action, status: int) -> str | None:
    """Why ``status`` refuses ``action`` ("it is closed"), or None when it does not."""
    if status not in BLOCKING[action]:
        return None
    if action == "cancel" and status == CANCELED:
        return "it is already canceled"
    if action in ("hold", "edit") and status == COMPLETED:
        return "it is completed"
    return _REASONS.get(status, "it is not pending")


def edit_refused_reason(status: int, *, gateway_payment: bool) -> str | None:
    """Why an order's lines cannot be edited (SPEC §7.3, §12), or None when they can."""
    if (blocked := blocked_reason("edit", status)) is not None:
        return blocked
    if status == PROCESSING and gateway_payment:
        return "it was paid through a payment gateway, so its lines no longer change"
    return None


def is_gateway_payment(method_code: str | None) -> bool:
    """A payment method paid through a gateway (a checkout link): the order waits for the capture
    (pending_payment) and is never invoiced by hand."""
    return method_code in GATEWAY_PAYMENT_METHODS


def qty_to_invoice(i: ItemQuantities) -> int:
    return i.qty_ordered - i.qty_invoiced - i.qty_canceled


def qty_to_ship(i: ItemQuantities) -> int:
    """Units still to send: a refunded unit that was never sent (refunded − returned) is not."""
    if not i.is_shippable:
        return 0
    return max(0, i.qty_ordered - i.qty_shipped - (i.qty_refunded - i.qty_returned) - i.qty_canceled)


def qty_to_refund(i: ItemQuantities) -> int:
    return i.qty_invoiced - i.qty_refunded


def qty_to_cancel(i: ItemQuantities) -> int:
    return min(qty_to_invoice(i), qty_to_ship(i)) if i.is_shippable else qty_to_invoice(i)


def refund_units(i: ItemQuantities, n: int) -> tuple[int, int]:
    """Which units refunding ``n`` takes (SPEC §5): ``(unsent, returned)``.

    First those paid but not sent — invoiced beyond what shipped, less the unsent ones already
    refunded — whose reservation is released; the rest had been shipped (a return: qty_returned
    grows, and qty_to_ship does not move, so a unit neither invoiced nor shipped stays to ship).
    Counting every refunded unit as unsent would strand such a unit. A line that does not ship
    has no shipped units, so all of ``n`` is unsent.
    """
    paid_unsent = i.qty_invoiced - min(i.qty_invoiced, i.qty_shipped) - (i.qty_refunded - i.qty_returned)
    unsent = min(n, max(0, paid_unsent))
    return unsent, n - unsent


@dataclass(frozen=True)
class Flags:
    invoice: bool
    ship: bool
    refund: bool
    cancel: bool
    edit: bool = False
    hold: bool = False
    release_hold: bool = False


def status_compute(items: Iterable[ItemQuantities], *, current: int, gateway_payment: bool,
                   payment_captured: bool) -> int:
    """The first rule of SPEC §5 that holds."""
    items = list(items)
    if current == FRAUD:
        return FRAUD
    ordered = sum(i.qty_ordered for i in items)
    canceled = sum(i.qty_canceled for i in items)
    refunded = sum(i.qty_refunded for i in items)
    if items and canceled == ordered:
        return CANCELED
    if items and refunded > 0 and refunded + canceled == ordered:
        return CLOSED
    if items and all(qty_to_invoice(i) == 0 and qty_to_ship(i) == 0 for i in items):
        return COMPLETED
    if any(i.qty_invoiced or i.qty_shipped or i.qty_refunded or i.qty_canceled for i in items):
        return PROCESSING
    if gateway_payment and not payment_captured:
        return PENDING_PAYMENT
    return PENDING


def flags_compute(items: Iterable[ItemQuantities], *, status: int, gateway_payment: bool,
                  refundable_amount: Decimal, held: bool = False) -> Flags:
    """What the order allows now (the `can` object and the admin buttons).

    A refund follows money, not units: ``refundable_amount`` is total_invoiced − total_refunded.
    While it is above 0 some refund is accepted (at least an adjustment of it, or the shipping
    invoiced once every unit is refunded, as Magento's canCreditmemo allows); at 0 none is, even
    with units left to refund (all refunded through adjustments, or invoiced at 0.00), since a
    refund must come to more than 0.00 and no more than that amount (SPEC §5).
    """
    items = list(items)
    return Flags(
        invoice=not is_blocked("invoice", status) and not gateway_payment and not held
        and any(qty_to_invoice(i) > 0 for i in items),
        ship=not is_blocked("ship", status) and not held and any(qty_to_ship(i) > 0 for i in items),
        refund=not is_blocked("refund", status) and refundable_amount > 0,
        cancel=not is_blocked("cancel", status) and any(qty_to_cancel(i) > 0 for i in items),
        edit=edit_refused_reason(status, gateway_payment=gateway_payment) is None and not held,
        hold=not is_blocked("hold", status) and not held,
        release_hold=held,
    )


def order_can(order: OrderState, items: Iterable[ItemQuantities]) -> Flags:
    """The `can` flags of an order (the API's ``can`` object and the admin's buttons)."""
    return flags_compute(items, status=order.status, gateway_payment=is_gateway_payment(order.payment_method_code),
                         refundable_amount=order.total_invoiced - order.total_refunded,
                         held=order.held_at is not None)


def doc_state(done: int, total: int) -> str:
    if done <= 0:
        return "none"
    return "full" if done >= total else "partial"
