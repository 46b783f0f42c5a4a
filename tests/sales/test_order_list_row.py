"""The API list's one-pass row (sales.api.serializers.order_row) equals what DRF's field-by-field
serializer gives for the same order, for every kind of order."""

from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework import serializers

from sales.api.serializers import OrderListSerializer, order_row
from sales.models import Order
from sales.services.counters import counters_repair
from tests.sales.lifecycle_support import fast_passwords, invoice_all, order_with, product  # noqa: F401

pytestmark = pytest.mark.django_db


def drf_row(order: Order) -> dict:
    return serializers.ModelSerializer.to_representation(OrderListSerializer(), order)


def test_order_row_equals_the_serializer(api):
    from catalog.models import Currency

    Currency.objects.filter(code="EUR").update(rate=Decimal("0.91234567"), enabled=True)
    orders = [order_with((product("10.00", tax="7.25"), 3), coupon_percent="10"),
              order_with((product("3.33"), 1), currency="EUR"),
              order_with((product(type_="virtual"), 1), shipping=None)]
    invoice_all(orders[0])
    r = api.post("/api/admin/orders", {"email": "payer@example.com", "cost": "49.95"}, format="json")
    assert r.status_code == 201, r.json()
    Order.objects.filter(id=orders[1].id).update(archived_at=timezone.now(), reference="EXT-1")
    counters_repair()  # archived by hand above: the status counters follow, as a repair does
    rows = list(Order.objects.select_related("customer").order_by("id"))
    assert len(rows) == 4
    for order in rows:
        assert order_row(order) == drf_row(order), order.number
    listed = api.get("/api/admin/orders").json()["results"] + api.get("/api/admin/orders?archived=true").json()[
        "results"]
    assert sorted(listed, key=lambda x: x["id"]) == [drf_row(o) for o in rows]
