"""Query counts do not grow with data (SPEC §10).

Each test measures the same action on a small and a large input and asserts the counts are
equal (no query in a loop) and under the spec's bound. Counts are the same on SQLite and
PostgreSQL; measured at the time of writing: placing 23 queries in the service (33 through the
API, including authentication, the order detail it answers with and the order e-mail sent
after commit), the order list 3 for a superuser / 5 for a staff user
(whose permissions are read), the order detail 7 / 9.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.forms.models import model_to_dict

from customers.models import Customer
from sales.models import Order
from sales.services.counters import counters_repair
from sales.services.placing import order_place
from tests.carts.factories import CouponFactory
from tests.carts.helpers import ready_cart
from tests.catalog.factories import ProductFactory, TaxRateFactory

pytestmark = pytest.mark.django_db

PLACE_MAX = 27  # the service alone; 26 measured (2 of them: the status counter and the day's rollups)
PLACE_API_MAX = 38  # auth + place + detail response + order e-mail after commit; 33 measured before the counters
LIST_MAX = 10  # SPEC §10
DETAIL_MAX = 15  # SPEC §10


@pytest.fixture
def store(db):
    """Taxed products with stock, a coupon, and one order already placed (the first order of a
    database also creates its numbering row, which is not what these tests measure)."""
    rate = TaxRateFactory(country="US", rate=Decimal("8.2500"))
    products = [ProductFactory(price=Decimal("12.34") + i, stock=500, tax_category=rate.category) for i in range(30)]
    CouponFactory(code="TENOFF", discount_type="percent", value=Decimal("10.00"))
    order_place(cart_id=ready_cart((products[0], 1)).id, actor=None)
    return products


def cart_with_lines(products, n: int):
    """A cart with n lines (n distinct products), taxed, with a coupon, flat-rate shipping."""
    return ready_cart(*[(p, 2) for p in products[:n]], coupon="tenoff")


def test_placing_takes_the_same_queries_for_1_and_30_lines(store, django_assert_max_num_queries,
                                                           django_assert_num_queries):
    one, thirty = cart_with_lines(store, 1), cart_with_lines(store, 30)
    assert one.items.count() == 1 and thirty.items.count() == 30

    with django_assert_max_num_queries(PLACE_MAX) as small:
        order_place(cart_id=one.id, actor=None)
    with django_assert_num_queries(len(small)):
        order = order_place(cart_id=thirty.id, actor=None)

    assert order.items.count() == 30 and order.coupon_code == "TENOFF"
    assert all(p.qty_reserved == 2 for p in type(store[0]).objects.filter(id__in=[p.id for p in store[1:]]))


def test_placing_through_the_api_takes_the_same_queries_for_1_and_30_lines(
        store, api, django_assert_max_num_queries, django_assert_num_queries, django_capture_on_commit_callbacks,
        mailoutbox):
    one, thirty = cart_with_lines(store, 1), cart_with_lines(store, 30)

    with django_assert_max_num_queries(PLACE_API_MAX) as small, django_capture_on_commit_callbacks(execute=True):
        r = api.post(f"/api/admin/orders/place/{one.id}")
    assert r.status_code == 201, r.json()
    with django_assert_num_queries(len(small)), django_capture_on_commit_callbacks(execute=True):
        r = api.post(f"/api/admin/orders/place/{thirty.id}")
    assert r.status_code == 201, r.json()
    assert len(r.json()["items"]) == 30
    assert len(mailoutbox) == 2


def _copies_of(order: Order, n: int) -> None:
    """n more orders like ``order``, each for its own customer (bulk: the list test needs volume, not rules)."""
    customers = Customer.objects.bulk_create(
        [Customer(email=f"bulk{i}@example.com", first_name="Bulk", last_name=f"Buyer{i}") for i in range(n)])
    fields = {f.attname: getattr(order, f.attname) for f in Order._meta.concrete_fields if not f.primary_key}
    base = int(Order.objects.order_by("-number").values_list("number", flat=True).first())
    Order.objects.bulk_create([
        Order(**{**fields, "number": str(base + 1 + i), "customer_id": c.id, "customer_email": c.email,
                 "customer_name": f"{c.first_name} {c.last_name}", "cart_id": None, "checkout_token": None,
                 "reference": None})
        for i, c in enumerate(customers)
    ])
    counters_repair()  # rows written directly: recount the status counters and rollups


@pytest.mark.parametrize("as_superuser", [True, False], ids=["superuser", "staff-with-view_order"])
def test_order_list_page_queries_do_not_grow_with_page_size(store, api, staff_api, as_superuser,
                                                            django_assert_max_num_queries,
                                                            django_assert_num_queries):
    client = api if as_superuser else staff_api("sales.view_order")
    _copies_of(Order.objects.get(), 120)
    assert Order.objects.count() >= 100

    with django_assert_max_num_queries(LIST_MAX) as small:
        r = client.get("/api/admin/orders", {"page_size": 5})
    assert r.status_code == 200, r.json()
    assert len(r.json()["results"]) == 5
    with django_assert_num_queries(len(small)):
        r = client.get("/api/admin/orders", {"page_size": 100})
    assert r.status_code == 200, r.json()
    body = r.json()
    assert len(body["results"]) == 100 and body["count"] == 121
    assert all(row["customer"]["email"].startswith(("bulk", "customer")) for row in body["results"])


@pytest.mark.parametrize("as_superuser", [True, False], ids=["superuser", "staff-with-view_order"])
def test_order_detail_queries_do_not_grow_with_lines(store, api, staff_api, as_superuser,
                                                     django_assert_max_num_queries, django_assert_num_queries):
    client = api if as_superuser else staff_api("sales.view_order")
    small_order = order_place(cart_id=cart_with_lines(store, 1).id, actor=None)
    large_order = order_place(cart_id=cart_with_lines(store, 30).id, actor=None)

    with django_assert_max_num_queries(DETAIL_MAX) as small:
        r = client.get(f"/api/admin/orders/{small_order.id}")
    assert r.status_code == 200, r.json()
    assert len(r.json()["items"]) == 1
    with django_assert_num_queries(len(small)):
        r = client.get(f"/api/admin/orders/{large_order.id}")
    assert r.status_code == 200, r.json()
    assert len(r.json()["items"]) == 30


def test_the_bulk_copies_look_like_real_orders(store):
    """Guard for _copies_of: a copy differs from its template only where it must."""
    template = Order.objects.get()
    _copies_of(template, 2)
    copy = Order.objects.exclude(id=template.id).order_by("id").first()
    differ = {k for k, v in model_to_dict(copy).items() if model_to_dict(template)[k] != v}
    # work_left: a copy has no lines, so the recount finds nothing left to invoice or ship.
    assert differ <= {"id", "number", "customer", "customer_email", "customer_name", "cart", "work_left"}
