"""Mass actions on selected orders in Sales → Orders (SPEC §14): invoice, ship from a chosen
source, cancel, archive — each order on its own, one order's refusal never undoing another's
work, ending on a result page that names per order what was done or why it was refused — and
print invoices / packing slips as one PDF. Query counts: a fixed overhead plus one service call
per order; the result page reads none of the orders again."""

import io
import re

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader

from catalog.models import ProductInventory
from config.errors import DomainError
from sales.admin import mass_actions
from sales.models import Invoice, Order, OrderEvent, OrderStatus, Shipment
from sales.services.invoicing import invoice_create
from sales.services.shipping import shipment_create
from tests.accounts.factories import UserFactory
from tests.catalog.factories import InventorySourceFactory
from tests.sales.lifecycle_support import canceled_order, default_source, invoice_all, order_with, product, reload

pytestmark = pytest.mark.django_db

LIST_URL = "/admin/sales/order/"


def post_action(client, action: str, orders, **extra):
    data = {"action": action, "index": "0", "select_across": "0",
            "_selected_action": [str(o.id) for o in orders], **extra}
    return client.post(LIST_URL, data)


def result_rows(response) -> dict[str, dict]:
    return {row["number"]: row for row in response.context["rows"]}


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def staff_client(*perms: str) -> Client:
    user = UserFactory(is_staff=True, is_superuser=False)
    for perm in ("sales.view_order", *perms):
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    client = Client()
    client.force_login(user)
    return client


def refusal(call) -> str:
    """The service's own message for a refused call (a refusal writes nothing)."""
    with pytest.raises(DomainError) as exc:
        call()
    return exc.value.message


# ---------------------------------------------------------------------------- the menu


def test_the_action_menu_offers_the_mass_actions(admin_client):
    order_with((product(), 1))
    r = admin_client.get(LIST_URL)
    choices = dict(r.context["action_form"].fields["action"].choices)
    for name in ("mass_invoice", "mass_ship", "mass_cancel", "mass_archive", "print_invoices", "print_packing_slips",
                 "export_csv"):
        assert name in choices, name
    assert choices["mass_ship"] == "Ship selected orders (everything left, from a chosen source)"


def test_each_mass_action_needs_its_permission():
    order_with((product(), 1))
    client = staff_client("sales.add_invoice")
    choices = dict(client.get(LIST_URL).context["action_form"].fields["action"].choices)
    assert "mass_invoice" in choices and "print_packing_slips" in choices and "export_csv" in choices
    for name in ("mass_ship", "mass_cancel", "mass_archive", "print_invoices"):
        assert name not in choices, name
    # Posting an action the user may not run is refused by Django's own action form: nothing runs.
    order = order_with((product(), 1))
    r = post_action(client, "mass_cancel", [order])
    assert r.status_code in (200, 302)
    assert reload(order).status == OrderStatus.PENDING


# ---------------------------------------------------------------------------- invoice


def test_mass_invoice_does_each_order_and_names_the_refusal(admin_client):
    first, second = order_with((product("10.00"), 2)), order_with((product("7.50"), 1))
    canceled = canceled_order()
    why = refusal(lambda: invoice_create(order_id=canceled.id, items=None, actor=None))

    r = post_action(admin_client, "mass_invoice", [first, canceled, second])
    assert r.status_code == 302 and "/admin/sales/order/mass/" in r.url
    page = admin_client.get(r.url)
    assert page.status_code == 200
    rows = result_rows(page)
    inv1, inv2 = Invoice.objects.get(order=first), Invoice.objects.get(order=second)
    assert rows[first.number]["state"] == "done"
    assert rows[first.number]["text"] == f"Invoice #{inv1.number} created: {inv1.grand_total} USD"
    assert rows[first.number]["url"] == reverse("admin:sales_invoice_change", args=[inv1.id])
    assert rows[second.number]["state"] == "done" and inv2.number in rows[second.number]["text"]
    assert rows[canceled.number] == {"order_id": canceled.id, "number": canceled.number, "state": "refused",
                                     "text": why, "url": None}
    body = page.content.decode()
    assert "3 orders: 2 invoiced, 1 refused." in body
    assert why in body and f"Invoice #{inv1.number}" in body
    # the refusal undid nothing: both invoices stand, both orders moved on, the canceled one is untouched
    assert reload(first).invoice_state == "full" and reload(second).invoice_state == "full"
    assert not Invoice.objects.filter(order=canceled).exists()
    # the actor is the staff user (the history says who)
    assert OrderEvent.objects.get(order=first, type="invoiced").actor.email == "admin@example.com"


def test_mass_invoice_query_count_is_overhead_plus_one_service_call_per_order(admin_client):
    """n orders cost the same overhead plus n × what one invoice_create costs, nothing per order besides."""
    p = product("10.00", stock=100)
    warm, probe = order_with((p, 1)), order_with((p, 1))
    invoice_create(order_id=warm.id, items=None, actor=None)  # the first invoice also starts its number sequence
    with CaptureQueriesContext(connection) as one_service:
        invoice_create(order_id=probe.id, items=None, actor=None)
    per_order = len(one_service)

    def run(n: int) -> int:
        orders = [order_with((p, 1)) for _ in range(n)]
        admin_client.get(LIST_URL)  # session and caches warm, as for a user on the list
        with CaptureQueriesContext(connection) as ctx:
            r = post_action(admin_client, "mass_invoice", orders)
        assert r.status_code == 302
        assert Invoice.objects.filter(order__in=orders).count() == n
        return len(ctx)

    one, four = run(1), run(4)
    assert four - one == 3 * per_order, (one, four, per_order)
    overhead = one - per_order
    assert overhead <= 10, overhead  # session, user, list filters and counts, the selection, the session write


def test_result_page_reads_no_order(admin_client, django_assert_max_num_queries):
    orders = [order_with((product(), 1)) for _ in range(5)]
    r = post_action(admin_client, "mass_invoice", orders)
    with django_assert_max_num_queries(2):  # session, user
        page = admin_client.get(r.url)
    assert len(page.context["rows"]) == 5


def test_unknown_or_expired_result_goes_back_to_the_list(admin_client):
    r = admin_client.get(reverse("admin:sales_order_mass_result", args=["nope"]))
    assert r.status_code == 302 and r.url == reverse("admin:sales_order_changelist")


def test_select_across_takes_the_filtered_list(admin_client):
    pending = [order_with((product(), 1)) for _ in range(2)]
    canceled = canceled_order()
    r = admin_client.post(f"{LIST_URL}?status={OrderStatus.PENDING}", {
        "action": "mass_invoice", "index": "0", "select_across": "1", "_selected_action": [str(pending[0].id)]})
    rows = result_rows(admin_client.get(r.url))
    assert set(rows) == {o.number for o in pending}
    assert canceled.number not in rows


def test_more_than_the_limit_is_refused_before_anything_runs(admin_client, monkeypatch):
    monkeypatch.setattr(mass_actions, "MASS_LIMIT", 2)
    orders = [order_with((product(), 1)) for _ in range(3)]
    r = post_action(admin_client, "mass_invoice", orders)
    assert r.status_code == 302 and r.url.startswith(LIST_URL)
    messages = [str(m) for m in admin_client.get(r.url).context["messages"]]
    assert any("at most 2 orders" in m for m in messages), messages
    assert not Invoice.objects.exists()


def test_an_unexpected_error_on_one_order_is_reported_and_the_others_go_on(admin_client, monkeypatch):
    first, second = order_with((product(), 1)), order_with((product(), 1))
    import sales.services.invoicing as invoicing

    real = invoicing.invoice_create

    def flaky(*, order_id, **kwargs):
        if order_id == first.id:
            raise RuntimeError("boom")
        return real(order_id=order_id, **kwargs)

    monkeypatch.setattr(invoicing, "invoice_create", flaky)
    r = post_action(admin_client, "mass_invoice", [first, second])
    rows = result_rows(admin_client.get(r.url))
    assert rows[first.number]["state"] == "error" and "nothing was changed" in rows[first.number]["text"]
    assert rows[second.number]["state"] == "done"
    assert Invoice.objects.filter(order=second).exists() and not Invoice.objects.filter(order=first).exists()


# ---------------------------------------------------------------------------- ship from a chosen source


def test_mass_ship_asks_for_the_source_then_ships_each_order_from_it(admin_client):
    downtown = InventorySourceFactory(code="downtown", name="Downtown store", priority=5)
    mug, bag = product("9.00", stock=10), product("18.50", stock=10)
    ProductInventory.objects.create(product=mug, source=downtown, qty=5)
    ProductInventory.objects.create(product=bag, source=downtown, qty=1)
    fits, short = order_with((mug, 2)), order_with((bag, 3))
    why = refusal(lambda: shipment_create(order_id=short.id, inventory_source_id=downtown.id, items=None, actor=None))

    r = post_action(admin_client, "mass_ship", [fits, short])
    assert r.status_code == 200  # the options page, nothing shipped yet
    body = r.content.decode()
    assert "Ship 2 orders" in body and "Downtown store (downtown)" in body and f"#{fits.number}" in body
    assert not Shipment.objects.exists()

    r = post_action(admin_client, "mass_ship", [fits, short], apply="1", inventory_source=str(downtown.id),
                    carrier_title="UPS")
    page = admin_client.get(r.url)
    rows = result_rows(page)
    shipment = Shipment.objects.get(order=fits)
    assert (shipment.inventory_source_id, shipment.carrier_title, shipment.total_qty) == (downtown.id, "UPS", 2)
    assert rows[fits.number]["text"] == f"Shipment #{shipment.number} created: 2 units from Downtown store"
    assert rows[short.number]["state"] == "refused" and rows[short.number]["text"] == why
    assert "from Downtown store, carrier UPS" in page.content.decode()
    assert ProductInventory.objects.get(product=mug, source=downtown).qty == 3
    assert ProductInventory.objects.get(product=bag, source=default_source()).qty == 10


def test_mass_ship_with_an_unknown_source_shows_the_form_again(admin_client):
    order = order_with((product(), 1))
    r = post_action(admin_client, "mass_ship", [order], apply="1", inventory_source="999999")
    assert r.status_code == 200 and r.context["form"].errors["inventory_source"]
    assert not Shipment.objects.exists()


# ---------------------------------------------------------------------------- cancel, archive


def test_mass_cancel_and_archive(admin_client):
    open_order, invoiced = order_with((product("10.00"), 2)), order_with((product(), 1))
    invoice_all(invoiced)
    r = post_action(admin_client, "mass_cancel", [open_order, invoiced])
    rows = result_rows(admin_client.get(r.url))
    assert rows[open_order.number]["state"] == "done"
    assert rows[open_order.number]["text"] == f"Canceled {reload(open_order).total_canceled} USD: the order is now canceled"
    assert rows[invoiced.number]["state"] == "refused"

    r = post_action(admin_client, "mass_archive", [open_order])
    assert result_rows(admin_client.get(r.url))[open_order.number]["state"] == "done"
    # archived orders leave the default list: the action takes what the list shows, so show them
    r = admin_client.post(f"{LIST_URL}?archived=all", {"action": "mass_archive", "index": "0", "select_across": "0",
                                                      "_selected_action": [str(open_order.id), str(invoiced.id)]})
    rows = result_rows(admin_client.get(r.url))
    assert rows[open_order.number]["state"] == "skipped" and "Already archived" in rows[open_order.number]["text"]
    assert rows[invoiced.number]["state"] == "done"
    assert Order.objects.filter(archived_at__isnull=False).count() == 2


# ---------------------------------------------------------------------------- print: one PDF


def test_print_invoices_is_one_pdf_of_every_invoice(admin_client, django_assert_max_num_queries):
    orders = [order_with((product("12.00"), 1)) for _ in range(3)]
    for order in orders[:2]:
        invoice_all(order)
    with django_assert_max_num_queries(14):
        r = post_action(admin_client, "print_invoices", orders)
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r["Content-Disposition"].startswith('attachment; filename="invoices-')
    text = pdf_text(r.content)
    for invoice in Invoice.objects.all():
        assert f"Invoice #{invoice.number}" in text
    assert len(PdfReader(io.BytesIO(r.content)).pages) == 2


def test_print_invoices_with_none_says_so(admin_client):
    order = order_with((product(), 1))
    r = post_action(admin_client, "print_invoices", [order])
    assert r.status_code == 302
    assert "nothing to print" in str(list(admin_client.get(r.url).context["messages"])[0])


def test_print_packing_slips_is_one_pdf_without_prices(admin_client, django_assert_max_num_queries):
    beans = product("18.50", stock=10)
    beans.sku, beans.name = "BEAN-1KG", "Espresso beans 1 kg"
    beans.save()
    to_ship = order_with((beans, 3))
    shipped = order_with((beans, 1))
    shipment = shipment_create(order_id=shipped.id, inventory_source_id=default_source().id, items=None, actor=None,
                               carrier_title="DHL", track_number="JD0001")
    with django_assert_max_num_queries(14):
        r = post_action(admin_client, "print_packing_slips", [to_ship, shipped])
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    text = pdf_text(r.content)
    assert "PACKING SLIP" in text
    assert f"Order #{to_ship.number} · to ship" in text and f"Shipment #{shipment.number}" in text
    assert "BEAN-1KG" in text and "Espresso beans 1 kg" in text
    assert re.search(r"BEAN-1KG\s+Espresso beans 1 kg\s+3", text), text
    assert "JD0001" in text and "Suggested: holds every unit." in text
    address = reload(to_ship).shipping_address
    assert address["line_1"] in text and address["city"] in text
    for price in ("18.50", "55.50"):
        assert price not in text


# ---------------------------------------------------------------------------- packing slip pages


def test_order_and_shipment_packing_slip_downloads(admin_client):
    order = order_with((product("9.00", stock=10), 4))
    page = admin_client.get(reverse("admin:sales_order_change", args=[order.id])).content.decode()
    assert 'id="packing-slip-button"' in page
    r = admin_client.get(reverse("admin:sales_order_packing_slip", args=[order.id]))
    assert r.status_code == 200 and f"packing-slip-{order.number}.pdf" in r["Content-Disposition"]
    assert "4" in pdf_text(r.content)

    shipment = shipment_create(order_id=order.id, inventory_source_id=default_source().id, items=None, actor=None)
    detail = admin_client.get(reverse("admin:sales_shipment_change", args=[shipment.id])).content.decode()
    assert reverse("admin:sales_shipment_packing_slip", args=[shipment.id]) in detail
    r = admin_client.get(reverse("admin:sales_shipment_packing_slip", args=[shipment.id]))
    text = pdf_text(r.content)
    assert r.status_code == 200 and f"Shipment #{shipment.number}" in text and "Default" in text
    assert "9.00" not in text
    # everything shipped: the order's slip is the shipment's
    r = admin_client.get(reverse("admin:sales_order_packing_slip", args=[order.id]))
    assert f"Shipment #{shipment.number}" in pdf_text(r.content)


def test_packing_slip_needs_view_permission():
    order = order_with((product(), 1))
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=False))
    assert client.get(reverse("admin:sales_order_packing_slip", args=[order.id])).status_code == 403


def test_order_with_nothing_to_ship_has_no_slip(admin_client):
    order = canceled_order()
    page = admin_client.get(reverse("admin:sales_order_change", args=[order.id])).content.decode()
    assert 'id="packing-slip-button"' not in page
    r = admin_client.get(reverse("admin:sales_order_packing_slip", args=[order.id]))
    assert r.status_code == 302

