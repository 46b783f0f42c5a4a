"""Every admin page loads for a superuser; catalog, customers, users and methods are manageable."""

from decimal import Decimal

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse

from accounts.models import User
from catalog.models import InventorySource, Product, ProductInventory
from tests.admin.conftest import make_orders
from tests.carts.factories import CouponFactory
from tests.catalog.factories import ProductFactory, TaxRateFactory, default_source
from tests.customers.factories import CustomerAddressFactory

pytestmark = pytest.mark.django_db


def registered_models():
    return sorted(admin.site._registry, key=lambda m: m._meta.label)


@pytest.mark.parametrize("model", registered_models(), ids=lambda m: m._meta.label)
def test_every_changelist_loads(admin_client, model):
    make_orders(3)
    ProductFactory(stock=3)
    CustomerAddressFactory()
    CouponFactory()
    TaxRateFactory()
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    r = admin_client.get(url)
    assert r.status_code == 200, url


@pytest.mark.parametrize("label", ["accounts.User", "catalog.Product", "catalog.InventorySource",
                                   "catalog.TaxCategory", "catalog.Currency", "customers.Customer", "carts.Coupon"])
def test_add_pages_load(admin_client, label):
    app_label, model_name = label.lower().split(".")
    r = admin_client.get(reverse(f"admin:{app_label}_{model_name}_add"))
    assert r.status_code == 200


def test_admin_index_lists_the_apps(admin_client):
    r = admin_client.get("/admin/")
    assert r.status_code == 200
    for text in ("Orders", "Products", "Inventory sources", "Customers", "Coupons", "Shipping methods",
                 "Payment methods", "Tax categories", "Currencies", "Users"):
        assert text in r.content.decode()


def test_user_add_form_asks_email_and_password(admin_client):
    r = admin_client.get(reverse("admin:accounts_user_add"))
    body = r.content.decode()
    assert 'name="email"' in body and 'name="password1"' in body and 'name="username"' not in body
    r = admin_client.post(reverse("admin:accounts_user_add"), {
        "email": "New.Staff@Example.com", "name": "New Staff", "usable_password": "true",
        "password1": "a-long-enough-password", "password2": "a-long-enough-password"})
    assert r.status_code == 302, r.context["adminform"].form.errors if r.context else r
    user = User.objects.get(email="new.staff@example.com")
    assert user.check_password("a-long-enough-password")


def test_user_change_page_and_list(admin_client, admin_user):
    r = admin_client.get(reverse("admin:accounts_user_change", args=[admin_user.pk]))
    assert r.status_code == 200
    r = admin_client.get(reverse("admin:accounts_user_changelist"), {"q": "admin@"})
    assert admin_user.email in r.content.decode()


def test_createsuperuser_still_works(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "super-secret-password")
    call_command("createsuperuser", interactive=False, email="Boss@Example.com", verbosity=0)
    user = User.objects.get(email="boss@example.com")
    assert user.is_superuser and user.is_staff and user.check_password("super-secret-password")


def test_product_list_shows_saleable_quantity(admin_client, django_assert_max_num_queries):
    product = ProductFactory(sku="MUG-1", name="Mug", stock=7)
    product.qty_reserved = 2
    product.save(update_fields=["qty_reserved"])
    ProductFactory(sku="EBOOK-1", name="E-book", type="virtual")
    for n in range(30):
        ProductFactory(stock=n)
    with django_assert_max_num_queries(6):
        r = admin_client.get(reverse("admin:catalog_product_changelist"), {"q": "MUG-1"})
    assert r.status_code == 200
    rows = r.context["cl"].result_list
    assert [p.saleable for p in rows] == [5]
    r = admin_client.get(reverse("admin:catalog_product_changelist"), {"type__exact": "virtual"})
    assert "E-book" in r.content.decode() and "∞" in r.content.decode()


def test_product_list_query_count_does_not_grow(admin_client, django_assert_num_queries):
    ProductFactory(stock=1)
    url = reverse("admin:catalog_product_changelist")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        admin_client.get(url)
    for n in range(60):
        ProductFactory(stock=n)
    with django_assert_num_queries(len(one)):
        admin_client.get(url)


def test_product_with_stock_per_source_is_saved(admin_client):
    second = InventorySource.objects.create(code="shop", name="Shop", priority=5)
    r = admin_client.post(reverse("admin:catalog_product_add"), {
        "sku": "TEA-1", "name": "Tea", "type": "simple", "status": "enabled", "price": "4.50", "weight": "0.2",
        "tax_category": "", "parent": "",
        "inventories-TOTAL_FORMS": "2", "inventories-INITIAL_FORMS": "0",
        "inventories-MIN_NUM_FORMS": "0", "inventories-MAX_NUM_FORMS": "1000",
        "inventories-0-source": default_source().id, "inventories-0-qty": "3",
        "inventories-1-source": second.id, "inventories-1-qty": "4",
    })
    assert r.status_code == 302, r.context["adminform"].form.errors if r.context else r
    product = Product.objects.get(sku="TEA-1")
    assert product.price == Decimal("4.50")
    assert dict(ProductInventory.objects.filter(product=product).values_list("source__code", "qty")) == {
        "default": 3, "shop": 4}


def test_pickup_source_needs_an_address(admin_client):
    data = {"code": "store", "name": "Store", "priority": "1", "active": "on", "pickup_enabled": "on"}
    r = admin_client.post(reverse("admin:catalog_inventorysource_add"), data)
    assert r.status_code == 200
    assert "Required for an address" in r.content.decode()
    data.update(address_line_1="5 High St", address_city="Leeds", address_postcode="LS1", address_country="gb")
    r = admin_client.post(reverse("admin:catalog_inventorysource_add"), data)
    assert r.status_code == 302
    source = InventorySource.objects.get(code="store")
    assert source.address["city"] == "Leeds" and source.address["country"] == "GB"


def test_customer_search_and_address_inline(admin_client):
    address = CustomerAddressFactory(customer__email="zoe@example.com", customer__first_name="Zoe")
    r = admin_client.get(reverse("admin:customers_customer_changelist"), {"q": "zoe"})
    assert "zoe@example.com" in r.content.decode()
    r = admin_client.get(reverse("admin:customers_customer_change", args=[address.customer_id]))
    assert r.status_code == 200 and "1 Main St" in r.content.decode()


def test_methods_are_editable_but_not_addable(admin_client):
    from carts.models import PaymentMethod

    method = PaymentMethod.objects.get(code="moneytransfer")
    r = admin_client.get(reverse("admin:carts_paymentmethod_change", args=[method.pk]))
    assert r.status_code == 200
    r = admin_client.post(reverse("admin:carts_paymentmethod_change", args=[method.pk]),
                          {"title": "Bank transfer", "enabled": "", "sort_order": "3"})
    assert r.status_code == 302
    method.refresh_from_db()
    assert method.title == "Bank transfer" and not method.enabled and method.code == "moneytransfer"
    assert admin_client.get(reverse("admin:carts_paymentmethod_add")).status_code == 403


def test_coupon_codes_are_case_insensitive_unique(admin_client):
    CouponFactory(code="WELCOME")
    r = admin_client.post(reverse("admin:carts_coupon_add"), {
        "code": "welcome", "is_active": "on", "discount_type": "percent", "value": "5", "min_subtotal": "",
        "starts_at_0": "", "starts_at_1": "", "ends_at_0": "", "ends_at_1": "", "usage_limit": "",
        "usage_limit_per_customer": ""})
    assert r.status_code == 200
    assert "already exists" in r.content.decode() or "Constraint" in r.content.decode()


def test_cart_list_links_drafts_to_the_wizard_and_placed_carts_to_their_order(admin_client,
                                                                              django_assert_max_num_queries):
    from sales.services.placing import order_place
    from tests.carts.helpers import ready_cart

    product = ProductFactory(stock=50)
    draft = ready_cart((product, 1))
    placed = ready_cart((product, 1))
    order = order_place(cart_id=placed.id, actor=None)
    for _ in range(5):
        ready_cart((product, 1))
    with django_assert_max_num_queries(6):
        r = admin_client.get(reverse("admin:carts_cart_changelist"))
    body = r.content.decode()
    assert reverse("admin:sales_order_create_step", args=[draft.id, "products"]) in body
    assert f"Order #{order.number}" in body
    assert admin_client.get(reverse("admin:carts_cart_change", args=[draft.id])).status_code == 200
