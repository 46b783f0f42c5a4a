"""GET /api/admin/invoices/{id}/pdf: a real PDF (SPEC §6).

Set INVOICE_PDF_DUMP=/some/dir to keep the rendered files (e.g. to look at them with pdftoppm).
"""

import io
import os
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader

from sales.models import Invoice
from sales.pdf import InvoiceDocument, invoice_pdf
from sales.selectors import invoice_queryset
from sales.services.invoicing import invoice_create
from tests.catalog.factories import ProductFactory
from tests.customers.factories import CustomerFactory, address
from tests.sales.helpers import placed_order

pytestmark = pytest.mark.django_db


def _dump(name: str, content: bytes) -> None:
    folder = os.environ.get("INVOICE_PDF_DUMP")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / name).write_bytes(content)


def _text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def _unicode_order():
    customer = CustomerFactory(first_name="Zoë", last_name="Ørsted-Łukasiewicz", email="zoe@example.com")
    bill = address(first_name="Zoë", last_name="Ørsted-Łukasiewicz", company="Café Crème GmbH",
                   line_1="Königstraße 12", city="München", zone="", postcode="80331", country="DE")
    ship = address(first_name="Zoë", last_name="Ørsted", line_1="Rue de l'Église 3", line_2="Bâtiment B",
                   city="Paris", zone="", postcode="75001", country="FR")
    lines = [(ProductFactory(name="Espresso cup — «Crème» edition, hand-glazed stoneware with a long name "
                                  "that wraps onto a second line", price=Decimal("12.50"), stock=20), 3),
             (ProductFactory(name="Kaffeemühle № 5", price=Decimal("1089.99"), stock=20), 2),
             (ProductFactory(name="Paper filters (100)", price=Decimal("6.99"), stock=20), 4)]
    return placed_order(*lines, customer=customer, currency="EUR", billing=bill, shipping_address=ship,
                        coupon=None)


def test_pdf_download_has_number_total_and_lines(api):
    order = _unicode_order()
    invoice = invoice_create(order_id=order.id, items=None, actor=None)
    r = api.get(f"/api/admin/invoices/{invoice.id}/pdf")
    assert r.status_code == 200
    assert r["Content-Type"] == "application/pdf"
    assert r["Content-Disposition"] == f'attachment; filename="invoice-{invoice.number}.pdf"'
    content = b"".join(r.streaming_content) if r.streaming else r.content
    assert content.startswith(b"%PDF-")
    _dump(f"invoice-{invoice.number}.pdf", content)
    text = _text(content)
    invoice.refresh_from_db()
    grand = f"{invoice.grand_total:,.2f}"
    assert f"Invoice #{invoice.number}" in text
    assert grand in text
    assert f"#{order.number}" in text
    assert "Kaffeemühle" in text or "Kaffeem" in text
    for item in invoice.items.all():
        assert item.sku in text


def test_pdf_accepts_pdf_accept_header_and_unknown_id_is_json_404(api):
    order = placed_order()
    invoice = invoice_create(order_id=order.id, items=None, actor=None)
    r = api.get(f"/api/admin/invoices/{invoice.id}/pdf", HTTP_ACCEPT="application/pdf")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    r = api.get("/api/admin/invoices/999999/pdf", HTTP_ACCEPT="application/pdf")
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"


def test_pdf_needs_view_invoice(staff_api):
    order = placed_order()
    invoice = invoice_create(order_id=order.id, items=None, actor=None)
    r = staff_api("sales.view_order").get(f"/api/admin/invoices/{invoice.id}/pdf")
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    r = staff_api("sales.view_invoice").get(f"/api/admin/invoices/{invoice.id}/pdf")
    assert r.status_code == 200


def test_pdf_without_unicode_font_falls_back_to_helvetica(settings, monkeypatch):
    """No DejaVu on the machine: core font, non-Latin-1 characters spelled out, nothing crashes."""
    import sales.pdf as pdf_module

    monkeypatch.setattr(pdf_module, "FONT_DIRS", ())
    settings.PDF_FONT_DIR = None
    settings.STORE_NAME = "Łódź Coffee € Co"
    order = _unicode_order()
    invoice_create(order_id=order.id, items=None, actor=None)
    invoice = invoice_queryset().get(order=order)
    content = invoice_pdf(invoice)
    _dump(f"invoice-{invoice.number}-helvetica.pdf", content)
    text = _text(content)
    assert f"Invoice #{invoice.number}" in text
    assert f"{invoice.grand_total:,.2f}" in text
    assert "Lódz Coffee EUR Co" in text
    assert "Zoë" in text  # Latin-1 survives the core font


def test_fallback_text_replacement():
    doc = InvoiceDocument(footer_text="")
    doc.unicode_ok = False
    assert doc.t("€ 5 – Łukasz ✓") == "EUR 5 - Lukasz ?"
    assert doc.t(None) == ""


def test_long_invoice_breaks_onto_more_pages():
    products = [(ProductFactory(price=Decimal("1.00") + n, stock=5), 1) for n in range(45)]
    order = placed_order(*products)
    invoice_create(order_id=order.id, items=None, actor=None)
    invoice = invoice_queryset().get(order=order)
    content = invoice_pdf(invoice)
    _dump(f"invoice-{invoice.number}-long.pdf", content)
    reader = PdfReader(io.BytesIO(content))
    assert len(reader.pages) >= 2
    text = _text(content)
    assert f"{invoice.grand_total:,.2f}" in text and "Page 2 of" in text
    assert Invoice.objects.count() == 1
