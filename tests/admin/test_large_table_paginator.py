import pytest
from django.db import connection

from sales.admin.pagination import LargeTablePaginator
from sales.models import Order
from tests.sales.helpers import placed_order

pytestmark = pytest.mark.django_db


class Small(LargeTablePaginator):
    EXACT_LIMIT = 3


def test_exact_up_to_the_limit():
    for _ in range(3):
        placed_order()
    assert Small(Order.objects.all(), 2).count == 3


def test_beyond_the_limit_estimates_on_postgresql_and_counts_elsewhere(django_assert_max_num_queries):
    for _ in range(5):
        placed_order()
    with django_assert_max_num_queries(2):
        count = Small(Order.objects.filter(archived_at__isnull=True), 2).count
    if connection.vendor == "postgresql":
        assert count >= 4  # the planner's estimate, never below the bounded count
    else:
        assert count == 5


def test_change_list_uses_it(client, admin_user):
    placed_order()
    client.force_login(admin_user)
    r = client.get("/admin/sales/order/")
    assert r.status_code == 200 and r.context["cl"].paginator.__class__ is LargeTablePaginator
    assert r.context["cl"].result_count == 1
