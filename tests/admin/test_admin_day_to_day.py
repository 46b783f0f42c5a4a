"""The admin for a day's work (SPEC §14), first slice: the Order Desk name, history as sentences
with links (never raw data), one date format, no "Discount −0.00", counts on the status filter."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from sales.models import OrderEvent, OrderStatus
from sales.services.comments import comment_add
from sales.services.invoicing import invoice_create
from sales.services.refunding import RefundRequest, refund_create
from sales.services.shipping import shipment_create
from tests.admin.conftest import make_orders
from tests.sales.lifecycle_support import default_source, items_of, order_with, product, reload

pytestmark = pytest.mark.django_db

LIST_URL = "/admin/sales/order/"
DATE_TIME = re.compile(r"\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}\b")


def page(client, order) -> str:
    r = client.get(reverse("admin:sales_order_change", args=[order.id]))
    assert r.status_code == 200
    return r.content.decode()


# ---------------------------------------------------------------------------- branding


@pytest.mark.parametrize("url", ["/admin/", LIST_URL, "/admin/sales/invoice/", "/admin/login/"])
def test_order_desk_everywhere_and_no_view_site(client, admin_client, url):
    body = (client if url == "/admin/login/" else admin_client).get(url).content.decode()
    assert "Order Desk" in body
    assert "Django administration" not in body and "Django site admin" not in body
    assert "View site" not in body


def test_index_title_and_the_api_docs_link(admin_client):
    r = admin_client.get("/admin/")
    body = r.content.decode()
    assert "<title>Order Desk | Order Desk</title>" in body
    assert f'href="{reverse("swagger-ui")}" id="api-docs-link"' in body
    assert admin_client.get(reverse("swagger-ui")).status_code == 200  # it leads somewhere real


def test_layout_assets_load_on_every_admin_page(admin_client):
    body = admin_client.get(LIST_URL).content.decode()
    assert "sales/admin/layout.js" in body and "sales/admin/layout.css" in body


# ---------------------------------------------------------------------------- history as sentences


def test_history_is_sentences_with_links_never_raw_data(admin_client, admin_user):
    beans = product("10.00", stock=10)
    order = order_with((beans, 3))
    invoice = invoice_create(order_id=order.id, items=[_line(order, 2)], actor=admin_user)
    shipment = shipment_create(order_id=order.id, inventory_source_id=default_source().id, items=None,
                               carrier_title="UPS", track_number="1Z999", actor=admin_user)
    refund = refund_create(order_id=order.id, request=RefundRequest(items=[_line(order, 1)]), actor=admin_user)
    comment_add(order_id=order.id, comment="Left at the door", customer_notified=True, actor=admin_user)
    body = page(admin_client, order)
    history = body[body.index('id="order-history"'):]
    history = history[:history.index("</table>")]

    invoice_link = f'<a href="{reverse("admin:sales_invoice_change", args=[invoice.id])}" class="history-doc">' \
                   f"Invoice #{invoice.number}</a>"
    assert f"{invoice_link} created by Ada Admin: 2 items, {invoice.grand_total} USD" in history
    shipment_link = f'<a href="{reverse("admin:sales_shipment_change", args=[shipment.id])}" class="history-doc">' \
                    f"Shipment #{shipment.number}</a>"
    assert f"{shipment_link} created by Ada Admin: 3 items, from Default warehouse, UPS 1Z999" in history
    assert f"Refund #{refund.number}</a> created by Ada Admin: 1 item, {refund.grand_total} USD" in history
    assert "Order placed: 1 line" in history
    assert "Comment added by Ada Admin (customer notified)" in history
    for raw in ("order_item_id", "{'", "[{", "invoice_id", "None"):
        assert raw not in history, raw
    assert len(DATE_TIME.findall(history)) == OrderEvent.objects.filter(order=order).count()


def test_history_sentence_for_cancel_archive_and_an_unknown_type(admin_client, admin_user):
    order = order_with((product("10.00"), 2))
    from sales.services.archiving import order_archive
    from sales.services.canceling import order_cancel

    order_cancel(order_id=order.id, actor=admin_user)
    order_archive(order_id=order.id, actor=admin_user)
    OrderEvent.objects.create(order=order, type="fraud_flagged", actor=admin_user, data={})  # a type added later
    history = page(admin_client, order)
    assert f"Order canceled by Ada Admin: 2 items, {reload(order).total_canceled} USD" in history
    assert "Archived by Ada Admin" in history
    assert "Fraud flagged by Ada Admin" in history


def test_history_sentence_for_a_captured_payment(admin_client):
    from sales.services.checkout import checkout_pay

    order = order_with((product("10.00"), 1), payment="paylink")
    invoice = checkout_pay(token=order.checkout_token)
    history = page(admin_client, order)
    assert f"Payment of {invoice.grand_total} USD captured by test" in history
    assert f"Invoice #{invoice.number}</a> issued" in history


def test_history_links_need_the_document_permission(admin_user):
    from django.contrib.auth.models import Permission
    from django.test import Client

    from tests.accounts.factories import UserFactory

    order = order_with((product(), 1))
    invoice = invoice_create(order_id=order.id, items=None, actor=admin_user)
    user = UserFactory(is_staff=True, is_superuser=False)
    user.user_permissions.add(Permission.objects.get(content_type__app_label="sales", codename="view_order"))
    client = Client()
    client.force_login(user)
    body = page(client, order)
    assert f"Invoice #{invoice.number} created by Ada Admin" in body
    assert reverse("admin:sales_invoice_change", args=[invoice.id]) not in body


def _line(order, qty):
    from sales.services.common import LineQty

    return LineQty(order_item_id=items_of(order)[0].id, quantity=qty)


# ---------------------------------------------------------------------------- one date format, no −0.00


def test_order_page_dates_are_one_format_and_zero_discount_is_not_shown(admin_client):
    order = order_with((product("10.00"), 1))
    body = page(admin_client, order)
    placed = timezone.localtime(reload(order).created_at).strftime("%Y-%m-%d %H:%M")
    assert f"<tr><th>Placed</th><td>{placed}</td></tr>" in body
    assert "a.m." not in body and "p.m." not in body
    assert "−0.00" not in body and 'id="order-discount-row"' not in body


def test_a_discount_is_still_shown(admin_client):
    order = order_with((product("10.00"), 2), coupon_percent="10")
    body = page(admin_client, order)
    assert 'id="order-discount-row"' in body and f"−{reload(order).discount_total} USD" in body


def test_document_page_dates_and_no_zero_rows(admin_client):
    order = order_with((product("10.00"), 1))
    invoice = invoice_create(order_id=order.id, items=None, actor=None)
    body = admin_client.get(reverse("admin:sales_invoice_change", args=[invoice.id])).content.decode()
    assert "−0.00" not in body
    assert timezone.localtime(invoice.created_at).strftime("%Y-%m-%d %H:%M") in body


# ---------------------------------------------------------------------------- status filter counts


def test_status_filter_shows_counts(admin_client):
    make_orders(3, status=OrderStatus.PENDING)
    make_orders(2, status=OrderStatus.PROCESSING)
    make_orders(1, status=OrderStatus.PROCESSING, archived_at=timezone.now())
    body = admin_client.get(LIST_URL).content.decode()
    assert "All (5)" in body and "Pending (3)" in body and "Processing (2)" in body and "Completed (0)" in body


def test_status_counts_follow_the_other_filters_and_the_search_not_the_status(admin_client):
    make_orders(3, status=OrderStatus.PENDING, payment_method_code="banktransfer")
    make_orders(2, status=OrderStatus.PROCESSING)
    make_orders(1, status=OrderStatus.PROCESSING, archived_at=timezone.now())
    body = admin_client.get(LIST_URL, {"payment_method": "banktransfer", "status": "3"}).content.decode()
    assert "Pending (3)" in body and "Processing (0)" in body
    body = admin_client.get(LIST_URL, {"archived": "all"}).content.decode()
    assert "All (6)" in body and "Processing (3)" in body
    body = admin_client.get(LIST_URL, {"q": "buyer0@example.com"}).content.decode()
    assert "All (1)" in body and "Pending (1)" in body


@pytest.mark.parametrize("n", [1, 300])
def test_status_counts_are_one_query_at_any_size(admin_client, django_assert_num_queries, n):
    from tests.admin.test_orders_admin import CHANGELIST_QUERIES

    make_orders(n)
    with django_assert_num_queries(CHANGELIST_QUERIES):
        r = admin_client.get(LIST_URL)
    assert f"All ({n})" in r.content.decode()


def test_generic_admin_pages_use_the_same_date_format(admin_client):
    from tests.customers.factories import CustomerFactory

    customer = CustomerFactory()
    body = admin_client.get("/admin/customers/customer/").content.decode()
    assert timezone.localtime(customer.created_at).strftime("%Y-%m-%d %H:%M") in body
    assert "a.m." not in body and "p.m." not in body
