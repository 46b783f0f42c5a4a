"""Admin tests: a logged-in superuser on Django's test client, and quick ways to make orders."""

from decimal import Decimal

import pytest
from django.utils import timezone

from sales.models import Order, OrderComment, OrderEvent, OrderItem
from sales.services.counters import orders_added


@pytest.fixture
def staff(admin_user):
    return admin_user


def make_orders(n: int, **overrides) -> list[Order]:
    """n order rows in one INSERT (list pages read only the order row)."""
    start = Order.objects.count()
    now = timezone.now()
    orders = []
    for i in range(start, start + n):
        data = {
            "number": f"{900000000 + i}", "status": 1 + i % 7, "channel": "admin",
            "customer_email": f"buyer{i}@example.com", "customer_name": f"Buyer {i}", "currency": "USD",
            "base_currency": "USD", "subtotal": Decimal("10.00"), "grand_total": Decimal("15.00"),
            "shipping_total": Decimal("5.00"), "payment_method_code": "cashondelivery",
            "payment_method_title": "Cash on delivery", "shipping_method_code": "flatrate",
            "shipping_method_title": "Flat rate", "fulfillment_type": "shipping",
            "invoice_state": ("none", "partial", "full")[i % 3], "shipment_state": ("none", "partial", "full")[i % 3],
            "created_at": now - timezone.timedelta(minutes=i),
        }
        data.update(overrides)
        orders.append(Order(**data))
    created = Order.objects.bulk_create(orders)
    orders_added([o.id for o in created])  # rows written in bulk join the status counters, as any bulk writer's do
    return created


def make_order_with_lines(lines: int, *, comments: int = 1, events: int = 2) -> Order:
    order = make_orders(1, billing_address={"first_name": "Jane", "last_name": "Doe", "line_1": "1 Main St",
                                            "city": "Springfield", "postcode": "62701", "country": "US"})[0]
    OrderItem.objects.bulk_create([
        OrderItem(order=order, sku=f"LINE-{n}", name=f"Line {n}", qty_ordered=2, price=Decimal("5.00"),
                  subtotal=Decimal("10.00"), total=Decimal("10.00"))
        for n in range(lines)
    ])
    OrderComment.objects.bulk_create([OrderComment(order=order, comment=f"note {n}") for n in range(comments)])
    OrderEvent.objects.bulk_create([OrderEvent(order=order, type="placed", data={"n": n}) for n in range(events)])
    return order
