"""Unpaid orders expire (SPEC §12): the periodic job, its command and beat entry, the boundary,
what it skips, and its re-check under the order's lock."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from catalog.models import Product
from sales.models import Order, OrderStatus
from sales.services.checkout import checkout_pay
from sales.services.counters import counters_repair
from sales.services.expiring import expired_candidates, order_expire, orders_expire_unpaid
from sales.services.holding import order_hold
from tests.race import race_run
from tests.sales.lifecycle_support import (  # noqa: F401 - fast_passwords is a fixture
    fast_passwords,
    items_of,
    nothing_written,
    order_with,
    product,
    reload,
)

pytestmark = [pytest.mark.usefixtures("fast_passwords")]

TTL = timedelta(minutes=4320)


def unpaid(p=None, qty: int = 2, *, age: timedelta = TTL + timedelta(minutes=1), payment: str = "paylink") -> Order:
    """A gateway order placed ``age`` ago, nothing paid."""
    order = order_with((p or product(stock=10), qty), payment=payment)
    Order.objects.filter(id=order.id).update(created_at=timezone.now() - age)
    counters_repair()  # the row was moved to another day by hand: its day rollup follows, as a repair does
    return reload(order)


def reserved(p) -> int:
    return Product.objects.get(id=p.id).qty_reserved


def canceled_events(order) -> list[dict]:
    return [{"actor": e.actor_id, **e.data} for e in reload(order).events.filter(type="canceled")]


@pytest.mark.django_db
def test_an_old_unpaid_gateway_order_is_canceled_and_its_stock_released(mailoutbox, django_capture_on_commit_callbacks):
    p = product(stock=10)
    order = unpaid(p, 3)
    assert reload(order).status == OrderStatus.PENDING_PAYMENT and reserved(p) == 3
    with django_capture_on_commit_callbacks(execute=True):
        assert orders_expire_unpaid() == 1
    order = reload(order)
    assert order.status == OrderStatus.CANCELED
    assert reserved(p) == 0
    assert [i.qty_canceled for i in items_of(order)] == [3]
    [event] = canceled_events(order)
    assert event["actor"] is None and event["reason"] == "payment_expired" and event["fully"] is True
    assert [m.subject for m in mailoutbox][-1] == f"Your order #{order.number} has been canceled"
    assert orders_expire_unpaid() == 0  # once only


@pytest.mark.django_db
def test_only_gateway_orders_unpaid_not_held_past_the_ttl_expire():
    old = unpaid()
    young = unpaid(age=TTL - timedelta(minutes=1))
    cod = unpaid(payment="cashondelivery")  # pending, never waits for a gateway
    held = unpaid()
    order_hold(order_id=held.id, reason="Customer will call back", actor=None)
    paid = unpaid()
    checkout_pay(token=paid.checkout_token)
    assert orders_expire_unpaid() == 1
    assert reload(old).status == OrderStatus.CANCELED
    assert reload(young).status == OrderStatus.PENDING_PAYMENT
    assert reload(cod).status == OrderStatus.PENDING
    assert reload(held).status == OrderStatus.PENDING_PAYMENT and reload(held).is_held
    assert reload(paid).status == OrderStatus.PROCESSING
    assert canceled_events(held) == [] and canceled_events(paid) == []


@pytest.mark.django_db
def test_the_boundary_is_strict_more_than_the_ttl():
    order = unpaid(age=timedelta(0))
    placed = reload(order).created_at
    assert orders_expire_unpaid(now=placed + TTL) == 0  # exactly the TTL: kept
    assert reload(order).status == OrderStatus.PENDING_PAYMENT
    assert orders_expire_unpaid(now=placed + TTL + timedelta(microseconds=1)) == 1
    assert reload(order).status == OrderStatus.CANCELED


@pytest.mark.django_db
def test_the_ttl_comes_from_the_setting_and_zero_means_never(settings):
    order = unpaid(age=timedelta(minutes=11))
    settings.UNPAID_ORDER_TTL_MINUTES = 0
    assert expired_candidates(now=timezone.now() + timedelta(days=3650)) == []
    assert orders_expire_unpaid(now=timezone.now() + timedelta(days=3650)) == 0
    settings.UNPAID_ORDER_TTL_MINUTES = 12
    assert orders_expire_unpaid() == 0
    settings.UNPAID_ORDER_TTL_MINUTES = 10
    assert orders_expire_unpaid() == 1
    assert reload(order).status == OrderStatus.CANCELED


@pytest.mark.django_db
def test_an_imported_order_counts_from_its_import_not_its_order_date(api):
    doc = {"reference": "OLD-1", "email": "late@example.com", "status_id": 2, "ordered_at": "2020-01-01T00:00:00Z",
           "items": [{"sku": "CUSTOM-1", "name": "Custom", "quantity": 1, "price": {"amount": 1000, "tax": 0}}],
           "payments": [{"driver": "paylink", "amount": 1000, "state": "pending"}], "notify": False}
    response = api.post("/api/admin/orders/import", doc, format="json")
    assert response.status_code == 201, response.json()
    order = Order.objects.get(id=response.json()["order"]["id"])
    assert order.status == OrderStatus.PENDING_PAYMENT and order.payment_method_code == "paylink"
    assert order.created_at.year == 2020
    assert orders_expire_unpaid() == 0  # ordered years ago, imported just now
    imported_at = order.events.get(type="imported").created_at
    assert orders_expire_unpaid(now=imported_at + TTL) == 0
    assert orders_expire_unpaid(now=imported_at + TTL + timedelta(seconds=1)) == 1
    assert canceled_events(order)[0]["reason"] == "payment_expired"


@pytest.mark.django_db
def test_the_recheck_under_the_lock_leaves_an_order_paid_or_held_since_the_selection():
    paid, held = unpaid(), unpaid()
    now = timezone.now()
    assert set(expired_candidates(now=now)) == {paid.id, held.id}
    # Between the job's selection and its lock, the customer pays one and staff hold the other.
    checkout_pay(token=paid.checkout_token)
    order_hold(order_id=held.id, reason="Waiting for the bank", actor=None)
    for order in (paid, held):
        with nothing_written():
            assert order_expire(order_id=order.id, now=now) is False
    assert reload(paid).status == OrderStatus.PROCESSING
    assert reload(held).status == OrderStatus.PENDING_PAYMENT


@pytest.mark.django_db
def test_the_command_runs_the_job_once_and_says_how_many():
    unpaid(), unpaid(), unpaid(age=timedelta(minutes=5))
    out = StringIO()
    call_command("expire_unpaid_orders", stdout=out)
    assert out.getvalue() == "2 orders canceled\n"
    out = StringIO()
    call_command("expire_unpaid_orders", stdout=out)
    assert out.getvalue() == "0 orders canceled\n"


def test_beat_runs_the_expiry_job():
    from django.conf import settings

    from config.celery import app

    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "sales.expire_unpaid_orders"]
    assert len(entries) == 1 and entries[0]["schedule"] > 0
    app.loader.import_default_modules()
    assert "sales.expire_unpaid_orders" in app.tasks


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_expiry_racing_the_customers_payment_lets_exactly_one_win():
    """The job and the capture both lock the order: one wins, the other finds it no longer qualifies."""
    from config.errors import Conflict  # the capture's refusal of a canceled order

    for _ in range(3):
        p = product(stock=5)
        order = unpaid(p, 2)
        now = timezone.now()

        def work(i: int, order=order, now=now):
            if i == 0:
                return order_expire(order_id=order.id, now=now)
            return checkout_pay(token=order.checkout_token).id

        (expired, expire_error), (invoice_id, pay_error) = race_run(work, 2, name="expiry")
        assert expire_error is None
        order = reload(order)
        if expired:
            assert isinstance(pay_error, Conflict) and invoice_id is None
            assert order.status == OrderStatus.CANCELED and reserved(p) == 0 and order.total_invoiced == 0
        else:
            assert pay_error is None and invoice_id
            assert order.status == OrderStatus.PROCESSING and reserved(p) == 2 and canceled_events(order) == []


@pytest.mark.django_db
def test_the_admin_history_says_why(admin_client):
    order = unpaid()
    assert orders_expire_unpaid() == 1
    page = admin_client.get(f"/admin/sales/order/{order.id}/change/").content.decode()
    assert "Order canceled: payment not received in time" in page
