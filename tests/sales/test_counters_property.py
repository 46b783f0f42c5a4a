"""The status counters and the daily rollups equal a fresh recount after any mix of actions
(issue 15), on PostgreSQL: hypothesis draws a sequence of place (USD or EUR, shippable or
virtual lines), invoice, ship, cancel, refund, hold, release, archive, restore, bulk archive,
bulk restore and import (one document, and a batch through the bulk writer) over a small pool
of orders, runs each through the services (refusals allowed: a refused action must move
nothing), and after every step compares what the services kept with a fresh GROUP BY
(``counters_check``) and the dashboard's reads with the same figures computed from the rows.
Each example runs inside a savepoint rolled back at its end. Concurrent writers: a race of
placing and holding threads must leave the counters exact too."""

from __future__ import annotations

import contextlib
import json
import tempfile
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from catalog.models import Currency
from config.errors import DomainError
from sales import selectors
from sales.models import Order, OrderStatus
from sales.services.archiving import order_archive, order_restore, orders_archive_matching, orders_restore_matching
from sales.services.canceling import order_cancel
from sales.services.counters import base_amount, counters_check
from sales.services.holding import order_hold, order_release_hold
from sales.services.invoicing import invoice_create
from sales.services.refunding import RefundRequest, refund_create
from sales.services.shipping import shipment_create
from tests.accounts.factories import UserFactory
from tests.race import race_run
from tests.sales.lifecycle_support import default_source, order_with, product

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

D = Decimal
ACTIONS = ["place", "place", "invoice", "ship", "cancel", "refund", "hold", "release", "archive", "restore",
           "bulk_archive", "bulk_restore", "import", "import_bulk"]


class World:
    def __init__(self):
        Currency.objects.filter(code="EUR").update(rate=D("0.87"))
        self.products = [product("12.34", 500), product("7.99", 500, tax="8.25"),
                         product("5.00", None, type_="virtual")]
        self.orders: list[int] = []
        self.imports = 0
        admin = UserFactory(is_staff=True, is_superuser=True)
        self.api = APIClient()
        self.api.force_authenticate(admin)

    def pick(self, data) -> int | None:
        if not self.orders:
            return None
        return data.draw(st.sampled_from(self.orders), label="order")

    def place(self, data) -> None:
        shippable, taxed, virtual = self.products
        lines = data.draw(st.sampled_from([[(shippable, 2)], [(shippable, 1), (taxed, 3)], [(virtual, 1)],
                                           [(taxed, 1), (virtual, 2)]]), label="lines")
        kwargs = {"currency": data.draw(st.sampled_from([None, "EUR"]), label="currency")}
        if all(p.type == "virtual" for p, _ in lines):
            kwargs["shipping"] = None
        self.orders.append(order_with(*lines, **kwargs).id)

    def document(self, n: int) -> dict:
        self.imports += 1
        days = 1 + self.imports % 5
        return {"reference": f"P-{self.imports}-{n}", "email": f"p{self.imports}@example.com", "notify": False,
                "status_id": 3 if n % 2 else 4,
                "ordered_at": (timezone.now() - timedelta(days=days)).isoformat(),
                "payments": [{"driver": "cash", "amount": 2400}],
                "items": [{"variant_id": self.products[0].id, "quantity": 2, "price": {"amount": 1000, "tax": 200}}]}

    def act(self, action: str, data) -> None:
        if action == "place":
            self.place(data)
            return
        if action == "import":
            r = self.api.post("/api/admin/orders/import", self.document(0), format="json")
            assert r.status_code == 201, r.json()
            self.orders.append(r.json()["order"]["id"])
            return
        if action == "import_bulk":
            with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as fh:
                fh.write("\n".join(json.dumps(self.document(n)) for n in range(3)) + "\n")
            before = set(Order.objects.values_list("id", flat=True))
            call_command("import_orders", fh.name, stdout=StringIO(), stderr=StringIO())
            self.orders += sorted(set(Order.objects.values_list("id", flat=True)) - before)
            return
        if action in ("bulk_archive", "bulk_restore"):
            chosen = data.draw(st.lists(st.sampled_from(self.orders), max_size=4), label="orders") \
                if self.orders else []
            qs = Order.objects.filter(id__in=chosen)
            if action == "bulk_archive":
                orders_archive_matching(queryset=qs, actor=None, batch_size=2)
            else:
                orders_restore_matching(queryset=qs, actor=None, batch_size=2)
            return
        order_id = self.pick(data)
        if order_id is None:
            return
        calls = {
            "invoice": lambda: invoice_create(order_id=order_id, items=None, actor=None),
            "ship": lambda: shipment_create(order_id=order_id, items=None, actor=None,
                                            inventory_source_id=default_source().id),
            "cancel": lambda: order_cancel(order_id=order_id, actor=None),
            "refund": lambda: refund_create(order_id=order_id, actor=None,
                                            request=RefundRequest(adjustment_refund=D("1.00"))),
            "hold": lambda: order_hold(order_id=order_id, reason="check", actor=None),
            "release": lambda: order_release_hold(order_id=order_id, actor=None),
            "archive": lambda: order_archive(order_id=order_id, actor=None),
            "restore": lambda: order_restore(order_id=order_id, actor=None),
        }
        with contextlib.suppress(DomainError):  # a refusal writes nothing: the check below holds it to that
            calls[action]()


def check(world: World) -> None:
    found = counters_check()
    assert not found, "\n".join(found.lines())
    live = Order.objects.filter(archived_at__isnull=True)
    by_status = dict(live.order_by().values_list("status").annotate(n=Count("id")))
    assert selectors.order_count_by_status() == {
        "count": sum(by_status.values()),
        "statuses": [{"status_id": s.value, "status": s.label, "count": by_status.get(s.value, 0)}
                     for s in OrderStatus]}
    waiting = selectors.orders_waiting()
    assert waiting["on_hold"] == live.filter(held_at__isnull=False).count()
    today = timezone.now().date()
    placed = Order.objects.filter(created_at__date__gte=today - timedelta(days=6))
    assert selectors.orders_placed_summary(today - timedelta(days=6), today) == (
        placed.count(), sum((base_amount(o.grand_total, o.exchange_rate) for o in placed), D("0.00")))


@settings(max_examples=25, deadline=None, print_blob=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(actions=st.lists(st.sampled_from(ACTIONS), min_size=3, max_size=14), data=st.data())
def test_counters_equal_a_recount_after_any_mix_of_actions(db, actions, data):
    with transaction.atomic():
        world = World()
        for action in actions:
            world.act(action, data)
            check(world)
        transaction.set_rollback(True)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_writers_keep_the_counters_exact(transactional_db):
    """Threads place, hold and archive at once (each on its own connection): every count lands."""
    shippable = product("3.00", 500)
    seed = [order_with((shippable, 1)).id for _ in range(6)]

    def work(i: int):
        if i % 3 == 0:
            return order_with((shippable, 1)).id
        if i % 3 == 1:
            return order_hold(order_id=seed[i // 3], reason="race", actor=None).id
        return order_archive(order_id=seed[i // 3 + 3], actor=None).id

    results = race_run(work, 9, name="counters")
    assert [exc for _, exc in results if exc is not None] == []
    found = counters_check()
    assert not found, "\n".join(found.lines())
    assert selectors.order_count_by_status()["count"] == 6 + 3 - 3
    assert selectors.orders_waiting()["on_hold"] == 3
