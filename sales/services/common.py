"""Pieces every lifecycle action shares: request lines, the line-amount arithmetic (pure),
status refresh and history events."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from config.errors import InvalidInput
from config.money import ZERO, share
from sales import status as rules
from sales.errors import OrderItemNotFound, QuantityExceedsRemaining
from sales.events import event_hold_released, line_ref
from sales.models import Order, OrderItem
from sales.services import counters


@dataclass(frozen=True)
class LineQty:
    order_item_id: int
    quantity: int


@dataclass(frozen=True)
class LineAmounts:
    order_item_id: int
    sku: str | None
    name: str
    quantity: int
    price: Decimal
    subtotal: Decimal
    tax_amount: Decimal
    discount_amount: Decimal

    @property
    def total(self) -> Decimal:
        return self.subtotal - self.discount_amount + self.tax_amount


def lines_resolve(items: Sequence[OrderItem], lines: Iterable[LineQty] | None, *, field: str = "items",
                  allow_empty: bool = False) -> dict[int, int] | None:
    """Map order_item_id → quantity, refusing ids of other orders (400 order_item_not_found) and
    quantities below 1 (400 validation_error: the API's serializers refuse them too, but admin
    views and commands call the services directly). None means the caller gave no lines
    ("everything left"); an empty list is refused unless ``allow_empty`` (a refund of amounts only),
    since "invoice / ship nothing" is a malformed request, not "everything"."""
    if lines is None:
        return None
    lines = list(lines)
    if not lines and not allow_empty:
        raise InvalidInput(f"{field} is empty: omit it to take everything left, or list the lines.", field=field)
    by_id = {i.id: i for i in items}
    wanted: dict[int, int] = {}
    for n, line in enumerate(lines):
        if not isinstance(line.quantity, int) or isinstance(line.quantity, bool) or line.quantity < 1:
            raise InvalidInput(f"Quantity must be a whole number of at least 1, not {line.quantity!r}.",
                               field=f"{field}.{n}.quantity")
        if line.order_item_id not in by_id:
            raise OrderItemNotFound(f"Order item {line.order_item_id} is not a line of this order.",
                                    field=f"{field}.{n}.order_item_id")
        wanted[line.order_item_id] = wanted.get(line.order_item_id, 0) + line.quantity
    return wanted


def amounts_for_billing(item: OrderItem, qty: int) -> tuple[Decimal, Decimal, Decimal]:
    """Subtotal, tax, discount of ``qty`` units invoiced or canceled (SPEC §1).

    Pro rata by qty_ordered, except the document after which qty_invoiced + qty_canceled
    = qty_ordered takes what is left, so a settled line adds up exactly.
    """
    if item.qty_invoiced + item.qty_canceled + qty == item.qty_ordered:
        return (item.subtotal - item.subtotal_invoiced - item.subtotal_canceled,
                item.tax_amount - item.tax_invoiced - item.tax_canceled,
                item.discount_amount - item.discount_invoiced - item.discount_canceled)
    return (share(item.subtotal, qty, item.qty_ordered), share(item.tax_amount, qty, item.qty_ordered),
            share(item.discount_amount, qty, item.qty_ordered))


def amounts_for_shipment(item: OrderItem, qty: int,
                         shipped: tuple[Decimal, Decimal, Decimal]) -> tuple[Decimal, Decimal, Decimal]:
    """Subtotal, tax, discount of ``qty`` units shipped (SPEC §1): pro rata by qty_ordered, except
    the shipment after which qty_shipped + qty_canceled = qty_ordered takes what is left, so a
    line's shipments (with its canceled share) add up to it. ``shipped`` is what the line's earlier
    shipments took; only that last shipment reads it."""
    if item.qty_shipped + item.qty_canceled + qty == item.qty_ordered:
        return (item.subtotal - shipped[0] - item.subtotal_canceled,
                item.tax_amount - shipped[1] - item.tax_canceled,
                item.discount_amount - shipped[2] - item.discount_canceled)
    return (share(item.subtotal, qty, item.qty_ordered), share(item.tax_amount, qty, item.qty_ordered),
            share(item.discount_amount, qty, item.qty_ordered))


def amounts_for_refund(item: OrderItem, qty: int) -> tuple[Decimal, Decimal, Decimal]:
    """Subtotal, tax, discount of ``qty`` units refunded: pro rata, never more than was invoiced
    on the line; the refund that takes the line's last invoiced units takes what is left."""
    left = (item.subtotal_invoiced - item.subtotal_refunded, item.tax_invoiced - item.tax_refunded,
            item.discount_invoiced - item.discount_refunded)
    if item.qty_refunded + qty == item.qty_invoiced:
        return left
    parts = (share(item.subtotal, qty, item.qty_ordered), share(item.tax_amount, qty, item.qty_ordered),
             share(item.discount_amount, qty, item.qty_ordered))
    return tuple(min(p, rest) for p, rest in zip(parts, left, strict=True))  # type: ignore[return-value]


def line_amounts(item: OrderItem, qty: int, amounts: tuple[Decimal, Decimal, Decimal]) -> LineAmounts:
    subtotal, tax, discount = amounts
    return LineAmounts(order_item_id=item.id, sku=item.sku, name=item.name, quantity=qty, price=item.price,
                       subtotal=subtotal, tax_amount=tax, discount_amount=discount)


def sums(lines: Iterable[LineAmounts]) -> tuple[Decimal, Decimal, Decimal]:
    lines = list(lines)
    return (sum((x.subtotal for x in lines), ZERO), sum((x.tax_amount for x in lines), ZERO),
            sum((x.discount_amount for x in lines), ZERO))


def quantities_within(wanted: dict[int, int], by_id: dict[int, OrderItem], left: Callable[[OrderItem], int], *,
                      doing: str, left_text: str = "left") -> None:
    """409 quantity_exceeds_remaining for the first requested line asking more than ``left`` of its
    item, named by its position in the request (``items.<n>.quantity``)."""
    for n, (item_id, qty) in enumerate(wanted.items()):
        item = by_id[item_id]
        if qty > left(item):
            raise QuantityExceedsRemaining(
                f"{item.name} ({item.sku or 'custom'}): {qty} {doing} but only {left(item)} {left_text}.",
                field=f"items.{n}.quantity")


def is_gateway(order: Order) -> bool:
    return rules.is_gateway_payment(order.payment_method_code)


class RefreshedOrder(Protocol):
    """What ``order_refresh_state`` reads and writes of an order: an Order, or seed_demo's planned
    stand-in (never on hold, so never released)."""

    status: int
    invoice_state: str
    shipment_state: str

    @property
    def payment_method_code(self) -> str: ...
    @property
    def payment_captured(self) -> bool: ...
    @property
    def held_at(self) -> object: ...  # a datetime while the order is on hold (SPEC §12), else None


def order_refresh_state(order: RefreshedOrder, items: Sequence[rules.ItemQuantities], *,
                        clear_fraud: bool = False) -> None:
    """Recompute status and the list's invoiced/shipped columns from the quantities (SPEC §5).

    Every action recomputes the status here, so this is also where a held order that becomes
    canceled, closed or completed is released (SPEC §12: event ``hold_released``, no actor)."""
    current = order.status
    if clear_fraud and current == rules.FRAUD:
        current = rules.PENDING
    order.status = rules.status_compute(items, current=current,
                                        gateway_payment=rules.is_gateway_payment(order.payment_method_code),
                                        payment_captured=order.payment_captured)
    billable = sum(i.qty_ordered - i.qty_canceled for i in items)
    order.invoice_state = rules.doc_state(sum(i.qty_invoiced for i in items), billable)
    shippable = [i for i in items if i.is_shippable]
    order.shipment_state = rules.doc_state(sum(i.qty_shipped for i in shippable),
                                           sum(i.qty_shipped + rules.qty_to_ship(i) for i in shippable))
    if order.held_at is not None and order.status in rules.HOLD_ENDING and isinstance(order, Order):
        reason = order.hold_reason
        order_hold_clear(order)
        event_hold_released(order, None, reason=reason, automatic=True)
    counters.order_state_refreshed(order, items)  # the status counters, in this transaction


def order_hold_clear(order: Order) -> None:
    """Take the order off hold, in memory (the caller saves it)."""
    order.hold_reason, order.held_at, order.held_by = "", None, None


def lines_data(lines: Iterable[LineAmounts]) -> list[dict[str, Any]]:
    """A document's lines as an event's ``items`` (sales.events.line_ref)."""
    return [line_ref(x.order_item_id, x.sku, x.quantity) for x in lines]
