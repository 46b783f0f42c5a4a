"""The order page's lifecycle actions on Django's test client (SPEC §5, §8).

Each action: its button shows only when the order allows it and the user holds the permission;
success changes the database as the service does and lands on the order page with a message;
a refusal shows the service's message, keeps the form as typed and writes nothing (every row an
action could touch, stock included: tests.sales.lifecycle_support.nothing_written); a staff user
without the permission sees no button and gets 403 on the URL.
"""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.test import Client
from django.urls import reverse

from catalog.models import Product, ProductInventory
from sales.models import Invoice, Order, OrderComment, OrderStatus, Refund, Shipment
from sales.services.refunding import RefundRequest, refund_preview
from sales.services.shipping import shipment_create
from tests.accounts.factories import UserFactory
from tests.catalog.factories import InventorySourceFactory
from tests.sales.lifecycle_support import (
    default_source,
    fraud_order,
    invoice_all,
    invoice_lines,
    items_of,
    nothing_written,
    order_with,
    product,
    reload,
)

pytestmark = pytest.mark.django_db

D = Decimal

ACTION_PERMS = {
    "invoice": "sales.add_invoice",
    "ship": "sales.add_shipment",
    "refund": "sales.add_refund",
    "cancel": "sales.cancel_order",
    "comment": "sales.add_ordercomment",
    "archive": "sales.archive_order",
    "restore": "sales.archive_order",
    "clear_fraud": "sales.clear_fraud",
}
BUTTON_IDS = {"invoice": "invoice-button", "ship": "ship-button", "refund": "refund-button",
              "cancel": "cancel-button", "comment": "comment-button", "archive": "archive-button",
              "restore": "restore-button", "clear_fraud": "clear-fraud-button", "hold": "hold-button",
              "release-hold": "release-hold-button", "edit-items": "edit-items-button",
              "edit-details": "edit-details-button"}


def url(action: str, order) -> str:
    return reverse(f"admin:sales_order_{action}", args=[order.id])


def page_url(order) -> str:
    return reverse("admin:sales_order_change", args=[order.id])


def staff_client(*perms: str) -> Client:
    """A logged-in staff user holding sales.view_order and exactly ``perms``."""
    user = UserFactory(is_staff=True, is_superuser=False)
    for perm in ("sales.view_order", *perms):
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    client = Client()
    client.force_login(user)
    return client


def buttons(response) -> list[str]:
    return [b.key for b in response.context["buttons"]]


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def on_hand(p, source=None) -> int:
    inv = ProductInventory.objects.filter(product=p, source=source or default_source()).first()
    return inv.qty if inv else 0


def reserved(p) -> int:
    return Product.objects.get(id=p.id).qty_reserved


@pytest.fixture
def two_line_order():
    """2 × 10.00 (no tax) and 3 × 20.00 (10 % tax), flat-rate shipping 5.00 (the default ready cart)."""
    a, b = product("10.00", stock=10), product("20.00", stock=10, tax="10")
    order = order_with((a, 2), (b, 3))
    return order, a, b


# ---------------------------------------------------------------------------- buttons on the order page


def test_buttons_follow_what_the_order_allows(admin_client, two_line_order):
    order, _, _ = two_line_order
    r = admin_client.get(page_url(order))
    assert buttons(r) == ["invoice", "ship", "cancel", "edit-items", "edit-details", "comment", "archive", "hold"]
    body = r.content.decode()
    for key in buttons(r):
        assert f'id="{BUTTON_IDS[key]}"' in body
    assert 'id="reorder-button"' in body and 'id="refund-button"' not in body

    invoice_all(order)
    r = admin_client.get(page_url(order))
    # all billed: nothing to invoice or cancel; a processing order's items can still be edited (SPEC §12)
    assert buttons(r) == ["ship", "refund", "edit-items", "edit-details", "comment", "archive", "hold"]

    Order.objects.filter(id=order.id).update(archived_at="2024-01-01T00:00:00Z")
    assert "restore" in buttons(admin_client.get(page_url(order)))


def test_fraud_order_offers_only_clear_fraud_comment_and_archive(admin_client):
    order = fraud_order(invoiced=True)
    r = admin_client.get(page_url(order))
    assert buttons(r) == ["edit-details", "comment", "archive", "clear-fraud", "hold"]


def test_gateway_order_has_no_invoice_button_and_the_url_says_why(admin_client):
    order = order_with((product(), 1), payment="paylink")
    r = admin_client.get(page_url(order))
    assert "invoice" not in buttons(r)
    r = admin_client.get(url("invoice", order), follow=True)
    assert r.redirect_chain[-1][0] == page_url(order)
    assert any("staff cannot invoice it" in m for m in messages_of(r))


@pytest.mark.parametrize("action", ["invoice", "ship", "refund", "cancel", "comment", "archive", "restore",
                                    "clear_fraud"])
def test_without_the_permission_no_button_and_403(action):
    order = fraud_order() if action == "clear_fraud" else order_with((product(), 2))
    if action == "refund":
        invoice_all(order)
    if action == "restore":
        Order.objects.filter(id=order.id).update(archived_at="2024-01-01T00:00:00Z")
    others = [p for a, p in ACTION_PERMS.items() if p != ACTION_PERMS[action]]
    client = staff_client(*others)
    r = client.get(page_url(order))
    assert r.status_code == 200
    assert action.replace("_", "-") not in buttons(r)
    assert f'id="{BUTTON_IDS[action]}"' not in r.content.decode()
    with nothing_written():
        assert client.get(url(action, order)).status_code == 403
        assert client.post(url(action, order), {"comment": "x", "qty_1": "1"}).status_code == 403
    # ... and with it, the button is there and the page opens.
    client = staff_client(ACTION_PERMS[action])
    r = client.get(page_url(order))
    assert action.replace("_", "-") in buttons(r)
    assert client.get(url(action, order)).status_code == 200


def test_refund_preview_endpoint_needs_the_refund_permission():
    order = order_with((product(), 2))
    invoice_all(order)
    client = staff_client("sales.add_invoice")
    assert client.post(url("refund_preview", order), {}).status_code == 403


def test_unknown_order_is_404(admin_client):
    for action in ("invoice", "ship", "refund", "cancel", "comment", "archive", "clear_fraud"):
        assert admin_client.get(reverse(f"admin:sales_order_{action}", args=[999999])).status_code == 404


# ---------------------------------------------------------------------------- order page query count


@pytest.mark.parametrize("lines", [1, 20])
def test_order_page_with_buttons_and_documents_is_constant_queries(django_assert_num_queries, lines):
    """A staff user (permissions read once per request) on an order with documents of every kind."""
    order = order_with(*[(product("10.00", stock=50), 2) for _ in range(lines)])
    items = items_of(order)
    invoice_lines(order, *[(i.id, 1) for i in items])
    shipment_create(order_id=order.id, inventory_source_id=default_source().id, items=None, actor=None)
    from sales.services.refunding import refund_create

    refund_create(order_id=order.id, request=RefundRequest(shipping_amount=D("1.00")), actor=None)
    client = staff_client(*set(ACTION_PERMS.values()), "sales.view_invoice", "sales.view_shipment",
                          "sales.view_refund", "carts.change_cart")
    # session, user, user permissions, group permissions, order (+customer, pickup location, creator), items,
    # invoices, shipments, refunds, payments, comments, events
    with django_assert_num_queries(12):
        r = client.get(page_url(order))
    assert r.status_code == 200
    assert buttons(r) == ["invoice", "refund", "comment", "archive"]  # all shipped: nothing to cancel
    body = r.content.decode()
    assert body.count('class="order-item"') == lines
    assert reverse("admin:sales_invoice_change", args=[Invoice.objects.get().id]) in body
    assert reverse("admin:sales_shipment_change", args=[Shipment.objects.get().id]) in body
    assert reverse("admin:sales_refund_change", args=[Refund.objects.get().id]) in body
    assert reverse("admin:sales_invoice_pdf", args=[Invoice.objects.get().id]) in body


# ---------------------------------------------------------------------------- invoice


def test_invoice_form_prefills_what_is_left(admin_client, two_line_order):
    order, _, _ = two_line_order
    a_item, b_item = items_of(order)
    invoice_lines(order, (b_item.id, 1))
    r = admin_client.get(url("invoice", order))
    assert r.status_code == 200
    rows = {row["item"].id: row["field"].value() for row in r.context["rows"]}
    assert rows == {a_item.id: 2, b_item.id: 2}
    assert f'name="qty_{a_item.id}"' in r.content.decode()


def test_invoice_part_of_the_order(admin_client, two_line_order):
    order, _, _ = two_line_order
    a_item, b_item = items_of(order)
    r = admin_client.post(url("invoice", order), {f"qty_{a_item.id}": "1", f"qty_{b_item.id}": "0"}, follow=True)
    assert r.redirect_chain[-1][0] == page_url(order)
    invoice = Invoice.objects.get(order=order)
    assert any(f"Invoice #{invoice.number} created" in m for m in messages_of(r))
    assert [(x.order_item_id, x.quantity) for x in invoice.items.all()] == [(a_item.id, 1)]
    assert invoice.grand_total == D("15.00")  # 10.00 + the whole shipping on the first invoice
    a_item, b_item = items_of(order)
    assert (a_item.qty_invoiced, b_item.qty_invoiced) == (1, 0)
    order = reload(order)
    assert order.status == OrderStatus.PROCESSING and order.total_invoiced == D("15.00")
    assert order.payments.count() == 1


def test_invoice_refused_over_what_is_left_keeps_the_form_and_writes_nothing(admin_client, two_line_order):
    order, _, _ = two_line_order
    a_item, b_item = items_of(order)
    with nothing_written():
        r = admin_client.post(url("invoice", order), {f"qty_{a_item.id}": "5", f"qty_{b_item.id}": "1"})
    assert r.status_code == 200
    assert messages_of(r) == [f"{a_item.name} ({a_item.sku}): 5 to invoice but only 2 left."]
    assert {row["item"].id: row["field"].value() for row in r.context["rows"]} == {a_item.id: "5", b_item.id: "1"}


def test_invoice_bad_input_is_a_form_error(admin_client, two_line_order):
    order, _, _ = two_line_order
    a_item, b_item = items_of(order)
    with nothing_written():
        r = admin_client.post(url("invoice", order), {f"qty_{a_item.id}": "-1", f"qty_{b_item.id}": "x"})
        assert r.status_code == 200 and r.context["form"].errors
        r = admin_client.post(url("invoice", order), {f"qty_{a_item.id}": "0", f"qty_{b_item.id}": "0"})
        assert "at least one line" in r.content.decode()


def test_invoice_of_a_canceled_order_goes_back_with_the_services_message(admin_client, two_line_order):
    order, _, _ = two_line_order
    admin_client.post(url("cancel", order), follow=True)
    with nothing_written():
        r = admin_client.post(url("invoice", order), {}, follow=True)
    assert r.redirect_chain[-1][0] == page_url(order)
    assert messages_of(r) == [f"Order #{order.number} cannot be invoiced: it is canceled."]


# ---------------------------------------------------------------------------- ship


@pytest.fixture
def store():
    """Two sources: the default (10 of A, 10 of B) and Downtown (1 of A, 5 of B)."""
    downtown = InventorySourceFactory(code="downtown", name="Downtown", priority=5)
    InventorySourceFactory(code="closed", name="Closed shop", active=False)
    a, b = product("10.00", stock=10), product("20.00", stock=10)
    ProductInventory.objects.create(product=a, source=downtown, qty=1)
    ProductInventory.objects.create(product=b, source=downtown, qty=5)
    order = order_with((a, 2), (b, 3))
    return order, a, b, downtown


def test_ship_form_shows_stock_per_source_and_prefills(admin_client, store):
    order, a, b, downtown = store
    a_item, b_item = items_of(order)
    r = admin_client.get(url("ship", order))
    assert r.status_code == 200
    assert [s.code for s in r.context["sources"]] == ["default", "downtown"]  # active only, by priority
    stock = {row["item"].id: [c["qty"] for c in row["stock"]] for row in r.context["rows"]}
    assert stock == {a_item.id: [10, 1], b_item.id: [10, 5]}
    assert {row["item"].id: row["field"].value() for row in r.context["rows"]} == {a_item.id: 2, b_item.id: 3}
    # The source suggested is the first, by priority, that holds every line.
    assert r.context["form"]["inventory_source"].value() == default_source().id
    ProductInventory.objects.filter(product=a, source=default_source()).update(qty=1)
    r = admin_client.get(url("ship", order))
    assert r.context["form"]["inventory_source"].value() == default_source().id  # none holds all: the first
    ProductInventory.objects.filter(product=a, source=downtown).update(qty=2)
    r = admin_client.get(url("ship", order))
    assert r.context["form"]["inventory_source"].value() == downtown.id
    assert "stock-short" in r.content.decode()


@pytest.mark.parametrize("lines", [1, 10])
def test_ship_form_reads_constant_queries(admin_client, django_assert_num_queries, lines):
    InventorySourceFactory(code="second")
    order = order_with(*[(product(stock=5), 1) for _ in range(lines)])
    # session, user, order, items, active sources, on-hand of every line at every source (one query)
    with django_assert_num_queries(6):
        r = admin_client.get(url("ship", order))
    assert len(r.context["rows"]) == lines


def test_ship_from_a_chosen_source(admin_client, store):
    order, a, b, downtown = store
    a_item, b_item = items_of(order)
    r = admin_client.post(url("ship", order), {
        "inventory_source": downtown.id, f"qty_{a_item.id}": "1", f"qty_{b_item.id}": "3",
        "carrier_title": "UPS", "track_number": "1Z999"}, follow=True)
    assert r.redirect_chain[-1][0] == page_url(order)
    shipment = Shipment.objects.get(order=order)
    assert any(f"Shipment #{shipment.number} created: 4 unit(s) from Downtown" in m for m in messages_of(r))
    assert (shipment.inventory_source_id, shipment.carrier_title, shipment.track_number) == (downtown.id, "UPS",
                                                                                             "1Z999")
    assert (on_hand(a, downtown), on_hand(b, downtown), on_hand(a), on_hand(b)) == (0, 2, 10, 10)
    assert (reserved(a), reserved(b)) == (1, 0)
    a_item, b_item = items_of(order)
    assert (a_item.qty_shipped, b_item.qty_shipped) == (1, 3)
    assert reload(order).shipment_state == "partial"


def test_ship_more_than_the_stock_at_the_source_is_refused(admin_client, store):
    order, a, b, downtown = store
    a_item, b_item = items_of(order)
    data = {"inventory_source": downtown.id, f"qty_{a_item.id}": "2", f"qty_{b_item.id}": "3",
            "carrier_title": "DHL", "track_number": "JD01"}
    with nothing_written():
        r = admin_client.post(url("ship", order), data)
    assert r.status_code == 200
    assert messages_of(r) == [f"{a.sku}: 1 in stock at this source, 2 to ship."]
    form = r.context["form"]
    assert form["inventory_source"].value() == str(downtown.id) and form["carrier_title"].value() == "DHL"
    assert 'value="JD01"' in r.content.decode()


def test_ship_from_an_inactive_or_unknown_source_is_a_form_error(admin_client, store):
    order, _, _, _ = store
    a_item, _ = items_of(order)
    closed = InventorySourceFactory(code="gone", active=False)
    with nothing_written():
        for source_id in (closed.id, 999999, ""):
            r = admin_client.post(url("ship", order), {"inventory_source": source_id, f"qty_{a_item.id}": "1"})
            assert r.status_code == 200 and "inventory_source" in r.context["form"].errors


# ---------------------------------------------------------------------------- refund


@pytest.fixture
def invoiced_order(two_line_order):
    order, a, b = two_line_order
    invoice_all(order)
    a_item, b_item = items_of(order)
    shipment_create(order_id=order.id, inventory_source_id=default_source().id,
                    items=[_lq(b_item.id, 2)], actor=None)
    return reload(order), a, b


def _lq(item_id, qty):
    from sales.services.common import LineQty

    return LineQty(order_item_id=item_id, quantity=qty)


def test_refund_form_starts_at_zero(admin_client, invoiced_order):
    order, _, _ = invoiced_order
    r = admin_client.get(url("refund", order))
    assert r.status_code == 200
    assert {row["field"].value() for row in r.context["rows"]} == {0}
    body = r.content.decode()
    assert "refund_preview.js" in body and reverse("admin:sales_order_refund_preview", args=[order.id]) in body
    assert "Up to 5.00 USD" in body


def test_refund_preview_is_what_the_refund_records(admin_client, invoiced_order):
    order, a, b = invoiced_order
    a_item, b_item = items_of(order)
    data = {f"qty_{a_item.id}": "1", f"qty_{b_item.id}": "2", "shipping_amount": "5.00",
            "adjustment_refund": "1.50", "adjustment_fee": "2.00", "return_to_stock": "on"}
    with nothing_written():
        preview = admin_client.post(url("refund_preview", order), data)
    assert preview.status_code == 200
    body = preview.json()
    # 10.00 + 2 × (20.00 + 2.00 tax) + 5.00 shipping + 1.50 − 2.00
    assert body["ok"] is True and body["currency"] == "USD"
    assert body["totals"] == {"subtotal": "50.00", "tax_total": "4.00", "discount_total": "0.00",
                              "shipping_total": "5.00", "adjustment_refund": "1.50", "adjustment_fee": "2.00",
                              "grand_total": "58.50"}
    assert [(x["order_item_id"], x["quantity"]) for x in body["items"]] == [(a_item.id, 1), (b_item.id, 2)]

    r = admin_client.post(url("refund", order), data, follow=True)
    refund = Refund.objects.get(order=order)
    assert r.redirect_chain[-1][0] == page_url(order)
    assert any(f"Refund #{refund.number} created: 58.50 USD" in m for m in messages_of(r))
    assert str(refund.grand_total) == body["totals"]["grand_total"]
    for name, value in body["totals"].items():
        assert str(getattr(refund, name)) == value, name
    assert refund.return_to_stock
    order = reload(order)
    assert order.total_refunded == D("58.50") and order.shipping_refunded == D("5.00")
    # Refunds take unshipped units first. A: 1 unshipped → its reservation released. B (2 of 3 shipped):
    # 1 unshipped released, 1 shipped back on hand with return_to_stock.
    assert (on_hand(a), reserved(a)) == (10, 1)
    assert (on_hand(b), reserved(b)) == (9, 0)


def test_refund_preview_refusals_say_why_and_write_nothing(admin_client, invoiced_order):
    order, a, _ = invoiced_order
    a_item, _ = items_of(order)
    with nothing_written():
        r = admin_client.post(url("refund_preview", order), {f"qty_{a_item.id}": "3"})
        assert r.status_code == 409
        assert r.json() == {"ok": False, "code": "refund_exceeds_refundable",
                            "message": f"{a_item.name} ({a_item.sku}): 3 to refund but only 2 invoiced and not yet "
                                       f"refunded."}
        r = admin_client.post(url("refund_preview", order), {})
        assert r.status_code == 409 and r.json()["code"] == "refund_empty"
        r = admin_client.post(url("refund_preview", order), {"shipping_amount": "-1"})
        assert r.status_code == 400 and r.json()["code"] == "validation_error" and "Refund shipping" in r.json()[
            "message"]
        assert admin_client.get(url("refund_preview", order)).status_code == 405


def test_refund_refused_keeps_the_form_and_writes_nothing(admin_client, invoiced_order):
    order, a, _ = invoiced_order
    a_item, b_item = items_of(order)
    data = {f"qty_{a_item.id}": "1", "shipping_amount": "9.00", "adjustment_fee": "0.50"}
    with nothing_written():
        r = admin_client.post(url("refund", order), data)
    assert r.status_code == 200
    assert messages_of(r) == ["Shipping refund 9.00 exceeds the shipping invoiced and not yet refunded (5.00)."]
    form = r.context["form"]
    assert (form[f"qty_{a_item.id}"].value(), form["shipping_amount"].value(), form["adjustment_fee"].value()) == (
        "1", "9.00", "0.50")


def test_refund_preview_without_javascript(admin_client, invoiced_order):
    order, _, _ = invoiced_order
    a_item, _ = items_of(order)
    with nothing_written():
        r = admin_client.post(url("refund", order), {f"qty_{a_item.id}": "2", "action": "preview"})
    assert r.status_code == 200
    assert r.context["preview"]["totals"]["grand_total"] == "20.00"
    assert 'id="preview-grand_total" data-total="grand_total">20.00 USD' in r.content.decode()
    plan = refund_preview(order_id=order.id, request=RefundRequest(items=[_lq(a_item.id, 2)]))
    assert plan.totals["grand_total"] == D("20.00")


def test_refund_of_an_order_not_invoiced_goes_back_with_the_message(admin_client, two_line_order):
    order, _, _ = two_line_order
    r = admin_client.get(url("refund", order), follow=True)
    assert r.redirect_chain[-1][0] == page_url(order)
    assert messages_of(r) == [f"Order #{order.number} has not been invoiced: only billed money can be refunded."]


# ---------------------------------------------------------------------------- cancel


def test_cancel_confirmation_lists_what_will_be_canceled_and_writes_nothing(admin_client, two_line_order):
    order, _, _ = two_line_order
    a_item, b_item = items_of(order)
    invoice_lines(order, (b_item.id, 1))
    with nothing_written():
        r = admin_client.get(url("cancel", order))
    assert r.status_code == 200
    assert [(i.id, i.qty_to_cancel) for i in r.context["lines"]] == [(a_item.id, 2), (b_item.id, 2)]
    # 2 × 10.00 + 2 × (20.00 + 2.00 tax); shipping stays (something was invoiced); 1 unit of B is left to ship
    assert r.context["amount"] == D("64.00") and r.context["status_after"] == "Processing"
    assert 'id="cancel-amount">64.00 USD' in r.content.decode()

    r = admin_client.post(url("cancel", order), follow=True)
    assert r.redirect_chain[-1][0] == page_url(order)
    order = reload(order)
    assert order.total_canceled == D("64.00") and order.status == OrderStatus.PROCESSING
    assert [i.qty_canceled for i in items_of(order)] == [2, 2]


def test_cancel_everything_releases_stock(admin_client, two_line_order):
    order, a, b = two_line_order
    assert (reserved(a), reserved(b)) == (2, 3)
    r = admin_client.post(url("cancel", order), follow=True)
    assert any("it is now canceled" in m for m in messages_of(r))
    order = reload(order)
    assert order.status == OrderStatus.CANCELED and order.total_canceled == order.grand_total
    assert (reserved(a), reserved(b)) == (0, 0)


def test_cancel_refused_says_why_and_writes_nothing(admin_client, two_line_order):
    order, _, _ = two_line_order
    invoice_all(order)  # every unit billed: nothing left to cancel
    with nothing_written():
        r = admin_client.post(url("cancel", order), follow=True)
    expected = f"Order #{order.number} has nothing left to cancel: every unit is invoiced or shipped."
    assert messages_of(r) == [expected]
    r = admin_client.get(url("cancel", order), follow=True)
    assert messages_of(r) == [expected]


# ---------------------------------------------------------------------------- comment


def test_comment_with_customer_notification(admin_client, admin_user, two_line_order,
                                            django_capture_on_commit_callbacks):
    order, _, _ = two_line_order
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        r = admin_client.post(url("comment", order), {"comment": "Parcel delayed by the storm.",
                                                      "customer_notified": "on"}, follow=True)
    assert r.redirect_chain[-1][0] == page_url(order)
    assert "Comment added and the customer notified." in messages_of(r)
    note = OrderComment.objects.get(order=order)
    assert (note.comment, note.customer_notified, note.author_id) == ("Parcel delayed by the storm.", True,
                                                                      admin_user.id)
    assert [m.to for m in mail.outbox] == [[order.customer_email]]
    assert "Parcel delayed by the storm." in r.content.decode()  # the order page lists it
    assert reload(order).status == order.status


def test_comment_empty_or_too_long_is_a_form_error(admin_client, two_line_order):
    order, _, _ = two_line_order
    with nothing_written():
        r = admin_client.post(url("comment", order), {"comment": "   "})
        assert r.status_code == 200 and "comment" in r.context["form"].errors
        r = admin_client.post(url("comment", order), {"comment": "x" * 5001})
        assert r.status_code == 200 and "comment" in r.context["form"].errors
        assert 'x' * 5001 in r.content.decode()  # kept as typed


# ---------------------------------------------------------------------------- archive, restore, clear fraud


def test_archive_and_restore(admin_client, two_line_order):
    order, _, _ = two_line_order
    r = admin_client.get(url("archive", order))
    assert r.status_code == 200 and 'id="confirm-archive"' in r.content.decode()
    r = admin_client.post(url("archive", order), follow=True)
    assert reload(order).archived_at is not None
    assert "restore" in buttons(r)
    r = admin_client.post(url("restore", order), follow=True)
    assert reload(order).archived_at is None
    assert "archive" in buttons(r)
    assert list(order.events.values_list("type", flat=True).order_by("id"))[-2:] == ["archived", "restored"]


def test_clear_fraud_confirmation_tells_the_status_after(admin_client):
    order = fraud_order()
    with nothing_written():
        r = admin_client.get(url("clear_fraud", order))
    assert r.status_code == 200 and "it will be pending" in r.content.decode()
    r = admin_client.post(url("clear_fraud", order), follow=True)
    assert reload(order).status == OrderStatus.PENDING
    assert any("Fraud flag cleared" in m for m in messages_of(r))
    assert "invoice" in buttons(r)


def test_clear_fraud_on_an_order_not_flagged_is_refused(admin_client, two_line_order):
    order, _, _ = two_line_order
    with nothing_written():
        r = admin_client.post(url("clear_fraud", order), follow=True)
    assert messages_of(r) == [f"Order #{order.number} is not flagged as fraud."]


# ---------------------------------------------------------------------------- bad input never a 5xx


@pytest.mark.parametrize("value", ["NaN", "Infinity", "1e400", "99999999999999999999", "-0.01", "1.234", "١٢", "",
                                   "0x10", "' OR 1=1 --"])
def test_bad_input_is_a_form_error_not_a_5xx(admin_client, invoiced_order, value):
    order, _, _ = invoiced_order
    a_item, b_item = items_of(order)
    with nothing_written():
        for action, data in (
                ("invoice", {f"qty_{a_item.id}": value}),
                ("ship", {"inventory_source": value, f"qty_{b_item.id}": value, "carrier_title": value}),
                ("refund", {f"qty_{a_item.id}": value, "shipping_amount": value, "adjustment_fee": value}),
                ("refund_preview", {f"qty_{a_item.id}": value, "adjustment_refund": value})):
            r = admin_client.post(url(action, order), data)
            # 302: nothing left to invoice; 409: the preview refusing a well-formed amount ("" is 0, "١٢" is 12)
            assert r.status_code in (200, 302, 400, 409), (action, value, r.status_code)
    r = admin_client.post(url("comment", order), {"comment": value, "customer_notified": value})
    assert r.status_code in (200, 302)  # any text is a comment; an empty one is a form error
