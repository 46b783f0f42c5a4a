"""Sales → Invoices, Shipments, Refunds (SPEC §6, §8): lists, filters, search, constant queries,
read-only detail pages with their lines, the invoice PDF."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sales.models import Invoice, InvoiceItem, Refund, Shipment
from sales.services.common import LineQty
from sales.services.refunding import RefundRequest, refund_create
from sales.services.shipping import shipment_create
from tests.accounts.factories import UserFactory
from tests.admin.conftest import make_orders
from tests.catalog.factories import InventorySourceFactory
from tests.sales.lifecycle_support import default_source, invoice_all, items_of, order_with, product

pytestmark = pytest.mark.django_db

D = Decimal
MODELS = {"invoice": Invoice, "shipment": Shipment, "refund": Refund}


def list_url(kind: str) -> str:
    return reverse(f"admin:sales_{kind}_changelist")


def numbers(response) -> list[str]:
    return [d.number for d in response.context["cl"].result_list]


@pytest.fixture
def lifecycle(admin_user):
    """An order invoiced, shipped from a second source and refunded, by the admin user."""
    second = InventorySourceFactory(code="east", name="East depot")
    p = product("12.00", stock=10, tax="10")
    from catalog.models import ProductInventory

    ProductInventory.objects.create(product=p, source=second, qty=4)
    order = order_with((p, 3))
    invoice = invoice_all(order)
    Invoice.objects.filter(id=invoice.id).update(created_by=admin_user)
    item = items_of(order)[0]
    shipment = shipment_create(order_id=order.id, inventory_source_id=second.id, items=[LineQty(item.id, 2)],
                               carrier_title="UPS", track_number="1Z42", actor=admin_user)
    refund = refund_create(order_id=order.id, request=RefundRequest(items=[LineQty(item.id, 1)],
                                                                    adjustment_fee=D("1.00")), actor=admin_user)
    return {"order": order, "invoice": invoice, "shipment": shipment, "refund": refund, "source": second}


def bulk_documents(kind: str, n: int) -> None:
    """n documents of one kind on as many orders, written in bulk (lists read only their joined rows)."""
    orders = make_orders(n)
    now = timezone.now()
    model = MODELS[kind]
    start = model.objects.count()
    extra = {"inventory_source": default_source(), "total_qty": 2} if kind == "shipment" else {}
    model.objects.bulk_create([
        model(order=o, number=f"{kind[0].upper()}{700000 + start + i}", created_at=now - timezone.timedelta(minutes=i),
              subtotal=D("10.00"), grand_total=D("15.00"), **extra)
        for i, o in enumerate(orders)])


# ---------------------------------------------------------------------------- lists


def test_invoice_list_columns(admin_client, lifecycle):
    r = admin_client.get(list_url("invoice"))
    body = r.content.decode()
    order, invoice = lifecycle["order"], lifecycle["invoice"]
    assert r.status_code == 200 and numbers(r) == [invoice.number]
    for text in (invoice.number, f"#{order.number}", reverse("admin:sales_order_change", args=[order.id]),
                 order.customer_email, f"{invoice.grand_total} USD", "Ada Admin", "paid"):
        assert text in body, text
    assert r.context["cl"].show_full_result_count is False


def test_shipment_list_columns(admin_client, lifecycle):
    body = admin_client.get(list_url("shipment")).content.decode()
    shipment = lifecycle["shipment"]
    for text in (shipment.number, f"#{lifecycle['order'].number}", "East depot", "UPS · 1Z42", ">2<"):
        assert text in body, text


def test_refund_list_columns(admin_client, lifecycle):
    body = admin_client.get(list_url("refund")).content.decode()
    refund = lifecycle["refund"]
    for text in (refund.number, f"#{lifecycle['order'].number}", f"{refund.grand_total} USD", "+0.00 / −1.00"):
        assert text in body, text


@pytest.mark.parametrize("kind", ["invoice", "shipment", "refund"])
def test_lists_read_the_same_queries_at_1_and_50_documents(admin_client, kind):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    bulk_documents(kind, 1)
    with CaptureQueriesContext(connection) as one:
        r = admin_client.get(list_url(kind))
    assert len(r.context["cl"].result_list) == 1
    bulk_documents(kind, 49)
    with CaptureQueriesContext(connection) as fifty:
        r = admin_client.get(list_url(kind))
    assert len(r.context["cl"].result_list) == 50
    assert len(fifty) == len(one), [q["sql"] for q in fifty.captured_queries]
    # session, user, the filtered COUNT, the page (+ the source filter's lookup for shipments)
    assert len(one) == (5 if kind == "shipment" else 4)


def test_invoice_filters_and_search(admin_client):
    bulk_documents("invoice", 3)
    first, second, third = Invoice.objects.order_by("number")
    Invoice.objects.filter(id=second.id).update(state="open")
    Invoice.objects.filter(id=third.id).update(created_at=timezone.now() - timezone.timedelta(days=40))
    assert numbers(admin_client.get(list_url("invoice"), {"state": "open"})) == [second.number]
    assert sorted(numbers(admin_client.get(list_url("invoice"), {"state": "paid"}))) == [first.number, third.number]
    recent = (timezone.now() - timezone.timedelta(days=7)).date().isoformat()
    assert sorted(numbers(admin_client.get(list_url("invoice"), {"created_from": recent}))) == [first.number,
                                                                                                second.number]
    assert numbers(admin_client.get(list_url("invoice"), {"q": third.number})) == [third.number]
    assert numbers(admin_client.get(list_url("invoice"), {"q": second.order.number})) == [second.number]
    assert numbers(admin_client.get(list_url("invoice"), {"q": "nothing-like-this"})) == []


def test_shipment_filter_by_source(admin_client, lifecycle):
    bulk_documents("shipment", 2)
    source = lifecycle["source"]
    r = admin_client.get(list_url("shipment"), {"inventory_source__id__exact": source.id})
    assert numbers(r) == [lifecycle["shipment"].number]
    assert "East depot" in r.content.decode()  # the filter lists the sources


def test_documents_are_read_only(admin_client, lifecycle):
    for kind in ("invoice", "shipment", "refund"):
        doc = lifecycle[kind]
        assert admin_client.get(reverse(f"admin:sales_{kind}_add")).status_code == 403
        assert admin_client.get(reverse(f"admin:sales_{kind}_delete", args=[doc.id])).status_code == 403
        r = admin_client.post(reverse(f"admin:sales_{kind}_change", args=[doc.id]), {"number": "X"})
        assert MODELS[kind].objects.get(id=doc.id).number == doc.number
        assert r.status_code in (200, 403, 405)


# ---------------------------------------------------------------------------- detail pages and the PDF


def test_invoice_detail_page_with_lines_and_pdf_button(admin_client, lifecycle, django_assert_max_num_queries):
    invoice = lifecycle["invoice"]
    with django_assert_max_num_queries(5):
        r = admin_client.get(reverse("admin:sales_invoice_change", args=[invoice.id]))
    body = r.content.decode()
    assert r.status_code == 200
    line = InvoiceItem.objects.get(invoice=invoice)
    for text in (f"Invoice #{invoice.number}", line.sku, line.name, f"{invoice.grand_total} USD", "Download PDF",
                 reverse("admin:sales_invoice_pdf", args=[invoice.id]), f"Order #{lifecycle['order'].number}"):
        assert text in body, text
    assert body.count('class="document-line"') == 1


def test_shipment_and_refund_detail_pages(admin_client, lifecycle):
    body = admin_client.get(reverse("admin:sales_shipment_change", args=[lifecycle["shipment"].id])).content.decode()
    for text in ("East depot", "UPS", "1Z42", 'class="document-line"'):
        assert text in body, text
    assert "Download PDF" not in body
    refund = lifecycle["refund"]
    body = admin_client.get(reverse("admin:sales_refund_change", args=[refund.id])).content.decode()
    for text in (f"Refund #{refund.number}", "Adjustment fee", "−1.00 USD", f"{refund.grand_total} USD"):
        assert text in body, text


def test_invoice_pdf_download(admin_client, lifecycle):
    invoice = lifecycle["invoice"]
    r = admin_client.get(reverse("admin:sales_invoice_pdf", args=[invoice.id]))
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r["Content-Disposition"] == f'attachment; filename="invoice-{invoice.number}.pdf"'
    assert r.content.startswith(b"%PDF")
    assert admin_client.get(reverse("admin:sales_invoice_pdf", args=[999999])).status_code == 404


def test_unknown_document_redirects_to_its_list(admin_client):
    r = admin_client.get(reverse("admin:sales_invoice_change", args=[999999]))
    assert r.status_code == 302


def test_documents_need_their_view_permission(lifecycle):
    user = UserFactory(is_staff=True, is_superuser=False)
    user.user_permissions.add(Permission.objects.get(content_type__app_label="sales", codename="view_order"))
    client = Client()
    client.force_login(user)
    invoice = lifecycle["invoice"]
    assert client.get(list_url("invoice")).status_code == 403
    assert client.get(reverse("admin:sales_invoice_change", args=[invoice.id])).status_code == 403
    assert client.get(reverse("admin:sales_invoice_pdf", args=[invoice.id])).status_code == 403
    # The order page names the documents without linking where the user may not go.
    body = client.get(reverse("admin:sales_order_change", args=[lifecycle["order"].id])).content.decode()
    assert invoice.number in body and reverse("admin:sales_invoice_change", args=[invoice.id]) not in body
    user.user_permissions.add(Permission.objects.get(content_type__app_label="sales", codename="view_invoice"))
    client.force_login(user)
    assert client.get(reverse("admin:sales_invoice_pdf", args=[invoice.id])).status_code == 200


def test_admin_index_lists_the_document_menus(admin_client):
    body = admin_client.get("/admin/").content.decode()
    for text in ("Invoices", "Shipments", "Refunds"):
        assert text in body
