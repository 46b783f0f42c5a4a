"""The event types a webhook endpoint can subscribe to (SPEC §13): one per history event of an
order (SPEC §5, §12) but ``email_sent``, and ``ping``."""

from __future__ import annotations

ALL = "*"
PING = "ping"
ORDER_EVENT_TYPES: tuple[str, ...] = (
    "order.placed", "order.created", "order.imported", "order.invoiced", "order.shipped", "order.refunded",
    "order.canceled", "order.commented", "order.edited", "order.details_changed", "order.archived",
    "order.restored", "order.fraud_flagged", "order.fraud_cleared", "order.payment_captured", "order.held",
    "order.hold_released",
)
EVENT_TYPES: tuple[str, ...] = (*ORDER_EVENT_TYPES, PING)
_ORDER_TYPES = frozenset(ORDER_EVENT_TYPES)


def webhook_type(history_type: str) -> str | None:
    """``invoiced`` → ``order.invoiced``; None for a history event that is not sent (``email_sent``)."""
    name = f"order.{history_type}"
    return name if name in _ORDER_TYPES else None


def subscribed(events: list[str], event_type: str) -> bool:
    return ALL in events or event_type in events
