"""Create Shipment (SPEC §5, stock §3): every rule and every refusal, each refusal writing nothing."""

from decimal import Decimal

import pytest

from catalog.models import Product, ProductInventory
from sales.models import OrderStatus, Shipment
from sales.services.canceling import order_cancel
from sales.services.common import LineQty
from sales.services.shipping import shipment_create
from tests.catalog.factories import InventorySourceFactory
from tests.sales.lifecycle_support import (  # noqa: F401 - fast_passwords is a fixture
    assert_error,
    canceled_order,
    closed_order,
    default_source,
    fast_passwords,
    fraud_order,
    invoice_all,
    items_of,
    nothing_written,
    order_with,
    product,
    reload,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]

D = Decimal


def post(api, order_id, body):
    return api.post(f"/api/admin/orders/{order_id}/shipments", body, format="json")


def on_hand(p, source=None) -> int:
    inv = ProductInventory.objects.filter(product=p, source=source or default_source()).first()
    return inv.qty if inv else 0


def reserved(p) -> int:
    return Product.objects.get(id=p.id).qty_reserved


def ship(order, source=None, *pairs):
    return shipment_create(order_id=order.id, inventory_source_id=(source or default_source()).id,
                           items=[LineQty(i, q) for i, q in pairs] if pairs else None, actor=None)


# ---------------------------------------------------------------- what a shipment does

def test_ship_everything_takes_stock_and_releases_the_reservation(api, admin_user):
    a, b = product(stock=5), product(stock=5)
    order = order_with((a, 3), (b, 2))
    assert (reserved(a), reserved(b)) == (3, 2)
    source = default_source()
    r = post(api, order.id, {"inventory_source_id": source.id, "carrier_title": "UPS", "track_number": "1Z999"})
    assert r.status_code == 201, r.json()
    doc = r.json()
    assert doc["carrier_title"] == "UPS" and doc["track_number"] == "1Z999"
    assert doc["inventory_source"] == {"id": source.id, "code": source.code, "name": source.name}
    assert doc["total_qty"] == 5 and doc["order_id"] == order.id and doc["order_number"] == order.number
    assert doc["created_by"]["id"] == admin_user.id
    assert [(x["sku"], x["quantity"]) for x in doc["items"]] == [(a.sku, 3), (b.sku, 2)]
    assert (on_hand(a), on_hand(b)) == (2, 3)
    assert (reserved(a), reserved(b)) == (0, 0)
    d = api.get(f"/api/admin/orders/{order.id}").json()
    assert [i["qty_shipped"] for i in d["items"]] == [3, 2]
    assert [i["qty_to_ship"] for i in d["items"]] == [0, 0]
    assert d["status"] == "processing"  # shipped before invoicing: allowed, still to invoice
    assert d["can"]["ship"] is False and d["can"]["invoice"] is True and d["can"]["cancel"] is False
    assert [(s["number"], s["total_qty"]) for s in d["shipments"]] == [(doc["number"], 5)]
    event = [e for e in api.get(f"/api/admin/orders/{order.id}/history").json() if e["type"] == "shipped"][0]
    assert event["actor"]["id"] == admin_user.id
    assert event["data"]["shipment_id"] == doc["id"] and event["data"]["number"] == doc["number"]
    assert event["data"]["inventory_source_id"] == source.id and event["data"]["total_qty"] == 5


def test_partial_shipments_from_two_sources():
    a = product(stock=2)
    east = InventorySourceFactory(code="east")
    ProductInventory.objects.create(product=a, source=east, qty=4)
    order = order_with((a, 5))
    item = items_of(order)[0]
    ship(order, None, (item.id, 2))
    assert (on_hand(a), on_hand(a, east), reserved(a)) == (0, 4, 3)
    assert reload(order).status == OrderStatus.PROCESSING
    ship(order, east, (item.id, 3))
    assert (on_hand(a), on_hand(a, east), reserved(a)) == (0, 1, 0)
    assert items_of(order)[0].qty_shipped == 5
    invoice_all(order)
    assert reload(order).status == OrderStatus.COMPLETED


def test_everything_left_skips_virtual_and_fully_shipped_lines():
    a, b, v = product(), product(), product("2.00", type_="virtual")
    order = order_with((a, 2), (b, 1), (v, 1))
    ia, ib, iv = items_of(order)
    assert iv.is_shippable is False and iv.qty_to_ship == 0
    ship(order, None, (ia.id, 2))
    rest = ship(order)
    assert [(x.order_item_id, x.quantity) for x in rest.items.all()] == [(ib.id, 1)]


def test_shipping_optional_fields_default_to_blank(api):
    order = order_with((product(), 1))
    r = post(api, order.id, {"inventory_source_id": default_source().id})
    assert r.status_code == 201
    assert r.json()["carrier_title"] == "" and r.json()["track_number"] == ""


def test_after_a_refund_of_unshipped_units_only_the_rest_ships():
    from tests.sales.lifecycle_support import refund_lines

    p = product(stock=5)
    order = order_with((p, 3))
    invoice_all(order)
    item = items_of(order)[0]
    refund_lines(order, (item.id, 1))
    assert items_of(order)[0].qty_to_ship == 2 and reserved(p) == 2
    with pytest.raises(Exception) as err:
        ship(order, None, (item.id, 3))
    assert err.value.code == "quantity_exceeds_remaining"
    ship(order)
    assert items_of(order)[0].qty_shipped == 2 and on_hand(p) == 3 and reserved(p) == 0
    assert reload(order).status == OrderStatus.COMPLETED


# ---------------------------------------------------------------- amounts (SPEC §1: the last shipment takes the rest)

def _doc_line(doc) -> tuple[str, str, str, str]:
    (x,) = doc["items"]
    return x["subtotal"], x["discount_amount"], x["tax_amount"], x["total"]


def test_shipments_of_a_line_add_up_to_it_with_an_odd_cent_discount(api):
    """A fuzzer's case: 2 × 10.00 with a 0.99 discount shipped 1 + 1 was 9.50 + 9.50 against a 19.01
    line; the second shipment completes the line and takes what is left."""
    from tests.carts.factories import CouponFactory

    order = order_with((product("10.00"), 2), coupon=CouponFactory(discount_type="fixed", value=D("0.99")).code)
    (item,) = items_of(order)
    assert (item.subtotal, item.discount_amount, item.total) == (D("20.00"), D("0.99"), D("19.01"))
    body = {"inventory_source_id": default_source().id, "items": [{"order_item_id": item.id, "quantity": 1}]}
    first, second = post(api, order.id, body).json(), post(api, order.id, body).json()
    assert _doc_line(first) == ("10.00", "0.50", "0.00", "9.50")
    assert _doc_line(second) == ("10.00", "0.49", "0.00", "9.51")
    assert (first["grand_total"], second["grand_total"]) == ("9.50", "9.51")
    assert D(first["grand_total"]) + D(second["grand_total"]) == item.total


@pytest.mark.parametrize(("tax", "shares"), [
    ("7.25", [("3.33", "0.50", "0.21", "3.04"), ("3.33", "0.50", "0.21", "3.04"), ("3.33", "0.50", "0.20", "3.03")]),
    ("19", [("3.33", "0.50", "0.54", "3.37"), ("3.33", "0.50", "0.54", "3.37"), ("3.33", "0.50", "0.53", "3.36")]),
])
def test_tax_off_by_a_cent_either_way_is_taken_up_by_the_last_shipment(api, tax, shares):
    """3 × 3.33 with a 15 % coupon: tax 0.62 (7.25 %) rounds each third up, 1.61 (19 %) too; the last of
    three one-unit shipments takes what the others left, so the shipments add up to the line."""
    order = order_with((product("3.33", tax=tax), 3), coupon_percent="15")
    (item,) = items_of(order)
    body = {"inventory_source_id": default_source().id, "items": [{"order_item_id": item.id, "quantity": 1}]}
    docs = [post(api, order.id, body).json() for _ in range(3)]
    assert [_doc_line(d) for d in docs] == shares
    assert sum(D(d["grand_total"]) for d in docs) == item.total
    assert sum(D(d["tax_total"]) for d in docs) == item.tax_amount


def test_a_line_shipped_in_one_go_takes_it_whole_and_shares_round_down_too(api):
    """0.07 × 3 with 19 % tax: tax 0.04; a third is 0.0133 → 0.01, so 1 + 1 + the rest is 0.01 + 0.01 + 0.02."""
    order = order_with((product("0.07", tax="19"), 3), (product("0.07", tax="19"), 3))
    ia, ib = items_of(order)
    assert ia.tax_amount == D("0.04")
    whole = post(api, order.id, {"inventory_source_id": default_source().id,
                                 "items": [{"order_item_id": ib.id, "quantity": 3}]}).json()
    assert _doc_line(whole) == ("0.21", "0.00", "0.04", "0.25")
    body = {"inventory_source_id": default_source().id, "items": [{"order_item_id": ia.id, "quantity": 1}]}
    taxes = [post(api, order.id, body).json()["tax_total"] for _ in range(3)]
    assert taxes == ["0.01", "0.01", "0.02"]


def test_the_shipment_after_a_cancel_takes_the_rest_less_the_canceled_share(api):
    """3 × 3.33 (15 % coupon, 7.25 % tax): 2 invoiced, 1 canceled (its share), then shipped 1 + 1: the second
    shipment completes the line (shipped + canceled = ordered) and the shipments plus the canceled share
    equal the line."""
    order = order_with((product("3.33", tax="7.25"), 3), coupon_percent="15")
    (item,) = items_of(order)
    from sales.services.invoicing import invoice_create

    invoice_create(order_id=order.id, items=[LineQty(item.id, 2)], actor=None)
    order_cancel(order_id=order.id, actor=None)
    body = {"inventory_source_id": default_source().id, "items": [{"order_item_id": item.id, "quantity": 1}]}
    docs = [post(api, order.id, body).json() for _ in range(2)]
    (item,) = items_of(order)
    assert item.qty_canceled == 1 and item.qty_shipped == 2
    canceled = item.subtotal_canceled - item.discount_canceled + item.tax_canceled
    assert sum(D(d["grand_total"]) for d in docs) + canceled == item.total
    assert sum(D(d["subtotal"]) for d in docs) + item.subtotal_canceled == item.subtotal
    assert reload(order).status == OrderStatus.COMPLETED


def test_staff_with_the_permission_may_ship(staff_api):
    order = order_with((product(), 1))
    assert post(staff_api("sales.add_shipment"), order.id, {"inventory_source_id": default_source().id}
                ).status_code == 201


# ---------------------------------------------------------------- refusals (each writes nothing)

def test_nothing_left_to_ship(api):
    order = order_with((product(), 2))
    ship(order)
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"inventory_source_id": default_source().id}), 409, "order_not_shippable",
                     says="nothing left")


def test_virtual_only_order_has_nothing_to_ship(api):
    s, v = product(), product(type_="virtual")
    order = order_with((s, 1), (v, 1))
    ship(order)
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"inventory_source_id": default_source().id}), 409, "order_not_shippable")


@pytest.mark.parametrize(("make", "word"), [(canceled_order, "canceled"), (closed_order, "closed"),
                                            (fraud_order, "fraud")])
def test_blocked_statuses(api, make, word):
    order = make()
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"inventory_source_id": default_source().id}), 409, "order_not_shippable",
                     says=word)


def test_fraud_refuses_even_with_units_left(api):
    order = fraud_order()
    assert items_of(order)[0].qty_to_ship == 2
    item = items_of(order)[0]
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"inventory_source_id": default_source().id,
                                          "items": [{"order_item_id": item.id, "quantity": 1}]}),
                     409, "order_not_shippable", says="fraud")


def test_insufficient_stock_at_that_source(api):
    p = product(stock=1)
    east = InventorySourceFactory(code="east")
    ProductInventory.objects.create(product=p, source=east, qty=5)
    order = order_with((p, 3))  # saleable: 1 + 5 over active sources
    with nothing_written(api, order.id):
        body = assert_error(post(api, order.id, {"inventory_source_id": default_source().id}), 409,
                            "insufficient_stock")
    assert p.sku in body["message"]
    assert post(api, order.id, {"inventory_source_id": east.id}).status_code == 201


def test_insufficient_stock_when_the_source_holds_none(api):
    p = product(stock=3)
    empty = InventorySourceFactory(code="empty")
    order = order_with((p, 2))
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"inventory_source_id": empty.id}), 409, "insufficient_stock")


def test_one_short_line_refuses_the_whole_shipment(api):
    a, b = product(stock=5), product(stock=2)
    order = order_with((a, 2), (b, 2))
    ProductInventory.objects.filter(product=b).update(qty=1)  # stock count corrected after the order was placed
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"inventory_source_id": default_source().id}), 409, "insufficient_stock")


def test_quantity_above_what_is_left(api):
    order = order_with((product(), 3))
    item = items_of(order)[0]
    ship(order, None, (item.id, 2))
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"inventory_source_id": default_source().id,
                                          "items": [{"order_item_id": item.id, "quantity": 2}]}),
                     409, "quantity_exceeds_remaining", field="items.0.quantity", says="only 1")


def test_canceled_units_cannot_ship(api):
    order = order_with((product(), 3))
    item = items_of(order)[0]
    invoice_all_but = [LineQty(item.id, 1)]
    from sales.services.invoicing import invoice_create

    invoice_create(order_id=order.id, items=invoice_all_but, actor=None)
    order_cancel(order_id=order.id, actor=None)  # cancels the 2 unbilled units
    assert items_of(order)[0].qty_to_ship == 1
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"inventory_source_id": default_source().id,
                                          "items": [{"order_item_id": item.id, "quantity": 2}]}),
                     409, "quantity_exceeds_remaining")


@pytest.mark.parametrize("source", ["missing", "null", "unknown", "inactive"])
def test_inventory_source_must_exist_and_be_active(api, source):
    order = order_with((product(), 1))
    body = {}
    if source == "null":
        body["inventory_source_id"] = None
    elif source == "unknown":
        body["inventory_source_id"] = 987654
    elif source == "inactive":
        body["inventory_source_id"] = InventorySourceFactory(active=False).id
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, body), 400, "inventory_source_not_found", field="inventory_source_id")


def test_virtual_item_is_not_shippable(api):
    s, v = product(), product(type_="virtual")
    order = order_with((s, 1), (v, 1))
    iv = items_of(order)[1]
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"inventory_source_id": default_source().id,
                                          "items": [{"order_item_id": iv.id, "quantity": 1}]}),
                     400, "item_not_shippable", field="items.0.order_item_id")


def test_line_of_another_order(api):
    order, other = order_with((product(), 1)), order_with((product(), 1))
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"inventory_source_id": default_source().id,
                                          "items": [{"order_item_id": items_of(other)[0].id, "quantity": 1}]}),
                     400, "order_item_not_found", field="items.0.order_item_id")


@pytest.mark.parametrize("quantity", [0, -2, "x", None])
def test_quantity_must_be_at_least_one(api, quantity):
    order = order_with((product(), 2))
    item = items_of(order)[0]
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"inventory_source_id": default_source().id,
                                          "items": [{"order_item_id": item.id, "quantity": quantity}]}),
                     400, "validation_error", field="items.0.quantity")


def test_empty_items_list_is_invalid(api):
    order = order_with((product(), 2))
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"inventory_source_id": default_source().id, "items": []}), 400,
                     "validation_error", field="items")


@pytest.mark.parametrize("field", ["carrier_title", "track_number"])
def test_carrier_fields_at_most_255(api, field):
    order = order_with((product(), 1))
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"inventory_source_id": default_source().id, field: "x" * 256}), 400,
                     "validation_error", field=field)
    assert post(api, order.id, {"inventory_source_id": default_source().id, field: "x" * 255}).status_code == 201


def test_service_refuses_quantities_below_one():
    order = order_with((product(), 2))
    item = items_of(order)[0]
    for qty in (0, -1):
        with nothing_written(), pytest.raises(Exception) as err:
            ship(order, None, (item.id, qty))
        assert err.value.code == "validation_error"


def test_check_order_body_before_state(api):
    """An unknown / inactive source or a virtual line on a canceled order: 400, not 409."""
    order = canceled_order()
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"inventory_source_id": 987654}), 400, "inventory_source_not_found")
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {}), 400, "inventory_source_not_found")
    other = order_with((product(), 1))
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"inventory_source_id": default_source().id,
                                          "items": [{"order_item_id": items_of(other)[0].id, "quantity": 1}]}),
                     400, "order_item_not_found")
    v_order = fraud_order((product(), 1), (product(type_="virtual"), 1))
    with nothing_written(api, v_order.id):
        assert_error(post(api, v_order.id, {"inventory_source_id": default_source().id,
                                            "items": [{"order_item_id": items_of(v_order)[1].id, "quantity": 1}]}),
                     400, "item_not_shippable")


def test_check_order_state_before_quantities_and_stock(api):
    p = product(stock=2)
    order = fraud_order((p, 2))
    ProductInventory.objects.filter(product=p).update(qty=0)
    item = items_of(order)[0]
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"inventory_source_id": default_source().id,
                                          "items": [{"order_item_id": item.id, "quantity": 9}]}),
                     409, "order_not_shippable")


def test_check_order_quantities_before_stock(api):
    p = product(stock=2)
    order = order_with((p, 2))
    ProductInventory.objects.filter(product=p).update(qty=0)
    item = items_of(order)[0]
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"inventory_source_id": default_source().id,
                                          "items": [{"order_item_id": item.id, "quantity": 3}]}),
                     409, "quantity_exceeds_remaining")


def test_unknown_order(api):
    with nothing_written():
        assert_error(post(api, 987654321, {"inventory_source_id": default_source().id}), 404, "not_found")


def test_permission_required(staff_api, api):
    order = order_with((product(), 1))
    for client in (staff_api(), staff_api("sales.view_order", "sales.add_invoice", "sales.add_refund")):
        with nothing_written(api, order.id):
            assert_error(post(client, order.id, {"inventory_source_id": default_source().id}), 403,
                         "permission_denied")
    assert Shipment.objects.count() == 0
