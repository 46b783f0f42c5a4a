"""The dashboard on the admin index (SPEC §14): shown to users who may view orders, with the app
list still below it; figures formatted the admin's way and linked to the filtered order list; the
chart drawn from our own static files (no CDN); the page's queries a small constant."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from sales.models import OrderStatus
from sales.services.holding import order_hold
from tests.accounts.factories import UserFactory
from tests.admin.conftest import make_orders
from tests.sales.lifecycle_support import invoice_all, order_with, product

pytestmark = pytest.mark.django_db

D = Decimal


def staff(email: str, *perms: str):
    user = UserFactory(email=email, is_staff=True, is_superuser=False)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return user


def cell(html: str, row_attr: str) -> str:
    match = re.search(rf'<tr[^>]* {row_attr}>.*?data-count="(\d+)"', html, re.S)
    assert match, row_attr
    return match.group(1)


def test_dashboard_shows_the_figures_with_links_and_the_app_list(client, admin_user):
    p = product("12.50", stock=50)
    invoice_all(order_with((p, 2)))
    held = order_with((p, 1))
    order_hold(order_id=held.id, reason="Customer called", actor=None)
    make_orders(3, status=OrderStatus.CANCELED, created_at=datetime.now(UTC) - timedelta(days=40))
    client.force_login(admin_user)

    r = client.get("/admin/")

    assert r.status_code == 200
    html = r.content.decode()
    assert 'id="order-dashboard"' in html
    assert html.index('id="order-dashboard"') < html.index('class="app-sales module')  # the app list, below
    # Orders by status, each linked to the list filtered by it.
    assert cell(html, 'data-status="processing"') == "1" and cell(html, 'data-status="pending"') == "1"
    assert cell(html, 'data-status="canceled"') == "3" and cell(html, 'data-status="all"') == "5"
    assert f'href="/admin/sales/order/?status={OrderStatus.CANCELED.value}"' in html
    # Work waiting, each linked to the order list's "Work waiting" filter, which lists what was counted.
    assert (cell(html, 'data-waiting="to_invoice"'), cell(html, 'data-waiting="to_ship"'),
            cell(html, 'data-waiting="on_hold"')) == ("0", "1", "1")
    for key in ("to_invoice", "to_ship", "on_hold"):
        assert f'href="/admin/sales/order/?waiting={key}"' in html
    # Money in the base currency, the admin's format; days as YYYY-MM-DD.
    figures = r.context["days"]
    today = datetime.now(UTC).date().isoformat()
    assert figures[-1]["day"] == today and len(figures) == 30
    invoiced = figures[-1]["amount"]
    assert re.fullmatch(r"\d+\.\d\d", invoiced) and D(invoiced) > 0
    assert f'<tr data-day="{today}"><td>{today}</td><td class="od-dash-num" data-amount="{invoiced}">{invoiced} USD' in html
    assert "Average order value" in html and "Top " in html and p.name in html
    # The chart: Chart.js and our script from static files, the data as JSON (no inline script).
    assert re.search(r'<script src="/static/sales/vendor/chart\.umd\.js"></script>', html)
    assert '<script src="/static/sales/admin/dashboard.js"></script>' in html
    data = json.loads(re.search(r'<script id="dash-revenue-data" type="application/json">(.*?)</script>',
                                html, re.S).group(1))
    assert data["labels"][-1] == today and data["amounts"][-1] == invoiced and data["currency"] == "USD"
    assert "cdn" not in html.lower()


def test_only_users_who_may_view_orders_see_the_dashboard(client):
    p = product()
    order_with((p, 1))
    client.force_login(staff("catalog@example.com", "catalog.view_product"))
    r = client.get("/admin/")
    assert r.status_code == 200 and b"order-dashboard" not in r.content and b"Products" in r.content

    def top_products(content: bytes) -> bytes:
        return content.split(b'id="dash-top-products"')[1].split(b"</table>")[0]

    client.force_login(staff("orders@example.com", "sales.view_order"))
    r = client.get("/admin/")
    assert b'id="order-dashboard"' in r.content and p.name.encode() in top_products(r.content)
    assert b"/admin/catalog/product/" not in top_products(r.content)  # may not open the product page

    client.force_login(staff("both@example.com", "sales.view_order", "catalog.view_product"))
    r = client.get("/admin/")
    assert f'href="/admin/catalog/product/{p.id}/change/"'.encode() in top_products(r.content)


def test_admin_index_queries_do_not_grow_with_orders(client, admin_user, django_assert_max_num_queries):
    p = product("10.00", stock=500)
    for _ in range(3):
        invoice_all(order_with((p, 1)))
    client.force_login(admin_user)
    client.get("/admin/")  # warm (content types, session)
    # session, user, the dashboard's 6 reads, the recent actions
    with django_assert_max_num_queries(9) as small:
        assert client.get("/admin/").status_code == 200
    for _ in range(10):
        invoice_all(order_with((product("3.00", stock=5), 2)))
    make_orders(50)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get("/admin/").status_code == 200


def test_work_waiting_filter_lists_the_orders_the_dashboard_counts(client, admin_user):
    from sales.services.archiving import order_archive
    from sales.services.invoicing import invoice_create

    p = product("10.00", stock=50)
    pending = order_with((p, 1))
    invoiced = order_with((p, 1))
    invoice_create(order_id=invoiced.id, items=None, actor=None)
    held = order_with((p, 1))
    order_hold(order_id=held.id, reason="Wait", actor=None)
    archived = order_with((p, 1))
    order_archive(order_id=archived.id, actor=None)
    client.force_login(admin_user)
    html = client.get("/admin/").content.decode()

    def listed(query: str) -> set[int]:
        r = client.get(f"/admin/sales/order/?{query}")
        assert r.status_code == 200
        return {o.id for o in r.context["cl"].result_list}

    assert listed("waiting=to_invoice") == {pending.id}
    assert listed("waiting=to_ship") == {pending.id, invoiced.id}
    assert listed("waiting=on_hold") == {held.id}
    for key in ("to_invoice", "to_ship", "on_hold"):
        assert cell(html, f'data-waiting="{key}"') == str(len(listed(f"waiting={key}")))
    assert listed("waiting=to_ship&archived=all") == {pending.id, invoiced.id, archived.id}  # archived: not counted
    assert listed("waiting=nonsense") == {pending.id, invoiced.id, held.id}  # an unknown value filters nothing
    page = client.get("/admin/sales/order/?waiting=to_ship").content.decode()
    assert "work waiting" in page.lower() and "Pending (1)" in page and "Processing (1)" in page
