"""Create Order wizard through Django's test client: every step is the draft cart of SPEC §4."""

from decimal import Decimal

import pytest
from django.contrib import messages
from django.urls import reverse

from carts.models import Cart
from catalog.models import InventorySource
from customers.models import Customer
from sales.models import Order
from tests.carts.factories import CouponFactory
from tests.catalog.factories import ProductFactory
from tests.customers.factories import CustomerAddressFactory, CustomerFactory, address

pytestmark = pytest.mark.django_db

START = "/admin/sales/order/create/"


def step(cart_id: int, name: str) -> str:
    return reverse("admin:sales_order_create_step", args=[cart_id, name])


def messages_of(response, level=messages.ERROR) -> list[str]:
    """The messages of one level shown on the page (successes of earlier redirects are queued too)."""
    return [str(m) for m in response.context["messages"] if m.level == level] if response.context else []


def address_post(prefix: str, **overrides) -> dict:
    return {f"{prefix}-{k}": v for k, v in address(**overrides).items()}


@pytest.fixture
def customer():
    c = CustomerFactory(email="jane@example.com", first_name="Jane", last_name="Doe")
    CustomerAddressFactory(customer=c, line_1="9 Book Rd", city="Booktown", postcode="11111", country="US",
                           is_default_billing=True)
    return c


@pytest.fixture
def cart(admin_client, customer):
    r = admin_client.post(START, {"customer_id": customer.id, "currency": "USD"})
    assert r.status_code == 302
    return Cart.objects.get(customer=customer, is_active=True)


def test_create_order_button_on_the_change_list(admin_client):
    r = admin_client.get("/admin/sales/order/")
    assert f'href="{START}"' in r.content.decode()


def test_customer_search_and_start(admin_client, customer):
    CustomerFactory(email="other@example.com", first_name="Olga")
    r = admin_client.get(START, {"q": "jane"})
    assert r.status_code == 200
    assert [c.email for c in r.context["results"]] == ["jane@example.com"]
    r = admin_client.get(START, {"q": "Doe"})
    assert "jane@example.com" in r.content.decode()
    r = admin_client.post(START, {"customer_id": customer.id, "currency": "EUR"})
    cart = Cart.objects.get(customer=customer)
    assert r["Location"] == step(cart.id, "products")
    assert cart.currency == "EUR" and cart.is_active and cart.created_by is not None


def test_customer_preselected_from_the_customer_list(admin_client, customer):
    r = admin_client.get(START, {"customer": customer.id})
    assert [c.id for c in r.context["results"]] == [customer.id]


def test_create_a_customer_inline(admin_client):
    r = admin_client.post(START, {"action": "new", "new-email": "New@Example.com", "new-first_name": "Nia",
                                  "new-last_name": "New", "new-phone": "", "currency": "USD"})
    assert r.status_code == 302
    customer = Customer.objects.get(email="new@example.com")
    assert Cart.objects.filter(customer=customer, is_active=True).exists()


def test_creating_a_customer_twice_shows_the_service_message(admin_client, customer):
    r = admin_client.post(START, {"action": "new", "new-email": "JANE@example.com", "currency": "USD"})
    assert r.status_code == 200
    assert any("already exists" in m for m in messages_of(r))
    assert r.context["new_form"]["email"].value() == "JANE@example.com"  # the form is kept
    assert not Cart.objects.exists()


def test_products_search_shows_saleable_stock(admin_client, cart):
    ProductFactory(sku="MUG-RED", name="Red mug", stock=7)
    ProductFactory(sku="EBOOK", name="Mug care e-book", type="virtual")
    r = admin_client.get(step(cart.id, "products"), {"q": "mug"})
    rows = {row["product"].sku: row["saleable"] for row in r.context["results"]}
    assert rows == {"MUG-RED": 7, "EBOOK": None}
    body = r.content.decode()
    assert "Red mug" in body and "∞" in body


def test_add_update_remove_lines(admin_client, cart):
    mug = ProductFactory(sku="MUG", price=Decimal("10.00"), stock=10)
    tea = ProductFactory(sku="TEA", price=Decimal("3.00"), stock=10)
    r = admin_client.post(step(cart.id, "products"), {"action": "add", "product_id": mug.id, "quantity": "2",
                                                      "q": "mug"})
    assert r.status_code == 302 and r["Location"] == step(cart.id, "products") + "?q=mug"
    admin_client.post(step(cart.id, "products"), {"action": "add", "sku": "TEA", "quantity": "1"})
    cart.refresh_from_db()
    assert cart.subtotal == Decimal("23.00")
    item = cart.items.get(product=mug)
    admin_client.post(step(cart.id, "products"), {"action": "update", "item_id": item.id, "quantity": "3"})
    item.refresh_from_db()
    assert item.quantity == 3
    tea_item = cart.items.get(product=tea)
    admin_client.post(step(cart.id, "products"), {"action": "remove", "item_id": tea_item.id})
    cart.refresh_from_db()
    assert list(cart.items.values_list("product__sku", "quantity")) == [("MUG", 3)]
    assert cart.subtotal == Decimal("30.00")


def test_out_of_stock_is_refused_with_the_message_and_the_cart_unchanged(admin_client, cart):
    mug = ProductFactory(sku="MUG", name="Mug", price=Decimal("10.00"), stock=3)
    admin_client.post(step(cart.id, "products"), {"action": "add", "product_id": mug.id, "quantity": "2"})
    cart.refresh_from_db()
    before = (list(cart.items.values_list("product_id", "quantity")), cart.subtotal, cart.grand_total)
    r = admin_client.post(step(cart.id, "products"), {"action": "add", "product_id": mug.id, "quantity": "5",
                                                      "q": "MUG"})
    assert r.status_code == 200
    assert messages_of(r) == ["Mug (MUG) is out of stock: 3 saleable, 7 wanted."]
    body = r.content.decode()
    assert "out of stock" in body
    row = next(row for row in r.context["results"] if row["product"].id == mug.id)
    assert row["quantity"] == "5"  # the form keeps what was typed
    cart.refresh_from_db()
    assert (list(cart.items.values_list("product_id", "quantity")), cart.subtotal, cart.grand_total) == before


def test_other_refusals_on_products(admin_client, cart):
    parent = ProductFactory(sku="TEE", name="T-shirt", type="configurable")
    ProductFactory(sku="OFF", status="disabled", stock=3)
    r = admin_client.post(step(cart.id, "products"), {"action": "add", "product_id": parent.id, "quantity": "1"})
    assert "configurable product" in messages_of(r)[0]
    r = admin_client.post(step(cart.id, "products"), {"action": "add", "sku": "OFF", "quantity": "1"})
    assert "disabled" in messages_of(r)[0]
    r = admin_client.post(step(cart.id, "products"), {"action": "add", "sku": "NOPE", "quantity": "1"})
    assert "No product with SKU 'NOPE'" in messages_of(r)[0]
    assert r.context["posted_sku"] == "NOPE"
    r = admin_client.post(step(cart.id, "products"), {"action": "add", "sku": "OFF", "quantity": "0"})
    assert "Quantity" in messages_of(r)[0]
    assert not cart.items.exists()


def test_addresses_same_as_billing_then_back_keeps_them(admin_client, cart):
    ProductFactory(sku="MUG", stock=5)
    admin_client.post(step(cart.id, "products"), {"action": "add", "sku": "MUG", "quantity": "1"})
    r = admin_client.get(step(cart.id, "addresses"))
    assert r.context["billing_form"]["line_1"].value() == "9 Book Rd"  # default from the address book
    data = {"shipping_mode": "same", **address_post("billing", line_1="5 Elm St")}
    r = admin_client.post(step(cart.id, "addresses"), data)
    assert r["Location"] == step(cart.id, "shipping")
    cart.refresh_from_db()
    assert cart.billing_address["line_1"] == "5 Elm St" and cart.shipping_address == cart.billing_address
    r = admin_client.get(step(cart.id, "addresses"))
    assert r.context["billing_form"]["line_1"].value() == "5 Elm St"
    assert r.context["mode_form"]["shipping_mode"].value() == "same"


def test_addresses_from_book_and_a_different_shipping_address(admin_client, cart, customer):
    ProductFactory(sku="MUG", stock=5)
    admin_client.post(step(cart.id, "products"), {"action": "add", "sku": "MUG", "quantity": "1"})
    book = customer.addresses.get()
    data = {"shipping_mode": "other", "billing-book": str(book.id), **address_post("shipping", city="Shipville")}
    r = admin_client.post(step(cart.id, "addresses"), data)
    assert r.status_code == 302
    cart.refresh_from_db()
    assert cart.billing_address["line_1"] == "9 Book Rd"
    assert cart.shipping_address["city"] == "Shipville"
    r = admin_client.get(step(cart.id, "addresses"))
    assert r.context["mode_form"]["shipping_mode"].value() == "other"


def test_invalid_address_keeps_the_form_and_writes_nothing(admin_client, cart):
    ProductFactory(sku="MUG", stock=5)
    admin_client.post(step(cart.id, "products"), {"action": "add", "sku": "MUG", "quantity": "1"})
    data = {"shipping_mode": "same", **address_post("billing", city="", country="U1")}
    r = admin_client.post(step(cart.id, "addresses"), data)
    assert r.status_code == 200
    assert r.context["billing_form"].errors.keys() == {"city", "country"}
    assert r.context["billing_form"]["line_1"].value() == "1 Main St"
    cart.refresh_from_db()
    assert cart.billing_address is None


def test_virtual_only_cart_takes_billing_only_and_skips_shipping(admin_client, cart):
    ProductFactory(sku="EBOOK", type="virtual")
    admin_client.post(step(cart.id, "products"), {"action": "add", "sku": "EBOOK", "quantity": "1"})
    r = admin_client.get(step(cart.id, "addresses"))
    assert "Nothing in this cart ships" in r.content.decode()
    r = admin_client.post(step(cart.id, "addresses"), address_post("billing"))
    assert r["Location"] == step(cart.id, "payment")
    cart.refresh_from_db()
    assert cart.billing_address and cart.shipping_address is None


def test_shipping_lists_the_rates_and_sets_one(admin_client, cart):
    ProductFactory(sku="MUG", stock=5, price=Decimal("20.00"))
    admin_client.post(step(cart.id, "products"), {"action": "add", "sku": "MUG", "quantity": "2"})
    admin_client.post(step(cart.id, "addresses"), {"shipping_mode": "same", **address_post("billing")})
    r = admin_client.get(step(cart.id, "shipping"))
    assert [(o.code, str(o.amount)) for o in r.context["options"]] == [("flatrate", "5.00"), ("free", "0.00")]
    assert "Flat rate — 5.00 USD" in r.content.decode()
    r = admin_client.post(step(cart.id, "shipping"), {"code": "flatrate"})
    assert r["Location"] == step(cart.id, "payment")
    cart.refresh_from_db()
    assert cart.shipping_total == Decimal("5.00") and cart.grand_total == Decimal("45.00")


def test_shipping_refusal_shows_the_message(admin_client, cart):
    ProductFactory(sku="MUG", stock=5)
    admin_client.post(step(cart.id, "products"), {"action": "add", "sku": "MUG", "quantity": "1"})
    r = admin_client.post(step(cart.id, "shipping"), {"code": "flatrate"})
    assert r.status_code == 200
    assert messages_of(r) == ["Shipping method not available: Flat rate needs a shipping address first."]
    cart.refresh_from_db()
    assert cart.shipping_method_id is None


def test_pickup_with_a_location(admin_client, cart):
    store = InventorySource.objects.create(code="store", name="City store", pickup_enabled=True,
                                           address={"line_1": "1 Shop St", "city": "Leeds", "postcode": "LS1",
                                                    "country": "GB"})
    ProductFactory(sku="MUG", stock=5)
    admin_client.post(step(cart.id, "products"), {"action": "add", "sku": "MUG", "quantity": "1"})
    r = admin_client.post(step(cart.id, "addresses"), {"shipping_mode": "none", **address_post("billing")})
    cart.refresh_from_db()
    assert cart.shipping_address is None
    r = admin_client.get(step(cart.id, "shipping"))
    assert [o.code for o in r.context["options"]] == ["pickup"]
    assert "City store — Leeds, GB" in r.content.decode()
    r = admin_client.post(step(cart.id, "shipping"), {"code": "pickup", "location_pickup": str(store.id)})
    assert r.status_code == 302
    cart.refresh_from_db()
    assert cart.shipping_method.code == "pickup" and cart.pickup_location_id == store.id


def test_payment_and_coupon_steps(admin_client, cart):
    ProductFactory(sku="MUG", stock=5, price=Decimal("50.00"))
    CouponFactory(code="TEN", value=Decimal("10"))
    CouponFactory(code="BIG", value=Decimal("10"), min_subtotal=Decimal("500"))
    admin_client.post(step(cart.id, "products"), {"action": "add", "sku": "MUG", "quantity": "1"})
    r = admin_client.get(step(cart.id, "payment"))
    assert "cashondelivery" in [m.code for m in r.context["options"]]
    r = admin_client.post(step(cart.id, "payment"), {"code": "nope"})
    assert messages_of(r) == ["Payment method 'nope' does not exist."]
    r = admin_client.post(step(cart.id, "payment"), {"code": "moneytransfer"})
    assert r["Location"] == step(cart.id, "coupon")
    r = admin_client.post(step(cart.id, "coupon"), {"action": "apply", "code": "big"})
    assert r.status_code == 200 and "needs a subtotal of at least 500.00" in messages_of(r)[0]
    assert r.context["form"]["code"].value() == "big"
    r = admin_client.post(step(cart.id, "coupon"), {"action": "apply", "code": "ten"})
    assert r.status_code == 302
    cart.refresh_from_db()
    assert cart.coupon.code == "TEN" and cart.discount_total == Decimal("5.00")
    admin_client.post(step(cart.id, "coupon"), {"action": "remove"})
    cart.refresh_from_db()
    assert cart.coupon_id is None and cart.discount_total == Decimal("0.00")


def test_place_refused_then_placed_lands_on_the_order_page(admin_client, cart):
    ProductFactory(sku="MUG", stock=5, price=Decimal("20.00"))
    admin_client.post(step(cart.id, "products"), {"action": "add", "sku": "MUG", "quantity": "2"})
    r = admin_client.post(step(cart.id, "review"))
    assert r.status_code == 200 and messages_of(r) == ["A billing address is required."]
    assert not Order.objects.exists()
    admin_client.post(step(cart.id, "addresses"), {"shipping_mode": "same", **address_post("billing")})
    admin_client.post(step(cart.id, "shipping"), {"code": "flatrate"})
    admin_client.post(step(cart.id, "payment"), {"code": "cashondelivery"})
    r = admin_client.get(step(cart.id, "review"))
    assert "45.00 USD" in r.content.decode()
    r = admin_client.post(step(cart.id, "review"))
    order = Order.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("admin:sales_order_change", args=[order.id])
    assert order.grand_total == Decimal("45.00") and order.cart_id == cart.id and order.channel == "admin"
    r = admin_client.get(r["Location"])
    assert f"Order #{order.number} placed." in messages_of(r, messages.SUCCESS)
    # The placed cart can no longer be changed through the wizard: its steps lead to the order.
    r = admin_client.get(step(cart.id, "products"))
    assert r.status_code == 302 and r["Location"] == reverse("admin:sales_order_change", args=[order.id])


def test_out_of_stock_at_place_keeps_the_cart(admin_client, cart):
    mug = ProductFactory(sku="MUG", stock=2)
    admin_client.post(step(cart.id, "products"), {"action": "add", "sku": "MUG", "quantity": "2"})
    admin_client.post(step(cart.id, "addresses"), {"shipping_mode": "same", **address_post("billing")})
    admin_client.post(step(cart.id, "shipping"), {"code": "flatrate"})
    admin_client.post(step(cart.id, "payment"), {"code": "cashondelivery"})
    mug.inventories.update(qty=1)
    r = admin_client.post(step(cart.id, "review"))
    assert r.status_code == 200 and "1 saleable, 2 wanted" in messages_of(r)[0]
    cart.refresh_from_db()
    assert cart.is_active and not Order.objects.exists()


def test_the_api_sees_the_wizard_cart(admin_client, api, cart):
    ProductFactory(sku="MUG", stock=5)
    admin_client.post(step(cart.id, "products"), {"action": "add", "sku": "MUG", "quantity": "1"})
    r = api.get(f"/api/admin/carts/{cart.id}")
    assert r.status_code == 200 and [i["sku"] for i in r.json()["items"]] == ["MUG"]


def test_unknown_cart_or_step_is_404(admin_client, cart):
    assert admin_client.get(step(999999, "products")).status_code == 404
    assert admin_client.get(f"{START}{cart.id}/nope/").status_code == 404


def test_wizard_needs_cart_permission(client):
    from tests.accounts.factories import UserFactory

    user = UserFactory(is_staff=True)
    client.force_login(user)
    assert client.get(START).status_code == 403


def test_every_step_renders_with_constant_queries(admin_client, cart, django_assert_max_num_queries):
    for n in range(5):
        ProductFactory(sku=f"P{n}", stock=5)
        admin_client.post(step(cart.id, "products"), {"action": "add", "sku": f"P{n}", "quantity": "1"})
    for name in ("customer", "products", "addresses", "shipping", "payment", "coupon", "review"):
        with django_assert_max_num_queries(12):
            r = admin_client.get(step(cart.id, name), {"q": "P"} if name == "products" else {})
        assert r.status_code == 200, name
