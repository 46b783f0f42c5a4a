from __future__ import annotations

from django.db import transaction

from accounts.models import User
from sales.errors import OrderNotFraud
from sales.events import event_fraud_cleared, events_scope
from sales.locks import order_items_lock, order_lock
from sales.models import Order, OrderStatus
from sales.services.common import order_refresh_state


def order_clear_fraud(*, order_id: int, actor: User | None) -> Order:
    with transaction.atomic(), events_scope():
        order = order_lock(order_id)
        if order.status != OrderStatus.FRAUD:
            raise OrderNotFraud(f"Order #{order.number} is not flagged as fraud.")
        items = order_items_lock(order)
        order_refresh_state(order, items, clear_fraud=True)
        order.save()
        event_fraud_cleared(order, actor)
    return order
