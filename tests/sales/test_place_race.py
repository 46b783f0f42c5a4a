"""Concurrent place-order on PostgreSQL (SPEC §4): real threads, each with its own connection.

Placing is one transaction that locks the cart row, then the product rows (pk order), then
the coupon row. These tests race 8 threads through ``order_place`` and check that the locks
hold: the last unit is sold once, a cart is placed once, a coupon is never used beyond its
limit. Without the locks each of them fails: every thread would read the same stale
``qty_reserved`` / ``is_active`` / ``times_used`` and more than one would win.

``transaction=True``: the threads must see each other's commits; ``serialized_rollback``
restores the rows the data migrations made (default source, shipping and payment methods)
after the previous transactional test flushed them.

The threads meet at a barrier so they enter ``order_place`` together. Nothing can hang: each
connection has a ``lock_timeout`` (a lock wait becomes an error, PostgreSQL itself breaks
deadlocks), the barrier has a timeout, and every join has a deadline.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import connections
from django.db.models import Sum
from django.forms.models import model_to_dict

from carts.errors import CartInactive, CouponNotApplicable
from carts.models import Cart, CouponUsage
from catalog.errors import ProductOutOfStock
from catalog.models import Product, ProductInventory
from config.errors import DomainError
from sales.models import Order, OrderItem
from sales.services.placing import order_place
from tests.carts.factories import CouponFactory
from tests.carts.helpers import ready_cart
from tests.catalog.factories import ProductFactory
from tests.race import race_run

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

THREADS = 8


@dataclass
class Outcome:
    index: int
    order_id: int | None = None
    error: BaseException | None = None

    @property
    def code(self) -> str | None:
        return getattr(self.error, "code", None)


def race(work, n: int = THREADS) -> list[Outcome]:
    """Run ``work(i)`` in n threads that start together; return each thread's outcome."""
    outcomes = [Outcome(i, result.id if result is not None else None, error)
                for i, (result, error) in enumerate(race_run(work, n, name="place"))]
    unexpected = [o for o in outcomes if o.error is not None and not isinstance(o.error, DomainError)]
    assert not unexpected, [f"thread {o.index}: {o.error!r}" for o in unexpected]
    return outcomes


class SaleableSampler:
    """Reads on hand − reserved for one product, over and over, from its own connection,
    while a race runs; remembers the lowest value it saw (not clamped at 0, unlike saleable_qty)."""

    def __init__(self, product_id: int):
        self.product_id = product_id
        self.lowest: int | None = None
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="saleable-sampler", daemon=True)

    def _read(self) -> int:
        on_hand = (ProductInventory.objects.filter(product_id=self.product_id, source__active=True)
                   .aggregate(total=Sum("qty"))["total"] or 0)
        reserved = Product.objects.values_list("qty_reserved", flat=True).get(id=self.product_id)
        return on_hand - reserved

    def _run(self) -> None:
        try:
            while True:  # at least one reading, and one more after the race has ended
                stopping = self._stop.is_set()
                value = self._read()
                self.samples += 1
                self.lowest = value if self.lowest is None else min(self.lowest, value)
                if stopping:
                    break
                time.sleep(0.001)
        finally:
            connections.close_all()

    def __enter__(self) -> SaleableSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        assert not self._thread.is_alive(), "saleable-quantity sampler did not stop"


def cart_snapshot(cart_id: int) -> dict:
    cart = Cart.objects.get(id=cart_id)
    return {
        "cart": model_to_dict(cart),
        "updated_at": cart.updated_at,
        "items": [model_to_dict(i) for i in cart.items.order_by("id")],
    }


def test_eight_carts_race_for_the_last_unit_and_exactly_one_wins():
    product = ProductFactory(price=Decimal("25.00"), stock=1)
    carts = [ready_cart((product, 1)) for _ in range(THREADS)]
    before = {c.id: cart_snapshot(c.id) for c in carts}

    with SaleableSampler(product.id) as sampler:
        outcomes = race(lambda i: order_place(cart_id=carts[i].id, actor=None))

    winners = [o for o in outcomes if o.order_id is not None]
    losers = [o for o in outcomes if o.error is not None]
    assert len(winners) == 1, [(o.index, o.code) for o in outcomes]
    assert len(losers) == THREADS - 1
    assert all(isinstance(o.error, ProductOutOfStock) for o in losers), [repr(o.error) for o in losers]
    assert {o.code for o in losers} == {"product_out_of_stock"}

    assert Order.objects.count() == 1
    order = Order.objects.get()
    assert order.id == winners[0].order_id and order.cart_id == carts[winners[0].index].id
    assert list(OrderItem.objects.values_list("product_id", "qty_ordered")) == [(product.id, 1)]

    product.refresh_from_db()
    assert product.qty_reserved == 1
    assert sampler.samples > 0 and sampler.lowest is not None and sampler.lowest >= 0, sampler.lowest
    assert ProductInventory.objects.get(product=product).qty == 1  # placing reserves; it takes nothing

    won_cart = Cart.objects.get(id=carts[winners[0].index].id)
    assert won_cart.is_active is False
    for o in losers:
        cart_id = carts[o.index].id
        assert cart_snapshot(cart_id) == before[cart_id], f"losing cart {cart_id} changed"
        assert before[cart_id]["cart"]["is_active"] is True


def test_eight_threads_placing_the_same_cart_make_one_order():
    product = ProductFactory(price=Decimal("10.00"), stock=100)
    cart = ready_cart((product, 2))

    outcomes = race(lambda i: order_place(cart_id=cart.id, actor=None))

    winners = [o for o in outcomes if o.order_id is not None]
    losers = [o for o in outcomes if o.error is not None]
    assert len(winners) == 1, [(o.index, o.code) for o in outcomes]
    assert len(losers) == THREADS - 1
    assert all(isinstance(o.error, CartInactive) for o in losers), [repr(o.error) for o in losers]
    assert {o.code for o in losers} == {"cart_inactive"}

    assert Order.objects.count() == 1
    assert Order.objects.get().cart_id == cart.id
    product.refresh_from_db()
    assert product.qty_reserved == 2  # reserved once, not once per thread
    cart.refresh_from_db()
    assert cart.is_active is False


def test_a_coupon_limited_to_three_uses_is_used_three_times_by_eight_concurrent_orders():
    coupon = CouponFactory(code="RACE3", discount_type="percent", value=Decimal("10.00"), usage_limit=3)
    # One product per cart: the product locks must not serialise the threads, only the coupon lock may.
    products = [ProductFactory(price=Decimal("20.00"), stock=5) for _ in range(THREADS)]
    carts = [ready_cart((p, 1), coupon="race3") for p in products]
    assert all(c.coupon_id == coupon.id for c in carts)
    before = {c.id: cart_snapshot(c.id) for c in carts}

    outcomes = race(lambda i: order_place(cart_id=carts[i].id, actor=None))

    winners = [o for o in outcomes if o.order_id is not None]
    losers = [o for o in outcomes if o.error is not None]
    assert len(winners) == 3, [(o.index, o.code) for o in outcomes]
    assert all(isinstance(o.error, CouponNotApplicable) for o in losers), [repr(o.error) for o in losers]
    assert {o.code for o in losers} == {"coupon_not_applicable"}

    coupon.refresh_from_db()
    assert coupon.times_used == 3
    assert CouponUsage.objects.filter(coupon=coupon).count() == 3
    orders = Order.objects.all()
    assert orders.count() == 3
    assert {o.coupon_code for o in orders} == {"RACE3"}
    assert all(o.discount_total == Decimal("2.00") for o in orders)
    assert set(CouponUsage.objects.values_list("order_id", flat=True)) == {o.order_id for o in winners}

    # Losers reserved nothing and their carts are untouched.
    for o in losers:
        cart_id = carts[o.index].id
        assert cart_snapshot(cart_id) == before[cart_id], f"losing cart {cart_id} changed"
        assert Product.objects.get(id=products[o.index].id).qty_reserved == 0
    for o in winners:
        assert Product.objects.get(id=products[o.index].id).qty_reserved == 1
