"""Returns (SPEC §5 "which units a refund takes", issue 16): a refund takes units paid but not sent
first, then shipped ones (``qty_returned``); returned units go back on hand only with
``return_to_stock``, at the source of the line's latest shipment; a unit neither invoiced nor
shipped is never stranded by a refund. And ``can.refund`` follows money left: when it is false
every refund is 409 ``order_not_refundable``, and the admin shows no Refund button.
"""

from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.models import Product, ProductInventory
from sales.models import OrderItem, OrderStatus
from sales.services.canceling import order_cancel
from sales.services.common import LineQty
from sales.services.invoicing import invoice_create
from sales.services.shipping import shipment_create
from tests.carts.factories import CouponFactory
from tests.catalog.factories import InventorySourceFactory
from tests.sales.lifecycle_support import (  # noqa: F401 - fast_passwords is a fixture
    assert_error,
    default_source,
    fast_passwords,
    invoice_all,
    items_of,
    nothing_written,
    order_with,
    product,
    refund_lines,
    reload,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]

D = Decimal


def on_hand(p, source=None) -> int:
    inv = ProductInventory.objects.filter(product=p, source=source or default_source()).first()
    return inv.qty if inv else 0


def reserved(p) -> int:
    return Product.objects.get(id=p.id).qty_reserved


def detail(api, order) -> dict:
    r = api.get(f"/api/admin/orders/{order.id}")
    assert r.status_code == 200
    return r.json()


def refund_body(item_id: int, qty: int, **extra) -> dict:
    return {"items": [{"order_item_id": item_id, "quantity": qty}], **extra}


@pytest.fixture
def half_sent():
    """SPEC §5's example: 2 ordered (10.00, 7.25 % tax, a fixed 0.99 coupon), 1 invoiced, 1 shipped from east."""
    p = product("10.00", stock=5, tax="7.25")
    east = InventorySourceFactory(code="east")
    ProductInventory.objects.create(product=p, source=east, qty=5)
    order = order_with((p, 2), coupon=CouponFactory(discount_type="fixed", value=D("0.99")).code)
    (item,) = items_of(order)
    invoice_create(order_id=order.id, items=[LineQty(item.id, 1)], actor=None)
    shipment_create(order_id=order.id, inventory_source_id=east.id, items=[LineQty(item.id, 1)], actor=None)
    assert (reserved(p), on_hand(p, east), on_hand(p)) == (1, 4, 5)
    return reload(order), item, p, east


# ---------------------------------------------------------------- which units a refund takes

@pytest.mark.parametrize("finish", ["invoice and ship", "ship then invoice", "cancel"])
def test_refunding_the_shipped_unit_returns_it_and_strands_nothing(api, half_sent, finish):
    order, item, p, east = half_sent
    r = api.post(f"/api/admin/orders/{order.id}/refunds", refund_body(item.id, 1, return_to_stock=True), format="json")
    assert r.status_code == 201, r.json()
    assert (on_hand(p, east), on_hand(p), reserved(p)) == (5, 5, 1)  # back at east; the other unit still reserved
    d = detail(api, order)
    (line,) = d["items"]
    assert (line["qty_refunded"], line["qty_returned"], line["qty_to_ship"], line["qty_to_invoice"],
            line["qty_to_cancel"], line["qty_to_refund"]) == (1, 1, 1, 1, 1, 0)
    # Every action is still open: the second unit can be billed, sent or canceled; the shipping billed
    # on the first invoice is still refundable.
    assert d["can"]["invoice"] and d["can"]["ship"] and d["can"]["cancel"] and d["can"]["refund"]
    assert d["status"] == "processing"

    if finish == "cancel":
        r = api.post(f"/api/admin/orders/{order.id}/cancel")
        assert r.status_code == 200, r.json()
        assert reserved(p) == 0 and r.json()["status"] == "closed"  # every unit refunded or canceled
    else:
        steps = ["invoices", "shipments"] if finish == "invoice and ship" else ["shipments", "invoices"]
        for path in steps:
            r = api.post(f"/api/admin/orders/{order.id}/{path}", {"inventory_source_id": default_source().id}
                         if path == "shipments" else {}, format="json")
            assert r.status_code == 201, r.json()
        assert (reserved(p), on_hand(p)) == (0, 4)
        assert detail(api, order)["status"] == "completed"  # nothing left to invoice or ship
    order = reload(order)
    d = detail(api, order)
    assert D(d["total_invoiced"]) + D(d["total_canceled"]) == D(d["grand_total"])  # settled to the cent
    assert d["total_due"] == "0.00"
    assert not d["can"]["invoice"] and not d["can"]["ship"] and not d["can"]["cancel"]


def test_without_return_to_stock_the_returned_unit_stays_out(half_sent):
    order, item, p, east = half_sent
    refund_lines(order, (item.id, 1))
    (item,) = items_of(order)
    assert (item.qty_returned, item.qty_to_ship) == (1, 1)
    assert (on_hand(p, east), on_hand(p), reserved(p)) == (4, 5, 1)


def test_paid_but_unsent_units_are_refunded_first():
    """3 ordered and invoiced, 1 shipped: refunding 2 takes the 2 unsent (their reservation), then
    refunding 1 returns the shipped one."""
    p = product(stock=5)
    order = order_with((p, 3))
    invoice_all(order)
    (item,) = items_of(order)
    shipment_create(order_id=order.id, inventory_source_id=default_source().id, items=[LineQty(item.id, 1)],
                    actor=None)
    refund_lines(order, (item.id, 2), return_to_stock=True)
    (item,) = items_of(order)
    assert (item.qty_returned, item.qty_to_ship, reserved(p), on_hand(p)) == (0, 0, 0, 4)
    refund_lines(order, (item.id, 1), return_to_stock=True)
    (item,) = items_of(order)
    assert (item.qty_returned, reserved(p), on_hand(p)) == (1, 0, 5)
    assert reload(order).status == OrderStatus.CLOSED


def test_a_refund_spanning_unsent_and_shipped_units_splits_them():
    """2 invoiced of 3, 1 shipped: refunding 2 takes 1 unsent (paid, not sent) and returns the shipped one;
    the third unit (neither billed nor sent) stays to ship."""
    p = product(stock=5)
    order = order_with((p, 3))
    (item,) = items_of(order)
    invoice_create(order_id=order.id, items=[LineQty(item.id, 2)], actor=None)
    shipment_create(order_id=order.id, inventory_source_id=default_source().id, items=[LineQty(item.id, 1)],
                    actor=None)
    assert reserved(p) == 2
    refund_lines(order, (item.id, 2), return_to_stock=True)
    (item,) = items_of(order)
    assert (item.qty_refunded, item.qty_returned, item.qty_to_ship, item.qty_to_cancel) == (2, 1, 1, 1)
    assert (reserved(p), on_hand(p)) == (1, 5)


def test_virtual_lines_have_no_returns():
    v = product("9.00", type_="virtual")
    order = order_with((v, 2), shipping=None)
    invoice_all(order)
    (item,) = items_of(order)
    refund_lines(order, (item.id, 2), return_to_stock=True)
    (item,) = items_of(order)
    assert (item.qty_refunded, item.qty_returned) == (2, 0)


def test_preview_and_dry_run_show_the_same(api, half_sent):
    order, item, p, east = half_sent
    body = refund_body(item.id, 1, return_to_stock=True)
    with nothing_written(api, order.id):
        preview = api.post(f"/api/admin/orders/{order.id}/refunds/preview", body, format="json")
        dry = api.post(f"/api/admin/orders/{order.id}/refunds?dry_run=true", body, format="json")
    assert preview.status_code == 200 and dry.status_code == 200, (preview.json(), dry.json())
    # The shipped unit comes back at east; the other unit's reservation does not move.
    assert dry.json()["stock_moves"] == [{"product_id": p.id, "sku": p.sku, "inventory_source_id": east.id,
                                          "reserved": 0, "on_hand": 1}]
    assert dry.json()["status_after"] == "processing"
    assert dry.json()["document"]["grand_total"] == preview.json()["grand_total"]
    real = api.post(f"/api/admin/orders/{order.id}/refunds", body, format="json").json()
    assert real["grand_total"] == preview.json()["grand_total"] and real["items"] == preview.json()["items"]


def test_dry_run_of_an_unsent_refund_releases_the_reservation(api):
    p = product(stock=5)
    order = order_with((p, 2))
    invoice_all(order)
    (item,) = items_of(order)
    r = api.post(f"/api/admin/orders/{order.id}/refunds?dry_run=true", refund_body(item.id, 2, return_to_stock=True),
                 format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["stock_moves"] == [{"product_id": p.id, "sku": p.sku, "inventory_source_id": None,
                                        "reserved": -2, "on_hand": 0}]


def test_admin_order_page_shows_returned_units(admin_client, half_sent):
    order, item, _, _ = half_sent
    refund_lines(order, (item.id, 1), return_to_stock=True)
    r = admin_client.get(reverse("admin:sales_order_change", args=[order.id]))
    assert r.status_code == 200
    body = r.content.decode()
    assert "qty_returned" in body and ">returned<" in body
    row = body.split(f'data-item-id="{item.id}"')[1].split("</tr>")[0]
    # ordered, invoiced, shipped, refunded, returned, canceled, then what is left to invoice, ship, refund, cancel
    cells = [c.split(">")[1].split("<")[0] for c in row.split('<td class="num')[2:12]]
    assert cells == ["2", "1", "1", "1", "1", "0", "1", "1", "0", "1"], cells


def test_existing_rows_keep_the_constraint(half_sent):
    """The database refuses a ledger with more units shipped and unsent-refunded than ordered."""
    from django.db import IntegrityError, transaction

    _, item, _, _ = half_sent
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderItem.objects.filter(id=item.id).update(qty_refunded=1, qty_returned=0, qty_invoiced=2, qty_shipped=2)


# ---------------------------------------------------------------- can.refund follows money left

ENDPOINTS = ["refunds", "refunds/preview"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_all_money_refunded_by_adjustment_leaves_nothing_to_refund(api, admin_client, endpoint):
    p = product(stock=5)
    order = order_with((p, 2))
    invoice_all(order)
    (item,) = items_of(order)
    refund_lines(order, adjustment_refund=reload(order).total_invoiced)
    order = reload(order)
    assert order.total_refunded == order.total_invoiced and items_of(order)[0].qty_to_refund == 2
    assert detail(api, order)["can"]["refund"] is False
    for body in (refund_body(item.id, 1), {"adjustment_refund": "0.01"}, {"shipping_amount": "1.00"}, {}):
        with nothing_written(api, order.id):
            assert_error(api.post(f"/api/admin/orders/{order.id}/{endpoint}", body, format="json"), 409,
                         "order_not_refundable", says="nothing left to refund")
    r = admin_client.get(reverse("admin:sales_order_change", args=[order.id]))
    assert "refund" not in [b.key for b in r.context["buttons"]] and 'id="refund-button"' not in r.content.decode()
    r = admin_client.get(reverse("admin:sales_order_refund", args=[order.id]), follow=True)
    assert any("nothing left to refund" in str(m) for m in r.context["messages"])
    # Refunds stay closed but the order still ships and completes.
    shipment_create(order_id=order.id, inventory_source_id=default_source().id, items=None, actor=None)
    assert reload(order).status == OrderStatus.COMPLETED


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_an_order_invoiced_at_zero_cannot_be_refunded(api, admin_client, endpoint):
    """A 100 % coupon with free shipping: units invoiced, 0.00 billed, nothing to give back."""
    p = product("4.99", stock=5, tax="7.25")
    order = order_with((p, 2), coupon=CouponFactory(discount_type="percent", value=D("100"), free_shipping=True).code)
    assert order.grand_total == D("0.00")
    (item,) = items_of(order)
    invoice = invoice_create(order_id=order.id, items=[LineQty(item.id, 1)], actor=None)
    assert invoice.grand_total == D("0.00")
    d = detail(api, order)
    assert d["items"][0]["qty_to_refund"] == 1 and d["can"]["refund"] is False
    for body in (refund_body(item.id, 1), {"adjustment_refund": "0.01"}):
        with nothing_written(api, order.id):
            assert_error(api.post(f"/api/admin/orders/{order.id}/{endpoint}", body, format="json"), 409,
                         "order_not_refundable", says="0.00")
    r = admin_client.get(reverse("admin:sales_order_change", args=[order.id]))
    assert "refund" not in [b.key for b in r.context["buttons"]]
    order_cancel(order_id=order.id, actor=None)  # the uninvoiced unit: neither billed nor sent
    order = reload(order)
    assert order.total_invoiced + order.total_canceled == order.grand_total == D("0.00")


def test_refund_flag_is_true_while_shipping_alone_is_left(api):
    p = product(stock=5)
    order = order_with((p, 1))
    invoice_all(order)
    (item,) = items_of(order)
    refund_lines(order, (item.id, 1))  # every unit refunded: closed, so no refund even of the shipping
    assert reload(order).status == OrderStatus.CLOSED and detail(api, order)["can"]["refund"] is False
    order = order_with((p, 2))
    invoice_create(order_id=order.id, items=[LineQty(items_of(order)[0].id, 1)], actor=None)
    refund_lines(order, (items_of(order)[0].id, 1))
    assert detail(api, order)["can"]["refund"] is True  # the shipping billed is still refundable
    r = api.post(f"/api/admin/orders/{order.id}/refunds", {"shipping_amount": "5.00"}, format="json")
    assert r.status_code == 201, r.json()
    assert detail(api, order)["can"]["refund"] is False
