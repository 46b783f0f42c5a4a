"""A staff user works an order's lifecycle from the order page in a real browser (SPEC §8):
invoices part of it, ships it from a chosen source, previews then creates a refund, is refused
when shipping more than a source holds (and nothing changes), comments on and cancels another
order. Each test asserts on what the page shows and on the database afterwards, and saves
screenshots of the order page with its buttons and of each action's form."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

from catalog.models import InventorySource, Product, ProductInventory
from sales.models import Invoice, Order, OrderComment, OrderItem, OrderStatus, Refund, Shipment
from sales.services.placing import order_place
from tests.accounts.factories import UserFactory
from tests.browser.conftest import login
from tests.carts.helpers import ready_cart
from tests.catalog.factories import ProductFactory, TaxRateFactory, default_source
from tests.customers.factories import CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIFECYCLE_PERMS = ["sales.view_order", "sales.add_invoice", "sales.add_shipment", "sales.add_refund",
                   "sales.cancel_order", "sales.add_ordercomment", "sales.archive_order", "sales.view_invoice",
                   "sales.view_shipment", "sales.view_refund", "carts.change_cart"]


def staff_user(email: str = "sam@example.com"):
    user = UserFactory(email=email, name="Sam Staff", is_staff=True, is_superuser=False)
    for perm in LIFECYCLE_PERMS:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return user


def store():
    """Beans and mugs at the default warehouse and at a Downtown store; a taxed product line."""
    rate = TaxRateFactory(category__code="standard", category__name="Standard", country="US", rate=Decimal("8.2500"))
    downtown = InventorySource.objects.create(code="downtown", name="Downtown store", priority=5)
    beans = ProductFactory(sku="BEAN-1KG", name="Espresso beans 1 kg", price=Decimal("18.50"), stock=20,
                           tax_category=rate.category)
    mugs = ProductFactory(sku="MUG-CER", name="Ceramic mug", price=Decimal("9.00"), stock=10,
                          tax_category=rate.category)
    ProductInventory.objects.create(product=beans, source=downtown, qty=6)
    ProductInventory.objects.create(product=mugs, source=downtown, qty=1)
    customer = CustomerFactory(email="maria.rossi@example.com", first_name="Maria", last_name="Rossi")
    return {"beans": beans, "mugs": mugs, "downtown": downtown, "customer": customer}


def place(data, *lines) -> Order:
    cart = ready_cart(*lines, customer=data["customer"])
    return order_place(cart_id=cart.id, actor=None)


def row(page, sku: str):
    return page.locator(f"tr.action-line[data-sku='{sku}']")


def world(order: Order) -> dict:
    """What an action on this order could change: counters, documents, stock, reservations."""
    return {
        "order": Order.objects.filter(id=order.id).values("status", "total_invoiced", "total_refunded",
                                                          "total_canceled", "shipment_state").get(),
        "items": list(OrderItem.objects.filter(order=order).order_by("id").values_list(
            "qty_invoiced", "qty_shipped", "qty_refunded", "qty_canceled")),
        "documents": (Invoice.objects.count(), Shipment.objects.count(), Refund.objects.count()),
        "stock": sorted(ProductInventory.objects.values_list("product_id", "source_id", "qty")),
        "reserved": sorted(Product.objects.values_list("id", "qty_reserved")),
    }


def test_staff_invoices_part_ships_from_a_source_and_refunds_with_a_preview(page, screenshot):
    data = store()
    order = place(data, (data["beans"], 3), (data["mugs"], 2))
    staff_user()
    login(page, "sam@example.com")

    # The order page: only the actions the order allows now.
    page.goto(f"/admin/sales/order/{order.id}/change/")
    actions = page.locator("#order-actions")
    for button in ("#invoice-button", "#ship-button", "#cancel-button", "#comment-button", "#archive-button",
                   "#reorder-button"):
        expect(actions.locator(button)).to_be_visible()
    expect(actions.locator("#refund-button")).to_have_count(0)  # nothing invoiced yet
    screenshot(page, "order-actions")

    # 1. Invoice part of it: 2 of the 3 bags of beans, no mugs.
    page.click("#invoice-button")
    expect(page.locator("h1")).to_contain_text(f"Invoice — order #{order.number}")
    expect(row(page, "BEAN-1KG").locator("input.qty-input")).to_have_value("3")  # prefilled with what is left
    expect(row(page, "MUG-CER").locator("input.qty-input")).to_have_value("2")
    row(page, "BEAN-1KG").locator("input.qty-input").fill("2")
    row(page, "MUG-CER").locator("input.qty-input").fill("0")
    screenshot(page, "action-invoice")
    page.click("#invoice-submit")
    page.wait_for_url(f"**/admin/sales/order/{order.id}/change/")
    invoice = Invoice.objects.get(order=order)
    expect(page.locator(".messagelist .success")).to_contain_text(f"Invoice #{invoice.number} created")
    expect(page.locator("#order-invoices")).to_contain_text(invoice.number)
    expect(page.locator("h1 .order-status")).to_have_text("Processing")
    expect(actions.locator("#refund-button")).to_be_visible()
    beans_item, mugs_item = OrderItem.objects.filter(order=order).order_by("id")
    assert [(x.order_item_id, x.quantity) for x in invoice.items.all()] == [(beans_item.id, 2)]
    assert (beans_item.qty_invoiced, mugs_item.qty_invoiced) == (2, 0)
    # 2 × 18.50 + 8.25 % tax (3.05) + the 5.00 flat rate on the first invoice
    assert invoice.grand_total == Decimal("45.05")

    # 2. Ship from a chosen source: Downtown store, whose stock is shown per line.
    page.click("#ship-button")
    expect(page.locator("h1")).to_contain_text("Ship")
    downtown = data["downtown"]
    expect(row(page, "BEAN-1KG").locator("td.stock-cell[data-source-code='downtown']")).to_have_text("6")
    expect(row(page, "MUG-CER").locator("td.stock-cell[data-source-code='downtown']")).to_have_text("1")
    expect(row(page, "MUG-CER").locator("td.stock-cell[data-source-code='default']")).to_have_text("10")
    page.select_option("select[name=inventory_source]", value=str(downtown.id))
    row(page, "BEAN-1KG").locator("input.qty-input").fill("3")
    row(page, "MUG-CER").locator("input.qty-input").fill("1")
    page.fill("input[name=carrier_title]", "UPS")
    page.fill("input[name=track_number]", "1Z999AA10123456784")
    screenshot(page, "action-ship")
    page.click("#ship-submit")
    page.wait_for_url(f"**/admin/sales/order/{order.id}/change/")
    shipment = Shipment.objects.get(order=order)
    expect(page.locator(".messagelist .success")).to_have_text(
        f"Shipment #{shipment.number} created: 4 unit(s) from Downtown store.")
    expect(page.locator("#order-shipments")).to_contain_text("Downtown store")
    expect(page.locator("#order-shipments")).to_contain_text("1Z999AA10123456784")
    assert (shipment.inventory_source_id, shipment.carrier_title, shipment.total_qty) == (downtown.id, "UPS", 4)
    stock = dict(ProductInventory.objects.filter(source=downtown).values_list("product__sku", "qty"))
    assert stock == {"BEAN-1KG": 3, "MUG-CER": 0}
    assert ProductInventory.objects.get(product=data["beans"], source=default_source()).qty == 20

    # 3. Refund: the preview updates before saving, refuses as the refund would, then matches what is recorded.
    page.click("#refund-button")
    preview = page.locator("#refund-preview")
    expect(preview).to_have_attribute("data-state", "refused")  # nothing asked for yet
    expect(page.locator("#refund-preview-message")).to_contain_text("must be greater than 0.00")
    row(page, "BEAN-1KG").locator("input.qty-input").fill("3")  # only 2 were invoiced
    expect(page.locator("#refund-preview-message")).to_have_text(
        "Espresso beans 1 kg (BEAN-1KG): 3 to refund but only 2 invoiced and not yet refunded.")
    expect(page.locator("#preview-grand_total")).to_have_text("—")
    screenshot(page, "action-refund-refused-preview")
    row(page, "BEAN-1KG").locator("input.qty-input").fill("1")
    page.fill("input[name=shipping_amount]", "5.00")
    page.fill("input[name=adjustment_fee]", "2.50")
    page.check("input[name=return_to_stock]")
    expect(preview).to_have_attribute("data-state", "ok")
    expect(preview).not_to_have_attribute("aria-busy", "true")
    # 18.50 + 1.53 tax (the bag's share of 3.05 is 1.52 or 1.53 as billed) + 5.00 − 2.50
    expect(page.locator("#preview-shipping_total")).to_have_text("5.00 USD")
    expect(page.locator("#preview-adjustment_fee")).to_have_text("−2.50 USD")
    previewed = page.locator("#preview-grand_total").inner_text()
    assert re.fullmatch(r"\d+\.\d\d USD", previewed), previewed
    assert Refund.objects.count() == 0  # the preview wrote nothing
    screenshot(page, "action-refund", full_page=True)
    page.click("#refund-submit")
    page.wait_for_url(f"**/admin/sales/order/{order.id}/change/")
    refund = Refund.objects.get(order=order)
    assert previewed == f"{refund.grand_total} USD"
    expect(page.locator(".messagelist .success")).to_have_text(f"Refund #{refund.number} created: {previewed}.")
    expect(page.locator("#order-refunds")).to_contain_text(refund.number)
    assert refund.shipping_total == Decimal("5.00") and refund.adjustment_fee == Decimal("2.50")
    assert [(x.sku, x.quantity) for x in refund.items.all()] == [("BEAN-1KG", 1)]
    beans_item.refresh_from_db()
    assert (beans_item.qty_refunded, beans_item.qty_shipped) == (1, 3)
    # The refunded bag was shipped (nothing of it was left to ship) → back on hand at Downtown.
    assert ProductInventory.objects.get(product=data["beans"], source=downtown).qty == 4
    order.refresh_from_db()
    assert order.total_refunded == refund.grand_total
    screenshot(page, "order-after-actions", full_page=True)

    # The store-wide documents menus link back to the order.
    page.goto("/admin/sales/invoice/")
    expect(page.locator("#result_list")).to_contain_text(invoice.number)
    expect(page.locator("#result_list")).to_contain_text("maria.rossi@example.com")
    # below 1600 px the nav sidebar starts collapsed (sales/admin/layout.js): room for every column
    screenshot(page, "invoice-list")
    page.click(f"#result_list a:text-is('{invoice.number}')")
    expect(page.locator("#document-lines")).to_contain_text("BEAN-1KG")
    expect(page.locator("#invoice-pdf")).to_be_visible()
    screenshot(page, "invoice-page")
    with page.expect_download() as download:
        page.click("#invoice-pdf")
    assert download.value.suggested_filename == f"invoice-{invoice.number}.pdf"


def test_shipping_more_than_the_source_holds_is_refused_and_nothing_changes(page, screenshot):
    data = store()
    order = place(data, (data["mugs"], 3))
    staff_user()
    before = world(order)
    login(page, "sam@example.com")

    page.goto(f"/admin/sales/order/{order.id}/change/")
    page.click("#ship-button")
    page.select_option("select[name=inventory_source]", value=str(data["downtown"].id))  # 1 mug there
    expect(row(page, "MUG-CER").locator("input.qty-input")).to_have_value("3")
    page.fill("input[name=carrier_title]", "DHL")
    page.click("#ship-submit")

    expect(page.locator(".messagelist .error")).to_have_text("MUG-CER: 1 in stock at this source, 3 to ship.")
    assert f"/admin/sales/order/{order.id}/ship/" in page.url  # still on the form, as typed
    expect(page.locator("select[name=inventory_source]")).to_have_value(str(data["downtown"].id))
    expect(row(page, "MUG-CER").locator("input.qty-input")).to_have_value("3")
    expect(page.locator("input[name=carrier_title]")).to_have_value("DHL")
    screenshot(page, "action-ship-refused")
    assert world(order) == before

    page.click("#action-back")
    expect(page.locator("#order-shipments")).to_contain_text("No shipments yet")
    expect(page.locator("h1 .order-status")).to_have_text("Pending")


def test_staff_comments_on_and_cancels_another_order(page, screenshot):
    data = store()
    first = place(data, (data["beans"], 1))
    order = place(data, (data["beans"], 2), (data["mugs"], 1))
    assert first.id != order.id
    staff_user()
    login(page, "sam@example.com")
    page.goto(f"/admin/sales/order/{order.id}/change/")

    # A comment, e-mailed to the customer.
    page.click("#comment-button")
    page.fill("textarea[name=comment]", "Customer asked to cancel: moving abroad.")
    page.check("input[name=customer_notified]")
    screenshot(page, "action-comment")
    page.click("#comment-submit")
    page.wait_for_url(f"**/admin/sales/order/{order.id}/change/")
    expect(page.locator("#order-comments")).to_contain_text("Customer asked to cancel: moving abroad.")
    expect(page.locator("#order-comments")).to_contain_text("customer notified")
    note = OrderComment.objects.get(order=order)
    assert note.customer_notified and note.author.email == "sam@example.com"

    # Cancel: the confirmation lists what will be canceled and the amount.
    page.click("#cancel-button")
    expect(row(page, "BEAN-1KG").locator("td.qty-left")).to_have_text("2")
    expect(row(page, "MUG-CER").locator("td.qty-left")).to_have_text("1")
    expect(page.locator("#cancel-amount")).to_have_text(f"{order.grand_total} USD")  # nothing billed: all of it
    expect(page.locator("#cancel-status-after")).to_contain_text("canceled")
    screenshot(page, "action-cancel")
    assert Order.objects.get(id=order.id).status == OrderStatus.PENDING  # the confirmation wrote nothing
    page.click("#confirm-cancel")
    page.wait_for_url(f"**/admin/sales/order/{order.id}/change/")
    expect(page.locator(".messagelist .success")).to_contain_text("it is now canceled")
    expect(page.locator("h1 .order-status")).to_have_text("Canceled")
    for gone in ("#invoice-button", "#ship-button", "#cancel-button", "#refund-button"):
        expect(page.locator(gone)).to_have_count(0)
    expect(page.locator("#comment-button")).to_be_visible()

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED and order.total_canceled == order.grand_total
    assert list(order.items.values_list("qty_canceled", flat=True).order_by("id")) == [2, 1]
    beans, mugs = Product.objects.get(sku="BEAN-1KG"), Product.objects.get(sku="MUG-CER")
    assert (beans.qty_reserved, mugs.qty_reserved) == (1, 0)  # only the first order's bag stays reserved
    assert Order.objects.get(id=first.id).status == OrderStatus.PENDING

    # Archive it: a confirmation, then Restore takes Archive's place.
    page.click("#archive-button")
    screenshot(page, "action-archive")
    page.click("#confirm-archive")
    expect(page.locator("#restore-button")).to_be_visible()
    assert Order.objects.get(id=order.id).archived_at is not None
