"""Lock order for every sales action: the order row, then its items (pk order), then
product / stock rows in pk order (catalog.services.stock). Never the other way round."""

from __future__ import annotations

from config.errors import NotFound
from sales.models import Order, OrderItem


def order_lock(order_id: int) -> Order:
    order = Order.objects.select_for_update().filter(id=order_id).first()
    if order is None:
        raise NotFound(f"Order {order_id} not found.")
    return order


def order_items_lock(order: Order) -> list[OrderItem]:
    return list(OrderItem.objects.select_for_update().filter(order=order).order_by("id"))
