"""Sales → Orders: change list (columns, filters, search, archived), CSV export, order page, reorder."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from carts.models import Cart
from sales.models import Order
from tests.admin.conftest import make_order_with_lines, make_orders
from tests.carts.helpers import ready_cart
from tests.catalog.factories import ProductFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/admin/sales/order/"
# session, user, payment-method filter lookups, the status filter's counts (one GROUP BY), the filtered COUNT,
# the page of orders
CHANGELIST_QUERIES = 6
# session, user, order (+customer, pickup location, creator), items, invoices, shipments, refunds, payments,
# comments, history events
ORDER_PAGE_QUERIES = 10


def numbers(response) -> list[str]:
    return [o.number for o in response.context["cl"].result_list]


def test_changelist_columns(admin_client):
    make_orders(1, number="100000042", customer_name="Ada Lovelace", customer_email="ada@example.com", status=3,
                grand_total=Decimal("84.17"), currency="EUR", invoice_state="partial", shipment_state="none")
    r = admin_client.get(LIST_URL)
    body = r.content.decode()
    assert r.status_code == 200
    for text in ("100000042", "Ada Lovelace", "ada@example.com", "order-status--processing", "Processing",
                 "84.17 EUR", "Cash on delivery", "order-doc--partial", "Create order", "Export CSV"):
        assert text in body, text
    assert r.context["cl"].show_full_result_count is False
    assert r.context["cl"].list_per_page == 50


@pytest.mark.parametrize("n", [1, 200])
def test_changelist_query_count_is_constant(admin_client, django_assert_num_queries, n):
    make_orders(n)
    with django_assert_num_queries(CHANGELIST_QUERIES):
        r = admin_client.get(LIST_URL)
    assert r.status_code == 200
    assert len(r.context["cl"].result_list) == min(n, 50)


def test_changelist_query_count_with_filters_and_search(admin_client, django_assert_num_queries):
    make_orders(120)
    with django_assert_num_queries(CHANGELIST_QUERIES):
        r = admin_client.get(LIST_URL, {"status": "1", "payment_method": "cashondelivery", "channel": "admin",
                                        "q": "buyer1", "created_from": "2000-01-01", "o": "-5"})
    assert r.status_code == 200 and r.context["cl"].result_count > 0


def test_filters(admin_client):
    today = timezone.now()
    make_orders(1, number="1", status=1, payment_method_code="paylink", channel="api")
    make_orders(1, number="2", status=4, created_at=today - timezone.timedelta(days=40))
    make_orders(1, number="3", status=4, archived_at=today)
    assert numbers(admin_client.get(LIST_URL)) == ["1", "2"]
    assert numbers(admin_client.get(LIST_URL, {"status": "4"})) == ["2"]
    assert numbers(admin_client.get(LIST_URL, {"payment_method": "paylink"})) == ["1"]
    assert numbers(admin_client.get(LIST_URL, {"channel": "api"})) == ["1"]
    assert numbers(admin_client.get(LIST_URL, {"archived": "yes"})) == ["3"]
    assert sorted(numbers(admin_client.get(LIST_URL, {"archived": "all"}))) == ["1", "2", "3"]
    recent = (today - timezone.timedelta(days=7)).date().isoformat()
    assert numbers(admin_client.get(LIST_URL, {"created_from": recent})) == ["1"]
    old = (today - timezone.timedelta(days=30)).date().isoformat()
    assert numbers(admin_client.get(LIST_URL, {"created_to": old})) == ["2"]
    r = admin_client.get(LIST_URL, {"created_from": "not-a-date"})
    assert r.status_code == 200 and "not a date" in r.content.decode()


def test_search_by_number_email_and_name(admin_client):
    make_orders(1, number="100000777", customer_email="zed@example.com", customer_name="Zed Zulu")
    make_orders(1, number="100000888", customer_email="amy@example.com", customer_name="Amy Alpha")
    assert numbers(admin_client.get(LIST_URL, {"q": "0777"})) == ["100000777"]
    assert numbers(admin_client.get(LIST_URL, {"q": "AMY@"})) == ["100000888"]
    assert numbers(admin_client.get(LIST_URL, {"q": "zulu"})) == ["100000777"]


def parse_csv(response) -> list[dict]:
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_csv_export_action_streams_the_selected_orders(admin_client):
    orders = make_orders(3, customer_name="=HYPERLINK(1)")
    r = admin_client.post(LIST_URL, {"action": "export_csv", "_selected_action": [orders[0].pk, orders[2].pk]})
    assert r.status_code == 200 and r.streaming
    rows = parse_csv(r)
    assert [row["number"] for row in rows] == [orders[0].number, orders[2].number]
    first = rows[0]
    assert first["status"] == "pending" and first["grand_total"] == "15.00" and first["currency"] == "USD"
    assert first["customer_name"] == "'=HYPERLINK(1)"  # formula injection neutralised
    assert first["payment_method"] == "cashondelivery"


def test_csv_export_action_select_across_takes_the_filtered_list(admin_client):
    make_orders(4, status=1)
    make_orders(2, status=4)
    r = admin_client.post(f"{LIST_URL}?status=4", {"action": "export_csv", "select_across": "1",
                                                   "_selected_action": [Order.objects.first().pk]})
    rows = parse_csv(r)
    assert len(rows) == 2 and {row["status"] for row in rows} == {"completed"}


def test_csv_export_link_takes_the_filters_and_search(admin_client):
    make_orders(3, channel="api")
    make_orders(2, channel="admin")
    make_orders(1, channel="api", archived_at=timezone.now())
    r = admin_client.get(reverse("admin:sales_order_export"), {"channel": "api"})
    rows = parse_csv(r)
    assert len(rows) == 3 and {row["channel"] for row in rows} == {"api"}
    assert rows[0]["created_at"] >= rows[-1]["created_at"]  # newest first, as listed


def test_orders_cannot_be_deleted_or_added_directly(admin_client):
    order = make_orders(1)[0]
    assert admin_client.get(reverse("admin:sales_order_delete", args=[order.pk])).status_code == 403
    r = admin_client.get(reverse("admin:sales_order_add"))
    assert r.status_code == 302 and r["Location"] == reverse("admin:sales_order_create")


# ---------------------------------------------------------------------------- the order page


def test_order_page_shows_everything(admin_client):
    product = ProductFactory(sku="CUP-1", name="Cup", price=Decimal("12.50"), stock=5)
    cart = ready_cart((product, 2))
    from sales.services.placing import order_place

    order = order_place(cart_id=cart.id, actor=None)
    r = admin_client.get(reverse("admin:sales_order_change", args=[order.pk]))
    body = r.content.decode()
    assert r.status_code == 200
    for text in (f"Order #{order.number}", "CUP-1", "Cup", "Quantity", "Left to",
                 "qty_to_invoice", "qty_to_ship", "qty_to_refund", "qty_to_cancel",
                 "Grand total", "30.00 USD", "Due (still to bill)", "Billing address", "1 Main St",
                 "Shipping address", "Flat rate", "Cash on delivery", "No invoices yet", "No shipments yet",
                 "No refunds yet", "Placed", "Reorder", 'id="order-actions"'):
        assert text in body, text
    can = r.context["can"]
    assert can.invoice and can.ship and can.cancel and not can.refund


@pytest.mark.parametrize("lines", [1, 20])
def test_order_page_query_count_is_constant(admin_client, django_assert_num_queries, lines):
    order = make_order_with_lines(lines, comments=3, events=4)
    with django_assert_num_queries(ORDER_PAGE_QUERIES):
        r = admin_client.get(reverse("admin:sales_order_change", args=[order.pk]))
    assert r.status_code == 200
    assert r.content.decode().count('class="order-item"') == lines


def test_unknown_order_redirects_to_the_list(admin_client):
    r = admin_client.get(reverse("admin:sales_order_change", args=[999999]))
    assert r.status_code == 302


def test_reorder_creates_a_draft_cart_and_opens_the_wizard(admin_client):
    product = ProductFactory(stock=5)
    gone = ProductFactory(stock=1)
    from sales.services.placing import order_place

    order = order_place(cart_id=ready_cart((product, 2), (gone, 1)).id, actor=None)
    gone.status = "disabled"
    gone.save()
    r = admin_client.get(reverse("admin:sales_order_reorder", args=[order.pk]))
    assert r.status_code == 405
    r = admin_client.post(reverse("admin:sales_order_reorder", args=[order.pk]), follow=True)
    cart = Cart.objects.filter(is_active=True).latest("id")
    assert r.redirect_chain[0][0] == reverse("admin:sales_order_create_step", args=[cart.id, "products"])
    assert [(i.product_id, i.quantity) for i in cart.items.all()] == [(product.id, 2)]
    body = r.content.decode()
    assert "Not copied" in body and gone.sku in body


def test_reorder_refusal_shows_the_message(admin_client):
    order = make_orders(1)[0]  # no customer
    r = admin_client.post(reverse("admin:sales_order_reorder", args=[order.pk]), follow=True)
    assert "no customer" in r.content.decode()
    assert not Cart.objects.exists()


def test_row_checkboxes_keep_djangos_markup(admin_client):
    order = make_orders(1)[0]
    body = admin_client.get(LIST_URL).content.decode()
    assert (f'<input type="checkbox" name="_selected_action" value="{order.pk}" class="action-select" '
            f'aria-label="Select this object for an action - #{order.number}">') in body
    assert 'id="action-toggle"' in body
