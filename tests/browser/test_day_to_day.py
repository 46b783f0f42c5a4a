"""The admin for a day's work in a real browser (SPEC §14), at 1366 × 768: the order list and
the order page fit the screen (no horizontal scroll, every column inside its box, at 1536 px
too); a mass invoice of three orders where one is refused, the result page naming why; a mass
ship from a chosen source; the packing slip PDF read back with pypdf; the customer and product
pickers searching as you type. Screenshots of the new pages with SCREENSHOTS=1 (`make screenshots`)."""

import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from catalog.models import ProductInventory
from sales.models import Invoice, Order, Shipment
from sales.services.canceling import order_cancel
from sales.services.common import LineQty
from sales.services.invoicing import invoice_create
from sales.services.shipping import shipment_create
from tests.accounts.factories import UserFactory
from tests.admin.conftest import make_orders
from tests.browser.conftest import login
from tests.browser.test_order_lifecycle import place, store
from tests.catalog.factories import ProductFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FITS = """(selector) => ({
  doc: document.documentElement.scrollWidth,
  win: window.innerWidth,
  tables: [...document.querySelectorAll(selector)].map(t => ({
    width: t.scrollWidth, box: t.parentElement.clientWidth, right: Math.round(t.getBoundingClientRect().right)})),
})"""


def admin(email: str = "ada@example.com"):
    return UserFactory(email=email, name="Ada Admin", is_staff=True, is_superuser=True)


def assert_fits(page, selector: str) -> None:
    """No horizontal scroll on the page, and every matching table inside its box and the window."""
    m = page.evaluate(FITS, selector)
    assert m["doc"] <= m["win"], m
    assert m["tables"], f"no {selector} on the page"
    for table in m["tables"]:
        assert table["width"] <= table["box"] + 1 and table["right"] <= m["win"], m


def busy_day(data) -> Order:
    """A list page of 50 orders with long names and e-mails, and one order worked half-way."""
    make_orders(49, customer_name="Maximiliane Fitzgerald-Oyelaran", status=2,
                customer_email="maximiliane.fitzgerald-oyelaran@very-long-company-domain.example.com")
    extra = ProductFactory(sku="GRINDER-BURR-PRO-2000", name="Conical burr grinder, professional edition, 2000",
                           price=Decimal("1249.00"), stock=5)
    order = place(data, (data["beans"], 3), (data["mugs"], 2), (extra, 1))
    beans_item = order.items.order_by("id").first()
    invoice_create(order_id=order.id, items=[LineQty(beans_item.id, 2)], actor=None)
    shipment_create(order_id=order.id, inventory_source_id=data["downtown"].id, items=[LineQty(beans_item.id, 2)],
                    carrier_title="UPS", actor=None)
    return order


def test_order_list_and_order_page_fit_a_laptop_screen(laptop_page, screenshot):
    page = laptop_page
    data = store()
    order = busy_day(data)
    admin()
    login(page, "ada@example.com")

    page.goto("/admin/sales/order/")
    expect(page.locator("h1")).to_have_text("Select order to view")
    expect(page.locator("#site-name")).to_have_text("Order Desk")
    expect(page.locator("#result_list tbody tr")).to_have_count(50)
    for heading in ("Number", "Date", "Customer", "Status", "Grand total", "Payment", "Invoiced", "Shipped"):
        expect(page.locator("#result_list thead")).to_contain_text(heading, ignore_case=True)
    assert_fits(page, "#result_list")
    expect(page.locator("#changelist-filter")).to_contain_text("Pending payment (49)")
    screenshot(page, "order-list-1366")

    page.goto(f"/admin/sales/order/{order.id}/change/")
    assert_fits(page, "table.order-items-table")
    assert_fits(page, "#order-totals table")
    total = page.locator("#order-items tbody tr").first.locator("td").last
    box = total.bounding_box()
    assert box["x"] + box["width"] <= 1366
    history = page.locator("#order-history")
    invoice = Invoice.objects.get(order=order)
    expect(history).to_contain_text(f"Invoice #{invoice.number} created: 2 items")
    expect(history.locator(f"a:text-is('Invoice #{invoice.number}')")).to_be_visible()
    expect(history).not_to_contain_text("order_item_id")
    screenshot(page, "order-page-1366", full_page=True)

    # 1536 px: the same, and with the nav sidebar opened by the user the list still fits.
    page.set_viewport_size({"width": 1536, "height": 864})
    page.goto("/admin/sales/order/")
    assert_fits(page, "#result_list")
    page.click("#toggle-nav-sidebar")
    expect(page.locator("#nav-sidebar")).to_have_attribute("aria-expanded", "true")
    assert_fits(page, "#result_list")
    page.goto(f"/admin/sales/order/{order.id}/change/")
    assert_fits(page, "table.order-items-table")


def select_orders(page, orders) -> None:
    for order in orders:
        page.check(f"#result_list input.action-select[value='{order.id}']")


def run_action(page, name: str) -> None:
    page.select_option("select[name=action]", name)
    page.click("button[name=index]")


def test_mass_invoice_of_three_orders_one_refused(laptop_page, screenshot):
    page = laptop_page
    data = store()
    first = place(data, (data["beans"], 1))
    second = place(data, (data["mugs"], 2))
    canceled = place(data, (data["beans"], 1))
    order_cancel(order_id=canceled.id, actor=None)
    admin()
    login(page, "ada@example.com")

    page.goto("/admin/sales/order/")
    select_orders(page, [first, second, canceled])
    expect(page.locator(".action-counter")).to_contain_text("3 of 3 selected")
    run_action(page, "mass_invoice")
    page.wait_for_url(re.compile(r"/admin/sales/order/mass/[\w-]+/$"))

    expect(page.locator("h1")).to_have_text("Invoice: results")
    expect(page.locator("#mass-summary")).to_contain_text("3 orders: 2 invoiced, 1 refused.")
    refused = page.locator(f"tr.mass-row[data-number='{canceled.number}']")
    expect(refused.locator(".mass-state")).to_have_text("refused")
    expect(refused.locator(".mass-text")).to_contain_text(f"Order #{canceled.number}")
    expect(refused.locator(".mass-text")).to_contain_text("cannot be invoiced")
    for order in (first, second):
        invoice = Invoice.objects.get(order=order)
        row = page.locator(f"tr.mass-row[data-number='{order.number}']")
        expect(row.locator(".mass-state")).to_have_text("done")
        expect(row.locator(f"a:text-is('Invoice #{invoice.number} created: {invoice.grand_total} USD')")).to_be_visible()
    assert not Invoice.objects.filter(order=canceled).exists()
    assert_fits(page, "#mass-results table")
    screenshot(page, "mass-invoice-result")

    # the document link opens the invoice
    invoice = Invoice.objects.get(order=first)
    page.click(f"a:text-is('Invoice #{invoice.number} created: {invoice.grand_total} USD')")
    expect(page.locator("h1")).to_contain_text(f"Invoice #{invoice.number}")


def test_mass_ship_from_a_chosen_source(laptop_page, screenshot):
    page = laptop_page
    data = store()
    beans = place(data, (data["beans"], 2))  # Downtown holds 6 bags
    mugs = place(data, (data["mugs"], 3))  # Downtown holds 1 mug: refused there
    admin()
    login(page, "ada@example.com")

    page.goto("/admin/sales/order/")
    select_orders(page, [beans, mugs])
    run_action(page, "mass_ship")
    expect(page.locator("h1")).to_have_text("Ship 2 orders")
    page.select_option("select[name=inventory_source]", str(data["downtown"].id))
    page.fill("input[name=carrier_title]", "DHL")
    screenshot(page, "mass-ship-options")
    page.click("#mass-apply")
    page.wait_for_url(re.compile(r"/admin/sales/order/mass/[\w-]+/$"))
    expect(page.locator("#mass-summary")).to_contain_text("2 orders: 1 shipped, 1 refused.")
    expect(page.locator("#mass-summary")).to_contain_text("from Downtown store, carrier DHL")
    shipment = Shipment.objects.get(order=beans)
    assert (shipment.inventory_source_id, shipment.carrier_title) == (data["downtown"].id, "DHL")
    expect(page.locator(f"tr.mass-row[data-number='{mugs.number}'] .mass-text")).to_have_text(
        "MUG-CER: 1 in stock at this source, 3 to ship.")
    assert ProductInventory.objects.get(product=data["beans"], source=data["downtown"]).qty == 4
    screenshot(page, "mass-ship-result")


def pdf_text(path: Path) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(Path(path).read_bytes())).pages)


def test_packing_slip_pdf_from_the_order_page_and_the_shipment_page(laptop_page, screenshot):
    page = laptop_page
    data = store()
    order = place(data, (data["beans"], 3), (data["mugs"], 2))
    admin()
    login(page, "ada@example.com")

    page.goto(f"/admin/sales/order/{order.id}/change/")
    with page.expect_download() as download:
        page.click("#packing-slip-button")
    assert download.value.suggested_filename == f"packing-slip-{order.number}.pdf"
    text = pdf_text(download.value.path())
    assert "PACKING SLIP" in text and f"Order #{order.number}" in text
    assert re.search(r"BEAN-1KG\s+Espresso beans 1 kg\s+3\b", text), text
    assert re.search(r"MUG-CER\s+Ceramic mug\s+2\b", text), text
    address = order.shipping_address
    assert address["line_1"] in text and address["city"] in text
    assert "Default warehouse" in text  # the first source, by priority, holding every unit
    for price in ("18.50", "9.00", str(order.grand_total)):
        assert price not in text

    shipment = shipment_create(order_id=order.id, inventory_source_id=data["downtown"].id,
                               items=[LineQty(order.items.order_by("id").first().id, 2)], carrier_title="UPS",
                               track_number="1Z999AA1", actor=None)
    page.goto(f"/admin/sales/shipment/{shipment.id}/change/")
    screenshot(page, "shipment-page")
    with page.expect_download() as download:
        page.click("#packing-slip-pdf")
    text = pdf_text(download.value.path())
    assert f"Shipment #{shipment.number}" in text and "Downtown store" in text and "1Z999AA1" in text
    assert re.search(r"BEAN-1KG\s+Espresso beans 1 kg\s+2\b", text), text
    assert "18.50" not in text


def test_customer_and_product_pickers_search_as_you_type(laptop_page, screenshot):
    page = laptop_page
    data = store()
    admin()
    login(page, "ada@example.com")

    page.goto("/admin/sales/order/create/")
    page.click("#customer-autocomplete .select2-selection")
    page.fill(".select2-search__field", "ross")
    option = page.locator(".select2-results__option", has_text="maria.rossi@example.com")
    expect(option).to_be_visible()
    expect(page.locator(".select2-results__option.loading-results")).to_have_count(0)
    screenshot(page, "wizard-customer-autocomplete")
    option.click()
    page.click("#customer-autocomplete-start")
    page.wait_for_url(re.compile(r"/admin/sales/order/create/\d+/products/"))
    expect(page.locator("#cart-summary")).to_contain_text("maria.rossi@example.com")

    page.click("#product-autocomplete .select2-selection")
    page.fill(".select2-search__field", "espresso")
    option = page.locator(".select2-results__option", has_text="Espresso beans 1 kg")
    expect(option).to_be_visible()
    option.click()
    page.fill("#product-autocomplete input[name=quantity]", "2")
    page.click("#product-autocomplete-add")
    row = page.locator("#cart-lines tr.cart-line[data-sku='BEAN-1KG']")
    expect(row).to_be_visible()
    expect(row.locator("input[name=quantity]")).to_have_value("2")
    assert data["customer"].carts.get().items.get().quantity == 2
