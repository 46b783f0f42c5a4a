"""Edit items with its preview, Edit addresses and note, and Hold / Release hold, from the order page
in a real browser at 1366 × 768 (SPEC §12, §14): the preview's grand total is the one the saved order
page then shows; a quantity below the minimum is refused with the minimum named and nothing changes;
the new pages scroll no wider than the screen. Screenshots with SCREENSHOTS=1 (`make screenshots`)."""

import re
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

from sales.models import Order, OrderEvent, OrderItem
from sales.services.common import LineQty
from sales.services.invoicing import invoice_create
from tests.accounts.factories import UserFactory
from tests.browser.conftest import login
from tests.browser.test_order_lifecycle import LIFECYCLE_PERMS, place, store, world
from tests.catalog.factories import ProductFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CENT = Decimal("0.01")
RATE = Decimal("0.0825")  # store()'s standard tax rate


def editor(email: str = "eve@example.com"):
    user = UserFactory(email=email, name="Eve Editor", is_staff=True, is_superuser=False)
    for perm in (*LIFECYCLE_PERMS, "sales.edit_order", "sales.hold_order", "catalog.view_product"):
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return user


def assert_no_horizontal_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1366, f"the page scrolls sideways: {width} px wide"


def assert_buttons_clear_of_the_title(page) -> None:
    """The order page's buttons sit under its title, not over the status badge."""
    title = page.locator("h1").bounding_box()
    tools = page.locator("#order-actions").bounding_box()
    assert tools["y"] >= title["y"] + title["height"] - 1, (title, tools)


def line_total(price: str, qty: int) -> Decimal:
    subtotal = Decimal(price) * qty
    return subtotal + (subtotal * RATE).quantize(CENT, rounding=ROUND_HALF_UP)


def test_edit_items_with_preview_then_save(laptop_page, screenshot):
    page = laptop_page
    data = store()
    frother = ProductFactory(sku="FROTH-1", name="Milk frother", price=Decimal("25.00"), stock=4,
                             tax_category=data["beans"].tax_category)
    order = place(data, (data["beans"], 3), (data["mugs"], 2))
    beans, mugs = OrderItem.objects.filter(order=order).order_by("id")
    invoice_create(order_id=order.id, items=[LineQty(beans.id, 1)], actor=None)  # processing: 1 bag billed
    order = Order.objects.get(id=order.id)
    editor()
    login(page, "eve@example.com")

    page.goto(f"/admin/sales/order/{order.id}/change/")
    page.click("#edit-items-button")
    page.wait_for_url(f"**/admin/sales/order/{order.id}/edit-items/")
    expect(page.locator("h1")).to_contain_text(f"Edit items — order #{order.number}")
    expect(page.locator("#edit-rule")).to_contain_text("a higher quantity adds a new line")
    bean_row = page.locator("tr.edit-line[data-sku='BEAN-1KG']")
    mug_row = page.locator("tr.edit-line[data-sku='MUG-CER']")
    expect(bean_row.locator("td.qty-min")).to_have_text("1")  # one bag is invoiced: it stays
    expect(mug_row.locator("td.qty-min")).to_have_text("0")
    assert_no_horizontal_scroll(page)

    # Below the minimum: refused with the minimum named, nothing written.
    before = world(order)
    bean_row.locator("input.qty-input").fill("0")
    page.click("#edit-preview-button")
    expect(page.locator(".messagelist .error")).to_contain_text("can go down to 1, not 0")
    expect(page.locator("#edit-preview")).to_have_count(0)
    expect(page.locator("#edit-save")).to_have_count(0)
    assert world(order) == before

    # Two more bags (a new line at today's price), one mug fewer (canceled), and a frother picked as you type.
    bean_row.locator("input.qty-input").fill("5")
    mug_row.locator("input.qty-input").fill("1")
    page.click("#edit-add tr[data-row='0'] .select2-selection")
    expect(page.locator(".select2-results__option", has_text="Ceramic mug")).to_be_visible()  # every product
    page.fill(".select2-search__field", "frother")
    # the search's own answer (one product), not the first list: no request is left running when Preview's
    # dry run takes its locks (SQLite's in-memory test database would refuse that late read)
    expect(page.locator(".select2-results__option")).to_have_count(1)
    option = page.locator(".select2-results__option", has_text="Milk frother")
    expect(option).to_be_visible()
    option.click()
    page.fill("#edit-add tr[data-row='0'] input.add-qty", "1")
    page.click("#edit-preview-button")

    expected = order.grand_total + line_total("18.50", 2) + line_total("25.00", 1)
    preview = page.locator("#edit-preview")
    expect(preview).to_be_visible()
    expect(page.locator("#preview-grand_total td.before")).to_have_text(f"{order.grand_total} USD")
    expect(page.locator("#preview-grand_total td.after")).to_have_text(f"{expected} USD")
    canceled = Decimal("9.75")  # one mug of two: 9.00 and its share of the line's 1.49 tax (§1's remainder rule)
    expect(page.locator("#preview-total_canceled td.after")).to_have_text(f"{canceled} USD")
    expect(page.locator("#preview-total_due td.after")).to_have_text(
        f"{expected - order.total_invoiced - canceled} USD")
    expect(page.locator("#edit-preview-added tr[data-sku='BEAN-1KG'] td").nth(2)).to_have_text("2")
    expect(page.locator("#edit-preview-added tr[data-sku='FROTH-1']")).to_be_visible()
    expect(page.locator("#edit-preview-canceled tr[data-sku='MUG-CER'] td").nth(2)).to_have_text("1")
    expect(page.locator("#edit-preview-stock tr[data-sku='FROTH-1'] td").nth(2)).to_have_text("+1")
    expect(page.locator("#edit-preview-stock tr[data-sku='MUG-CER'] td").nth(2)).to_have_text("-1")
    expect(bean_row.locator("input.qty-input")).to_have_value("5")  # the form as typed
    assert world(order) == before  # the preview wrote nothing
    assert_no_horizontal_scroll(page)
    screenshot(page, "action-edit-items-preview", full_page=True)

    page.click("#edit-save")
    page.wait_for_url(f"**/admin/sales/order/{order.id}/change/")
    expect(page.locator(".messagelist .success")).to_contain_text(f"Order #{order.number} edited")
    expect(page.locator("#order-grand-total")).to_have_text(f"{expected} USD")
    expect(page.locator("#order-history")).to_contain_text(
        f"Items edited by Eve Editor: 2 lines added, 1 item canceled, grand total {order.grand_total} USD → "
        f"{expected} USD")
    assert Order.objects.get(id=order.id).grand_total == expected
    assert OrderItem.objects.filter(order=order).count() == 4
    frother.refresh_from_db()
    assert frother.qty_reserved == 1


def test_edit_addresses_and_note(laptop_page, screenshot):
    page = laptop_page
    data = store()
    order = place(data, (data["beans"], 1))
    editor()
    login(page, "eve@example.com")

    page.goto(f"/admin/sales/order/{order.id}/change/")
    expect(page.locator("#order-staff-note")).to_have_count(0)
    page.click("#edit-details-button")
    page.wait_for_url(f"**/admin/sales/order/{order.id}/edit-details/")
    expect(page.locator("h1")).to_contain_text(f"Edit addresses and note — order #{order.number}")
    assert_no_horizontal_scroll(page)
    page.fill("input[name='billing-city']", "Portland")
    page.fill("input[name='shipping-line_1']", "1 Dock Road")
    page.select_option("select[name='shipping-country']", "CA")
    page.fill("textarea[name='staff_note']", "Ring the bell twice.\nLeave with the neighbour if out.")
    screenshot(page, "action-edit-details", full_page=True)
    page.click("#edit-details-save")
    page.wait_for_url(f"**/admin/sales/order/{order.id}/change/")
    expect(page.locator(".messagelist .success")).to_contain_text(
        "billing address, shipping address and staff note saved")
    expect(page.locator("#order-billing")).to_contain_text("Portland")
    expect(page.locator("#order-shipping-address")).to_contain_text("1 Dock Road")
    expect(page.locator("#order-shipping-address")).to_contain_text("CA")
    expect(page.locator("#order-staff-note")).to_contain_text("Ring the bell twice.")
    expect(page.locator("#order-history")).to_contain_text(
        "Billing address, shipping address, staff note changed by Eve Editor")
    assert_no_horizontal_scroll(page)
    saved = Order.objects.get(id=order.id)
    assert saved.staff_note == "Ring the bell twice.\nLeave with the neighbour if out."
    assert saved.shipping_address["country"] == "CA" and saved.billing_address["city"] == "Portland"
    assert OrderEvent.objects.filter(order=order, type="details_changed").count() == 1


def test_hold_then_release_from_the_order_page(laptop_page):
    page = laptop_page
    data = store()
    order = place(data, (data["mugs"], 1))
    editor()
    login(page, "eve@example.com")

    page.goto(f"/admin/sales/order/{order.id}/change/")
    actions = page.locator("#order-actions")
    expect(actions.locator("#release-hold-button")).to_have_count(0)
    page.click("#hold-button")
    page.fill("input[name=reason]", "Waiting for the address check")
    page.click("#hold-submit")
    page.wait_for_url(f"**/admin/sales/order/{order.id}/change/")
    expect(page.locator("#order-held-badge")).to_be_visible()
    expect(page.locator("#order-hold")).to_contain_text("Waiting for the address check")
    for refused in ("#invoice-button", "#ship-button", "#edit-items-button", "#hold-button"):
        expect(actions.locator(refused)).to_have_count(0)
    expect(actions.locator("#edit-details-button")).to_be_visible()  # addresses stay editable on hold
    expect(page.locator("#order-history")).to_contain_text(
        "Put on hold by Eve Editor: reason: Waiting for the address check")
    assert_no_horizontal_scroll(page)
    assert_buttons_clear_of_the_title(page)

    page.click("#release-hold-button")
    page.click("#confirm-release-hold")
    page.wait_for_url(f"**/admin/sales/order/{order.id}/change/")
    expect(page.locator(".messagelist .success")).to_contain_text("Hold released")
    expect(page.locator("#order-held-badge")).to_have_count(0)
    for back in ("#invoice-button", "#ship-button", "#edit-items-button", "#hold-button"):
        expect(actions.locator(back)).to_be_visible()
    assert Order.objects.get(id=order.id).held_at is None
    assert_buttons_clear_of_the_title(page)  # eleven buttons now, on their own row
    assert re.search(r"Hold released by Eve Editor", page.locator("#order-history").inner_text())
