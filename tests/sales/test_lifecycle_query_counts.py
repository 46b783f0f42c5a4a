"""Query counts (SPEC §10): lifecycle actions cost the same number of queries for 1 line and for
30 lines, and the order detail stays within 15 queries whatever its lines and documents.

Each action is measured on a 1-line order, then the 30-line order must take exactly as many
queries (django_assert_num_queries). A warm-up order runs every action first, so one-off work
(document number sequences, content types) falls outside the measurements.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import ProductInventory
from sales.services.canceling import order_cancel
from sales.services.comments import comment_add
from sales.services.common import LineQty
from sales.services.invoicing import invoice_create
from sales.services.refunding import RefundRequest, refund_create, refund_preview
from sales.services.shipping import shipment_create
from tests.catalog.factories import InventorySourceFactory
from tests.sales.lifecycle_support import (  # noqa: F401 - fast_passwords is a fixture
    default_source,
    fast_passwords,
    items_of,
    order_with,
    product,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]

MEASURED: dict[str, dict[int, int]] = {}  # action → lines → queries, for the report at the end


@pytest.fixture(scope="module", autouse=True)
def report():
    """Once this module's tests have run, print what they measured (run with -s to see it). A
    fixture, not a test: it asserts nothing (each measuring test asserts its own counts)."""
    yield
    for name, counts in MEASURED.items():
        print(f"queries {name:28} 1 line: {counts.get(1)!s:>3}   30 lines: {counts.get(30)!s:>3}")


def big_order(lines: int, qty: int = 4):
    """An order of ``lines`` distinct products, half of them taxed, with a coupon."""
    products = [product(f"{3 + n % 7}.{n % 100:02d}", stock=10, tax="7.25" if n % 2 else None)
                for n in range(lines)]
    return order_with(*((p, qty) for p in products), coupon_percent="15")


def count(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


@pytest.fixture
def warm(db):
    """Run every action once so number sequences and caches exist before anything is measured."""
    order = big_order(2)
    ia, ib = items_of(order)
    invoice_create(order_id=order.id, items=[LineQty(ia.id, 1)], actor=None)
    shipment_create(order_id=order.id, inventory_source_id=default_source().id, items=[LineQty(ia.id, 1)],
                    actor=None)
    refund_create(order_id=order.id, request=RefundRequest(items=[LineQty(ia.id, 1)], return_to_stock=True),
                  actor=None)
    order_cancel(order_id=order.id, actor=None)
    del ib


def scenario(lines: int, staff=None, django_assert_num_queries=None, expected: dict[str, int] | None = None):
    """Invoice half, invoice the rest, ship from two sources, preview + refund (shipped and unshipped
    units, return to stock), cancel a second order: measure each (or assert the expected counts)."""
    east = InventorySourceFactory()
    order = big_order(lines)
    for item in items_of(order):
        ProductInventory.objects.create(product_id=item.product_id, source=east, qty=10)
    items = items_of(order)
    steps = [
        ("invoice (part)", lambda: invoice_create(order_id=order.id, items=[LineQty(i.id, 2) for i in items],
                                                  actor=staff)),
        ("invoice (rest)", lambda: invoice_create(order_id=order.id, items=None, actor=staff)),
        ("shipment", lambda: shipment_create(order_id=order.id, inventory_source_id=default_source().id,
                                             items=[LineQty(i.id, 1) for i in items], actor=staff,
                                             carrier_title="UPS", track_number="1Z")),
        ("shipment (2nd source)", lambda: shipment_create(order_id=order.id, inventory_source_id=east.id,
                                                          items=[LineQty(i.id, 1) for i in items], actor=staff)),
        ("refund preview", lambda: refund_preview(order_id=order.id, request=RefundRequest(
            items=[LineQty(i.id, 3) for i in items], shipping_amount=order.shipping_total, return_to_stock=True))),
        ("refund", lambda: refund_create(order_id=order.id, request=RefundRequest(
            items=[LineQty(i.id, 3) for i in items], shipping_amount=order.shipping_total, adjustment_fee=1,
            return_to_stock=True), actor=staff)),
        ("comment", lambda: comment_add(order_id=order.id, comment="hi", customer_notified=True, actor=staff)),
    ]
    other = big_order(lines)
    steps.append(("cancel", lambda: order_cancel(order_id=other.id, actor=staff)))
    counts = {}
    for name, fn in steps:
        if expected is None:
            counts[name] = count(fn)
        else:
            with django_assert_num_queries(expected[name]):
                fn()
            counts[name] = expected[name]
    return order, counts


def test_actions_take_the_same_queries_for_1_and_30_lines(warm, admin_user, django_assert_num_queries):
    _, one = scenario(1, staff=admin_user)
    _, thirty = scenario(30, staff=admin_user, django_assert_num_queries=django_assert_num_queries, expected=one)
    for name, n in one.items():
        MEASURED.setdefault(name, {})[1] = n
        MEASURED[name][30] = thirty[name]
    assert one == thirty
    assert all(n <= 25 for n in one.values()), one  # and small, not merely constant


def test_api_creates_take_the_same_queries_for_1_and_30_lines(warm, api, django_assert_num_queries):
    """Through the API too: the response serializes the document with a prefetch, not per line."""
    def run(lines, expected=None):
        order = big_order(lines, qty=6)  # refund takes 2 unshipped + 1 shipped unit; 1 unit left to cancel
        ids = [i.id for i in items_of(order)]
        source = default_source().id
        calls = [
            ("POST invoices", f"/api/admin/orders/{order.id}/invoices",
             {"items": [{"order_item_id": i, "quantity": 3} for i in ids]}),
            ("POST shipments", f"/api/admin/orders/{order.id}/shipments",
             {"inventory_source_id": source, "items": [{"order_item_id": i, "quantity": 2} for i in ids]}),
            ("POST refunds/preview", f"/api/admin/orders/{order.id}/refunds/preview",
             {"items": [{"order_item_id": i, "quantity": 3} for i in ids], "return_to_stock": True}),
            ("POST refunds", f"/api/admin/orders/{order.id}/refunds",
             {"items": [{"order_item_id": i, "quantity": 3} for i in ids], "return_to_stock": True}),
            ("POST cancel", f"/api/admin/orders/{order.id}/cancel", None),
            ("GET history", f"/api/admin/orders/{order.id}/history", None),
        ]
        out = {}
        for name, url, body in calls:
            send = (lambda u=url: api.get(u)) if name.startswith("GET") else \
                (lambda u=url, b=body: api.post(u, b, format="json"))
            if expected is None:
                with CaptureQueriesContext(connection) as ctx:
                    r = send()
                out[name] = len(ctx.captured_queries)
            else:
                with django_assert_num_queries(expected[name]):
                    r = send()
                out[name] = expected[name]
            assert r.status_code in (200, 201), (name, r.json())
        return out

    one = run(1)
    thirty = run(30, expected=one)
    for name, n in one.items():
        MEASURED.setdefault(name, {})[1] = n
        MEASURED[name][30] = thirty[name]
    assert one == thirty


def _documents_order(lines: int, api):
    """An order with ``lines`` lines, 3 invoices, 3 shipments, 2 refunds and comments."""
    order = big_order(lines)
    items = items_of(order)
    thirds = [items[n::3] for n in range(3)]
    for part in thirds:
        if part:
            invoice_create(order_id=order.id, items=[LineQty(i.id, 4) for i in part], actor=None)
    for part in thirds:
        if part:
            shipment_create(order_id=order.id, inventory_source_id=default_source().id,
                            items=[LineQty(i.id, 3) for i in part], actor=None)
    refund_create(order_id=order.id, request=RefundRequest(items=[LineQty(items[0].id, 1)]), actor=None)
    refund_create(order_id=order.id, request=RefundRequest(items=[LineQty(i.id, 1) for i in items[1:]] or
                                                           [LineQty(items[0].id, 1)]), actor=None)
    for n in range(4):
        comment_add(order_id=order.id, comment=f"note {n}", customer_notified=n % 2 == 0, actor=None)
    return order


@pytest.mark.parametrize("client", ["superuser", "staff"])
def test_order_detail_within_15_queries_whatever_its_size(warm, api, staff_api, django_assert_max_num_queries,
                                                          client):
    reader = api if client == "superuser" else staff_api("sales.view_order")
    small = order_with((product(), 1))
    big = _documents_order(30, api)
    with CaptureQueriesContext(connection) as ctx:
        r = reader.get(f"/api/admin/orders/{small.id}")
    assert r.status_code == 200
    small_count = len(ctx.captured_queries)
    with django_assert_max_num_queries(15):
        r = reader.get(f"/api/admin/orders/{big.id}")
    d = r.json()
    assert r.status_code == 200 and len(d["items"]) == 30
    assert (len(d["invoices"]), len(d["shipments"]), len(d["refunds"])) == (3, 3, 2)
    with CaptureQueriesContext(connection) as ctx:
        reader.get(f"/api/admin/orders/{big.id}")
    assert len(ctx.captured_queries) == small_count
    MEASURED.setdefault(f"GET order detail ({client})", {})[1] = small_count
    MEASURED[f"GET order detail ({client})"][30] = len(ctx.captured_queries)


def test_lists_of_comments_and_history_do_not_grow(warm, api):
    small = order_with((product(), 1))
    comment_add(order_id=small.id, comment="x", actor=None)
    big = _documents_order(6, api)
    for url in ("comments", "history"):
        with CaptureQueriesContext(connection) as a:
            api.get(f"/api/admin/orders/{small.id}/{url}")
        with CaptureQueriesContext(connection) as b:
            api.get(f"/api/admin/orders/{big.id}/{url}")
        assert len(a.captured_queries) == len(b.captured_queries), url


def test_shipment_completing_lines_takes_the_same_queries_for_1_and_30_lines(warm, django_assert_num_queries):
    """The shipment that completes a line takes what earlier shipments left of it (SPEC §1): it reads
    their amounts in one query for every line, and a return of shipped units changes nothing to that."""
    def run(lines: int, expected: int | None = None) -> int:
        order = big_order(lines)
        items = items_of(order)
        invoice_create(order_id=order.id, items=[LineQty(i.id, 2) for i in items], actor=None)
        shipment_create(order_id=order.id, inventory_source_id=default_source().id,
                        items=[LineQty(i.id, 2) for i in items], actor=None)
        refund_create(order_id=order.id, request=RefundRequest(items=[LineQty(i.id, 1) for i in items],
                                                               return_to_stock=True), actor=None)  # returns
        ship_rest = lambda: shipment_create(order_id=order.id, inventory_source_id=default_source().id,  # noqa: E731
                                            items=None, actor=None)
        if expected is None:
            n = count(ship_rest)
        else:
            with django_assert_num_queries(expected):
                ship_rest()
            n = expected
        assert all(i.qty_shipped == i.qty_ordered and i.qty_returned == 1 for i in items_of(order))
        return n

    one = run(1)
    assert run(30, expected=one) == one
    MEASURED.setdefault("shipment (completing)", {})[1] = one
    MEASURED["shipment (completing)"][30] = one
