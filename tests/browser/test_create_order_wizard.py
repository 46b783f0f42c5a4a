"""A staff user places an order through the whole Create Order wizard in a real browser."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

from carts.models import Cart
from catalog.models import InventorySource
from sales.models import Order
from tests.accounts.factories import UserFactory
from tests.admin.conftest import make_orders
from tests.browser.conftest import login
from tests.carts.factories import CouponFactory
from tests.catalog.factories import ProductFactory, TaxRateFactory
from tests.customers.factories import CustomerAddressFactory, CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ORDER_DESK_PERMS = ["sales.view_order", "sales.place_order", "carts.view_cart", "carts.change_cart",
                    "customers.view_customer", "customers.add_customer", "catalog.view_product"]


def staff_user(email: str):
    user = UserFactory(email=email, name="Sam Staff", is_staff=True, is_superuser=False)
    for perm in ORDER_DESK_PERMS:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return user


def store_data():
    rate = TaxRateFactory(category__code="standard", category__name="Standard", country="US",
                          rate=Decimal("8.2500"))
    ProductFactory(sku="BEAN-1KG", name="Espresso beans 1 kg", price=Decimal("18.50"), stock=20,
                   tax_category=rate.category)
    ProductFactory(sku="MUG-CER", name="Ceramic mug", price=Decimal("9.00"), stock=3, tax_category=rate.category)
    ProductFactory(sku="EBOOK-BARISTA", name="Barista basics e-book", price=Decimal("12.00"), type="virtual")
    InventorySource.objects.create(code="downtown", name="Downtown store", pickup_enabled=True, priority=5,
                                   address={"line_1": "12 Market St", "city": "Springfield", "postcode": "62701",
                                            "country": "US"})
    customer = CustomerFactory(email="maria.rossi@example.com", first_name="Maria", last_name="Rossi",
                               phone="+1 555 0142")
    CustomerAddressFactory(customer=customer, first_name="Maria", last_name="Rossi", line_1="48 Elm Street",
                           city="Springfield", zone="IL", postcode="62704", country="US", is_default_billing=True,
                           is_default_shipping=True)
    CouponFactory(code="WELCOME10", value=Decimal("10"))
    # A few orders in other states, so the list shows its colours.
    make_orders(1, number="100000101", status=4, customer_name="Ken Adams", customer_email="ken@example.com",
                grand_total=Decimal("64.90"), invoice_state="full", shipment_state="full")
    make_orders(1, number="100000102", status=3, customer_name="Lena Park", customer_email="lena@example.com",
                grand_total=Decimal("23.00"), invoice_state="partial", shipment_state="none")
    make_orders(1, number="100000103", status=2, customer_name="Omar Haddad", customer_email="omar@example.com",
                grand_total=Decimal("120.00"), payment_method_code="paylink", payment_method_title="Pay by link",
                invoice_state="none", shipment_state="none")
    make_orders(1, number="100000104", status=5, customer_name="Ivy Chen", customer_email="ivy@example.com",
                grand_total=Decimal("15.00"), invoice_state="none", shipment_state="none")
    return customer


def test_staff_places_an_order_through_the_wizard(page, screenshot):
    customer = store_data()
    staff_user("sam@example.com")
    login(page, "sam@example.com")

    page.goto("/admin/sales/order/")
    page.click("#create-order")

    # 1. Customer: search, pick, start the draft cart.
    page.fill("#customer-q", "rossi")
    page.click("#customer-search form[method=get] input[type=submit]")
    expect(page.locator("#customer-pick")).to_contain_text("maria.rossi@example.com")
    screenshot(page, "wizard-1-customer")
    page.click("#customer-start")
    expect(page.locator(".wizard-steps .current")).to_contain_text("Products")
    cart = Cart.objects.get(customer=customer, is_active=True)
    assert f"/admin/sales/order/create/{cart.id}/products/" in page.url

    # 2. Products: search, add; a refused add shows the service's message and changes nothing.
    page.fill("#product-q", "beans")
    page.click("#product-search form[method=get] input[type=submit]")
    row = page.locator("tr.product-row[data-sku='BEAN-1KG']")
    expect(row.locator(".saleable")).to_have_text("20")
    row.locator("input[name=quantity]").fill("2")
    row.locator(".product-add").click()
    expect(page.locator("tr.cart-line[data-sku='BEAN-1KG']")).to_be_visible()

    page.fill("#product-q", "mug")
    page.click("#product-search form[method=get] input[type=submit]")
    row = page.locator("tr.product-row[data-sku='MUG-CER']")
    expect(row.locator(".saleable")).to_have_text("3")
    row.locator("input[name=quantity]").fill("5")
    row.locator(".product-add").click()
    expect(page.locator(".messagelist .error")).to_have_text("Ceramic mug (MUG-CER) is out of stock: 3 saleable, 5 wanted.")
    expect(page.locator("tr.product-row[data-sku='MUG-CER'] input[name=quantity]")).to_have_value("5")
    assert list(cart.items.values_list("product__sku", "quantity")) == [("BEAN-1KG", 2)]
    screenshot(page, "wizard-2-products-refused")
    page.locator("tr.product-row[data-sku='MUG-CER'] input[name=quantity]").fill("1")
    page.locator("tr.product-row[data-sku='MUG-CER'] .product-add").click()
    expect(page.locator("tr.cart-line[data-sku='MUG-CER']")).to_be_visible()
    screenshot(page, "wizard-2-products")
    page.click("#wizard-next")

    # 3. Addresses: from the address book, shipping same as billing.
    expect(page.locator("h1")).to_contain_text("Addresses")
    book_entry = customer.addresses.get()
    page.select_option("select[name='billing-book']", value=str(book_entry.id))
    expect(page.locator("input[name='billing-line_1']")).to_have_value("48 Elm Street")
    page.check("input[name=shipping_mode][value=same]")
    expect(page.locator("#shipping-fields")).to_be_hidden()
    screenshot(page, "wizard-3-addresses")
    page.click("#wizard-next")

    # 4. Shipping: the rates of cart_shipping_options; going back keeps the addresses.
    expect(page.locator("#shipping-options")).to_contain_text("Flat rate — 5.00 USD")
    expect(page.locator("#shipping-options")).to_contain_text("Downtown store")
    page.click("#wizard-back")
    expect(page.locator("input[name='billing-line_1']")).to_have_value("48 Elm Street")
    expect(page.locator("input[name=shipping_mode][value=same]")).to_be_checked()
    page.goto(f"/admin/sales/order/create/{cart.id}/shipping/")
    page.check("input[name=code][value=flatrate]")
    screenshot(page, "wizard-4-shipping")
    page.click("#wizard-next")

    # 5. Payment.
    expect(page.locator("h1")).to_contain_text("Payment")
    page.check("input[name=code][value=cashondelivery]")
    screenshot(page, "wizard-5-payment")
    page.click("#wizard-next")

    # 6. Coupon.
    page.fill("input[name=code]", "welcome10")
    page.click("#coupon-apply")
    expect(page.locator("#applied-coupon")).to_have_text("WELCOME10")
    screenshot(page, "wizard-6-coupon")
    page.click("#wizard-next")

    # 7. Review, then place.
    cart.refresh_from_db()
    expect(page.locator("#review-grand-total")).to_have_text(f"{cart.grand_total} USD")
    screenshot(page, "wizard-7-review", full_page=True)
    page.click("#place-order")

    # The new order's page.
    page.wait_for_url(re.compile(r"/admin/sales/order/\d+/change/$"))
    order = Order.objects.get(cart_id=cart.id)
    expect(page.locator("h1")).to_contain_text(f"Order #{order.number}")
    expect(page.locator(".messagelist .success")).to_contain_text(f"Order #{order.number} placed.")
    expect(page.locator("#order-items")).to_contain_text("BEAN-1KG")
    expect(page.locator("#order-grand-total")).to_have_text(f"{order.grand_total} USD")
    screenshot(page, "order-page", full_page=True)

    # 46.00 − 4.60 (10 %) + 3.42 tax (8.25 % per line) + 5.00 flat rate
    assert order.grand_total == Decimal("49.82")
    assert order.status == 1 and order.customer_id == customer.id and order.coupon_code == "WELCOME10"
    assert order.shipping_method_code == "flatrate" and order.payment_method_code == "cashondelivery"
    assert order.shipping_address["line_1"] == "48 Elm Street"
    assert sorted(order.items.values_list("sku", "qty_ordered")) == [("BEAN-1KG", 2), ("MUG-CER", 1)]
    cart.refresh_from_db()
    assert not cart.is_active

    page.goto("/admin/sales/order/")
    expect(page.locator("#result_list")).to_contain_text(order.number)
    row = page.locator("#result_list tbody tr", has_text=order.number)
    expect(row.locator(".order-status")).to_have_text("Pending")
    expect(row).to_contain_text(f"{order.grand_total} USD")
    # below 1600 px the nav sidebar starts collapsed (sales/admin/layout.js): room for every column
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "order-list")
