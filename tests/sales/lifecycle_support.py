"""Shared tools for the lifecycle tests (invoice, ship, refund, cancel, comments, fraud).

- ``order_with`` builds orders through the real cart and place services;
- ``nothing_written`` proves a refusal wrote nothing: every row an action could touch
  (order, items, documents, payments, events, comments, stock, reservations, coupons,
  number sequences), the order detail the API shows, and no e-mail queued for after commit;
- ``fast_passwords`` swaps PBKDF2 for MD5 so building staff users does not dominate the run.
"""

from __future__ import annotations

from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.test import TestCase

from carts.models import Coupon, CouponUsage
from catalog.models import InventorySource, Product, ProductInventory
from sales.models import (
    Invoice,
    InvoiceItem,
    Order,
    OrderComment,
    OrderEvent,
    OrderItem,
    OrderStatus,
    Payment,
    Refund,
    RefundItem,
    Sequence,
    Shipment,
    ShipmentItem,
)
from sales.services.common import LineQty
from sales.services.invoicing import invoice_create
from sales.services.refunding import RefundRequest, refund_create
from tests.carts.factories import CouponFactory
from tests.catalog.factories import ProductFactory, TaxRateFactory
from tests.sales.helpers import placed_order

D = Decimal

SNAPSHOT_MODELS = (Order, OrderItem, Invoice, InvoiceItem, Shipment, ShipmentItem, Refund, RefundItem, Payment,
                   OrderEvent, OrderComment, Product, ProductInventory, Coupon, CouponUsage, Sequence)


@pytest.fixture
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def default_source() -> InventorySource:
    return InventorySource.objects.get(code="default")


def product(price="10.00", stock: int | None = 10, *, tax: str | None = None, type_: str = "simple") -> Product:
    """A product with ``stock`` units at the default source; ``tax`` a US rate in percent."""
    kwargs = {}
    if tax is not None:
        kwargs["tax_category"] = TaxRateFactory(country="US", rate=D(tax)).category
    if type_ == "virtual":
        stock = None
    return ProductFactory(price=D(price), stock=stock, type=type_, **kwargs)


def order_with(*lines, coupon_percent: str | None = None, **kwargs) -> Order:
    """Place an order of (product, qty) lines; ``coupon_percent`` applies a percent coupon."""
    if coupon_percent is not None:
        kwargs["coupon"] = CouponFactory(discount_type="percent", value=D(coupon_percent)).code
    return placed_order(*lines, **kwargs)


def items_of(order: Order) -> list[OrderItem]:
    return list(OrderItem.objects.filter(order_id=order.id).order_by("id"))


def reload(order: Order) -> Order:
    return Order.objects.get(id=order.id)


def set_status(order: Order, status: int) -> None:
    """Flag an order directly (fraud is set by import / payment reports, not by these actions),
    moving its status count as the services do."""
    force_status(order.id, status)


def force_status(order_id: int, status: int) -> None:
    from sales.services.counters import order_counted

    row = Order.objects.get(id=order_id)
    row.status = status
    row.save(update_fields=["status"])
    order_counted(row)


def invoice_all(order: Order, actor=None):
    return invoice_create(order_id=order.id, items=None, actor=actor)


def invoice_lines(order: Order, *pairs, actor=None):
    return invoice_create(order_id=order.id, items=[LineQty(i, q) for i, q in pairs], actor=actor)


def refund_lines(order: Order, *pairs, actor=None, **amounts):
    request = RefundRequest(items=[LineQty(i, q) for i, q in pairs], **amounts)
    return refund_create(order_id=order.id, request=request, actor=actor)


def closed_order() -> Order:
    """An order invoiced in full and refunded in full: closed."""
    order = order_with((product(), 2))
    invoice_all(order)
    item = items_of(order)[0]
    refund_lines(order, (item.id, 2), shipping_amount=reload(order).shipping_total)
    order = reload(order)
    assert order.status == OrderStatus.CLOSED
    return order


def canceled_order() -> Order:
    from sales.services.canceling import order_cancel

    order = order_with((product(), 2))
    order_cancel(order_id=order.id, actor=None)
    order = reload(order)
    assert order.status == OrderStatus.CANCELED
    return order


def fraud_order(*lines, invoiced: bool = False) -> Order:
    order = order_with(*(lines or ((product(), 2),)))
    if invoiced:
        invoice_all(order)
    set_status(order, OrderStatus.FRAUD)
    return reload(order)


def world() -> dict[str, list[dict]]:
    """Every row an order action could write, as plain dicts."""
    return {m.__name__: list(m.objects.order_by("pk").values()) for m in SNAPSHOT_MODELS}


@contextmanager
def nothing_written(api=None, order_id: int | None = None):
    """Assert the block writes nothing: same rows everywhere, same order detail, no e-mail queued."""
    before = world()
    detail = api.get(f"/api/admin/orders/{order_id}").json() if api is not None and order_id else None
    with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
        yield
    assert callbacks == [], "a refused action queued an after-commit callback (e-mail)"
    after = world()
    for name, rows in before.items():
        assert after[name] == rows, f"{name} rows changed"
    if detail is not None:
        assert api.get(f"/api/admin/orders/{order_id}").json() == detail


def assert_error(response, status: int, code: str, *, field: str | None = None, says: str | None = None) -> dict:
    """The SPEC's error body: {code, message, errors[{field, code, message}]}."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert set(body) == {"code", "message", "errors"}, body
    assert body["code"] == code, body
    assert body["message"], body
    if field is not None:
        assert field in [e["field"] for e in body["errors"]], body
    if says is not None:
        assert says.lower() in body["message"].lower(), body
    return body
