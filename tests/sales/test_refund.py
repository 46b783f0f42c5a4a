"""Create Refund and Refund Preview (SPEC §5, amounts §1): totals, limits, stock, every refusal.

Every refusal is checked through both endpoints (the preview refuses exactly as the refund
would) and writes nothing.
"""

from decimal import ROUND_HALF_UP, Decimal

import pytest

from catalog.models import Product, ProductInventory
from sales.models import OrderStatus, Refund
from sales.services.common import LineQty
from sales.services.invoicing import invoice_create
from sales.services.refunding import RefundRequest, refund_preview
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
    refund_lines,
    reload,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]

D = Decimal
ENDPOINTS = ["refunds", "refunds/preview"]
TOTAL_KEYS = ("subtotal", "tax_total", "discount_total", "shipping_total", "adjustment_refund", "adjustment_fee",
              "grand_total")


def share(amount: Decimal, q: int, n: int) -> Decimal:
    return (amount * q / n).quantize(D("0.01"), rounding=ROUND_HALF_UP)


def post(api, order_id, body, endpoint="refunds"):
    return api.post(f"/api/admin/orders/{order_id}/{endpoint}", body, format="json")


def lines(*pairs):
    return [{"order_item_id": i, "quantity": q} for i, q in pairs]


def on_hand(p, source=None) -> int:
    return ProductInventory.objects.get(product=p, source=source or default_source()).qty


def reserved(p) -> int:
    return Product.objects.get(id=p.id).qty_reserved


def ship(order, source=None, *pairs):
    return shipment_create(order_id=order.id, inventory_source_id=(source or default_source()).id,
                           items=[LineQty(i, q) for i, q in pairs] if pairs else None, actor=None)


def invoiced_order(*lines_, **kwargs):
    order = order_with(*lines_, **kwargs)
    invoice_all(order)
    return reload(order)


@pytest.fixture
def odd_order(db):
    """3 × 3.33 with a 15 % coupon and 7.25 % tax: subtotal 9.99, discount 1.50, tax 0.62; shipping 5.00."""
    order = invoiced_order((product("3.33", tax="7.25"), 3), coupon_percent="15")
    line = items_of(order)[0]
    assert (line.subtotal, line.discount_amount, line.tax_amount, line.total) == (D("9.99"), D("1.50"), D("0.62"),
                                                                                   D("9.11"))
    return order


# ---------------------------------------------------------------- totals

def test_item_amounts_pro_rata_then_the_last_units_take_what_is_left(api, odd_order, admin_user):
    line = items_of(odd_order)[0]
    r = post(api, odd_order.id, {"items": lines((line.id, 1))})
    assert r.status_code == 201, r.json()
    first = r.json()
    assert (first["subtotal"], first["discount_total"], first["tax_total"]) == ("3.33", "0.50", "0.21")
    assert first["grand_total"] == "3.04" and first["shipping_total"] == "0.00"
    assert first["items"][0] == {"order_item_id": line.id, "sku": line.sku, "name": line.name, "quantity": 1,
                                 "price": "3.33", "subtotal": "3.33", "tax_amount": "0.21", "discount_amount": "0.50",
                                 "total": "3.04"}
    assert first["created_by"]["id"] == admin_user.id and first["return_to_stock"] is False
    assert first["adjustment_refund"] == "0.00" and first["adjustment_fee"] == "0.00"
    second = post(api, odd_order.id, {"items": lines((line.id, 2))}).json()
    assert (second["subtotal"], second["discount_total"], second["tax_total"]) == ("6.66", "1.00", "0.41")
    assert D(first["grand_total"]) + D(second["grand_total"]) == line.total


def test_refund_on_a_partly_invoiced_line_never_exceeds_what_was_invoiced(api):
    p = product("3.33", tax="7.25")
    order = order_with((p, 3), coupon_percent="15")
    line = items_of(order)[0]
    invoice = invoice_create(order_id=order.id, items=[LineQty(line.id, 2)], actor=None)
    billed = invoice.items.get()
    a = post(api, order.id, {"items": lines((line.id, 1))}).json()
    b = post(api, order.id, {"items": lines((line.id, 1))}).json()  # the line's last invoiced unit
    assert D(a["subtotal"]) + D(b["subtotal"]) == billed.subtotal
    assert D(a["tax_total"]) + D(b["tax_total"]) == billed.tax_amount
    assert D(a["discount_total"]) + D(b["discount_total"]) == billed.discount_amount
    order = reload(order)
    assert order.total_refunded == billed.total


def test_shipping_and_adjustments(api, odd_order):
    line = items_of(odd_order)[0]
    body = {"items": lines((line.id, 1)), "shipping_amount": "2.50", "adjustment_refund": "1.10",
            "adjustment_fee": "0.40"}
    r = post(api, odd_order.id, body)
    assert r.status_code == 201, r.json()
    doc = r.json()
    assert doc["shipping_total"] == "2.50" and doc["adjustment_refund"] == "1.10" and doc["adjustment_fee"] == "0.40"
    assert doc["grand_total"] == "6.24"  # 3.04 + 2.50 + 1.10 − 0.40
    order = reload(odd_order)
    assert order.total_refunded == D("6.24") and order.shipping_refunded == D("2.50")
    d = api.get(f"/api/admin/orders/{order.id}").json()
    assert d["total_refunded"] == "6.24" and [x["grand_total"] for x in d["refunds"]] == ["6.24"]


def test_amount_only_refund_without_items(api, odd_order):
    r = post(api, odd_order.id, {"adjustment_refund": "3.00"})
    assert r.status_code == 201, r.json()
    assert r.json()["items"] == [] and r.json()["grand_total"] == "3.00"
    order = reload(odd_order)
    assert order.status == OrderStatus.PROCESSING  # money back, no unit refunded: status unchanged
    assert items_of(order)[0].qty_refunded == 0


def test_fee_after_adjustments_may_bring_the_total_under_the_limit(api, odd_order):
    """The limit applies to the final total: items + adjustment_refund − fee ≤ invoiced − refunded."""
    line = items_of(odd_order)[0]
    left = odd_order.total_invoiced  # 14.11
    body = {"items": lines((line.id, 3)), "shipping_amount": "5.00", "adjustment_refund": "2.00",
            "adjustment_fee": "2.00"}
    preview = post(api, odd_order.id, body, "refunds/preview")
    assert preview.status_code == 200, preview.json()
    assert D(preview.json()["grand_total"]) == left
    assert post(api, odd_order.id, body).status_code == 201
    order = reload(odd_order)
    assert order.total_refunded == order.total_invoiced and order.status == OrderStatus.CLOSED


def test_preview_returns_exactly_what_the_refund_records_and_writes_nothing(api, odd_order):
    line = items_of(odd_order)[0]
    body = {"items": lines((line.id, 2)), "shipping_amount": "1.25", "adjustment_refund": "0.33",
            "adjustment_fee": "0.10", "return_to_stock": True}
    with nothing_written(api, odd_order.id):
        preview = post(api, odd_order.id, body, "refunds/preview")
    assert preview.status_code == 200, preview.json()
    p = preview.json()
    assert set(p) == {*TOTAL_KEYS, "items"}
    refund = post(api, odd_order.id, body).json()
    assert {k: refund[k] for k in TOTAL_KEYS} == {k: p[k] for k in TOTAL_KEYS}
    assert refund["items"] == p["items"]


def test_preview_of_the_last_units_matches_too(odd_order):
    line = items_of(odd_order)[0]
    refund_lines(odd_order, (line.id, 1))
    request = RefundRequest(items=[LineQty(line.id, 2)], shipping_amount=D("5.00"))
    with nothing_written():
        plan = refund_preview(order_id=odd_order.id, request=request)
    refund = refund_lines(odd_order, (line.id, 2), shipping_amount=D("5.00"))
    assert plan.totals == {k: getattr(refund, k) for k in TOTAL_KEYS}
    assert [(x.order_item_id, x.quantity, x.subtotal, x.tax_amount, x.discount_amount, x.total) for x in plan.lines] \
        == [(x.order_item_id, x.quantity, x.subtotal, x.tax_amount, x.discount_amount, x.total)
            for x in refund.items.all()]


def test_history_event_and_status(api, admin_user):
    order = invoiced_order((product(), 2))
    item = items_of(order)[0]
    doc = post(api, order.id, {"items": lines((item.id, 1))}).json()
    assert reload(order).status == OrderStatus.PROCESSING
    event = [e for e in api.get(f"/api/admin/orders/{order.id}/history").json() if e["type"] == "refunded"][0]
    assert event["actor"]["id"] == admin_user.id
    assert event["data"]["refund_id"] == doc["id"] and event["data"]["number"] == doc["number"]
    assert event["data"]["grand_total"] == doc["grand_total"]
    assert event["data"]["items"] == [{"order_item_id": item.id, "sku": item.sku, "quantity": 1}]
    post(api, order.id, {"items": lines((item.id, 1))})
    order = reload(order)
    assert order.status == OrderStatus.CLOSED  # every unit refunded
    d = api.get(f"/api/admin/orders/{order.id}").json()
    assert d["can"] == {"invoice": False, "ship": False, "refund": False, "cancel": False, "edit": False,
                        "hold": False, "release_hold": False}


def test_shipping_can_be_refunded_after_every_invoiced_unit(api):
    """Units left to refund are not the only refundable thing: the shipping billed is too."""
    from sales import status as rules

    order = order_with((product(), 2))
    item = items_of(order)[0]
    invoice_create(order_id=order.id, items=[LineQty(item.id, 1)], actor=None)  # 10.00 + 5.00 shipping
    refund_lines(order, (item.id, 1))
    order = reload(order)
    assert order.status == OrderStatus.PROCESSING and items_of(order)[0].qty_to_refund == 0
    flags = rules.flags_compute(items_of(order), status=order.status, gateway_payment=False,
                                refundable_amount=order.total_invoiced - order.total_refunded)
    assert flags.refund is True
    assert api.get(f"/api/admin/orders/{order.id}").json()["can"]["refund"] is True
    r = post(api, order.id, {"shipping_amount": "5.00"})
    assert r.status_code == 201, r.json()
    assert reload(order).total_refunded == reload(order).total_invoiced


def test_partial_cancel_plus_refund_of_the_rest_closes(api):
    order = order_with((product(), 3))
    item = items_of(order)[0]
    invoice_create(order_id=order.id, items=[LineQty(item.id, 1)], actor=None)
    from sales.services.canceling import order_cancel

    order_cancel(order_id=order.id, actor=None)
    post(api, order.id, {"items": lines((item.id, 1))})
    assert reload(order).status == OrderStatus.CLOSED


# ---------------------------------------------------------------- stock

def test_unshipped_units_release_their_reservation():
    p = product(stock=5)
    order = invoiced_order((p, 3))
    item = items_of(order)[0]
    refund_lines(order, (item.id, 2), return_to_stock=True)
    assert reserved(p) == 1 and on_hand(p) == 5  # nothing was on its way back: no stock returned
    assert items_of(order)[0].qty_to_ship == 1 and items_of(order)[0].qty_returned == 0


def test_shipped_unit_beside_an_uninvoiced_one_is_a_return(api):
    """SPEC §5's example (more in test_returns.py): 2 ordered, 1 invoiced, 1 shipped; refunding 1 with
    return_to_stock puts the shipped unit back and leaves the other to invoice, ship or cancel."""
    p = product(stock=5)
    order = order_with((p, 2))
    item = items_of(order)[0]
    invoice_create(order_id=order.id, items=[LineQty(item.id, 1)], actor=None)
    ship(order, None, (item.id, 1))
    r = post(api, order.id, {"items": lines((item.id, 1)), "return_to_stock": True})
    assert r.status_code == 201, r.json()
    assert (on_hand(p), reserved(p)) == (5, 1)
    d = api.get(f"/api/admin/orders/{order.id}").json()
    assert {k: d["items"][0][k] for k in ("qty_returned", "qty_to_ship", "qty_to_invoice", "qty_to_cancel")} == \
        {"qty_returned": 1, "qty_to_ship": 1, "qty_to_invoice": 1, "qty_to_cancel": 1}
    assert d["can"] == {**d["can"], "invoice": True, "ship": True, "cancel": True, "refund": True}


def test_shipped_units_stay_out_of_stock_without_return_to_stock():
    p = product(stock=5)
    order = invoiced_order((p, 2))
    ship(order)
    item = items_of(order)[0]
    refund_lines(order, (item.id, 2))
    assert on_hand(p) == 3 and reserved(p) == 0
    assert items_of(order)[0].qty_returned == 2  # both had been shipped: returns, kept out of stock


def test_shipped_units_return_to_the_latest_shipments_source():
    p = product(stock=5)
    east = InventorySourceFactory(code="east")
    ProductInventory.objects.create(product=p, source=east, qty=5)
    order = invoiced_order((p, 3))
    item = items_of(order)[0]
    ship(order, None, (item.id, 1))
    ship(order, east, (item.id, 2))
    assert (on_hand(p), on_hand(p, east)) == (4, 3)
    refund_lines(order, (item.id, 3), return_to_stock=True)
    assert (on_hand(p), on_hand(p, east)) == (4, 6)
    assert reserved(p) == 0 and items_of(order)[0].qty_returned == 3


def test_refund_takes_unshipped_units_first():
    """3 ordered, 1 shipped: refunding 3 releases 2 reservations and returns 1 unit."""
    p = product(stock=5)
    east = InventorySourceFactory(code="east")
    ProductInventory.objects.create(product=p, source=east, qty=5)
    order = invoiced_order((p, 3))
    item = items_of(order)[0]
    ship(order, east, (item.id, 1))
    assert reserved(p) == 2
    refund_lines(order, (item.id, 2), return_to_stock=True)
    assert reserved(p) == 0 and on_hand(p, east) == 4 and on_hand(p) == 5
    assert items_of(order)[0].qty_returned == 0
    refund_lines(order, (item.id, 1), return_to_stock=True)
    assert on_hand(p, east) == 5 and on_hand(p) == 5
    assert items_of(order)[0].qty_returned == 1
    assert reload(order).status == OrderStatus.CLOSED


def test_virtual_lines_move_no_stock():
    s, v = product(stock=5), product("9.00", type_="virtual")
    order = invoiced_order((s, 1), (v, 2))
    iv = items_of(order)[1]
    before = list(ProductInventory.objects.order_by("id").values_list("qty", flat=True))
    refund_lines(order, (iv.id, 2), return_to_stock=True)
    assert list(ProductInventory.objects.order_by("id").values_list("qty", flat=True)) == before
    assert reserved(s) == 1


# ---------------------------------------------------------------- refusals (each writes nothing, both endpoints)

@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_nothing_invoiced(api, endpoint):
    order = order_with((product(), 2))
    item = items_of(order)[0]
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"items": lines((item.id, 1))}, endpoint), 409, "order_not_refundable",
                     says="not been invoiced")
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"adjustment_refund": "1.00"}, endpoint), 409, "order_not_refundable")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(("make", "word"), [(canceled_order, "canceled"), (closed_order, "closed")])
def test_closed_and_canceled(api, endpoint, make, word):
    order = make()
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"adjustment_refund": "1.00"}, endpoint), 409, "order_not_refundable",
                     says=word)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_fraud(api, endpoint):
    order = fraud_order(invoiced=True)
    item = items_of(order)[0]
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"items": lines((item.id, 1))}, endpoint), 409, "order_not_refundable",
                     says="fraud")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_item_quantity_above_what_is_refundable(api, endpoint):
    order = order_with((product(), 3))
    item = items_of(order)[0]
    invoice_create(order_id=order.id, items=[LineQty(item.id, 2)], actor=None)
    with nothing_written(api, order.id):
        body = assert_error(post(api, order.id, {"items": lines((item.id, 3))}, endpoint), 409,
                            "refund_exceeds_refundable", field="items.0.quantity")
    assert item.sku in body["message"]
    refund_lines(order, (item.id, 1))
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"items": lines((item.id, 2))}, endpoint), 409,
                     "refund_exceeds_refundable", field="items.0.quantity")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_uninvoiced_line_cannot_be_refunded(api, endpoint):
    a, b = product(), product()
    order = order_with((a, 1), (b, 1))
    ia, ib = items_of(order)
    invoice_create(order_id=order.id, items=[LineQty(ia.id, 1)], actor=None)
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"items": lines((ib.id, 1))}, endpoint), 409, "refund_exceeds_refundable",
                     field="items.0.quantity")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_shipping_above_what_was_invoiced(api, endpoint):
    order = invoiced_order((product(), 1))
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"shipping_amount": "5.01"}, endpoint), 409, "refund_exceeds_refundable",
                     field="shipping_amount", says="shipping")
    refund_lines(order, shipping_amount=D("3.00"))
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"shipping_amount": "2.01"}, endpoint), 409, "refund_exceeds_refundable",
                     says="shipping")
    assert post(api, order.id, {"shipping_amount": "2.00"}, endpoint).status_code in (200, 201)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_shipping_not_yet_invoiced_cannot_be_refunded(api, endpoint):
    """Free-shipping coupons aside, shipping is billed on the first invoice; an order with no shipping
    charge (pickup) has none to give back."""
    order = invoiced_order((product(), 1), shipping="free")
    assert order.shipping_total == D("0.00")
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"shipping_amount": "0.01"}, endpoint), 409, "refund_exceeds_refundable",
                     says="shipping")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_final_total_above_what_is_left(api, odd_order, endpoint):
    line = items_of(odd_order)[0]
    left = odd_order.total_invoiced  # 14.11
    with nothing_written(api, odd_order.id):
        assert_error(post(api, odd_order.id, {"adjustment_refund": str(left + D("0.01"))}, endpoint), 409,
                     "refund_exceeds_refundable", says="total")
    with nothing_written(api, odd_order.id):
        assert_error(post(api, odd_order.id, {"items": lines((line.id, 3)), "shipping_amount": "5.00",
                                              "adjustment_refund": "0.01"}, endpoint),
                     409, "refund_exceeds_refundable", says="total")
    refund_lines(odd_order, (line.id, 1))  # 3.04 back
    with nothing_written(api, odd_order.id):
        assert_error(post(api, odd_order.id, {"adjustment_refund": str(left - D("3.04") + D("0.01"))}, endpoint),
                     409, "refund_exceeds_refundable", says="total")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("body", [{}, {"items": []}, {"adjustment_fee": "1.00"},
                                  {"shipping_amount": "0.00", "adjustment_refund": "0.00"}])
def test_refund_empty(api, endpoint, body):
    order = invoiced_order((product(), 1))
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, body, endpoint), 409, "refund_empty")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("fee", ["10.00", "10.01", "50.00"])
def test_fee_eating_the_whole_refund_is_empty(api, endpoint, fee):
    order = invoiced_order((product("10.00"), 1))
    item = items_of(order)[0]
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"items": lines((item.id, 1)), "adjustment_fee": fee}, endpoint), 409,
                     "refund_empty")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_line_of_another_order(api, endpoint):
    order, other = invoiced_order((product(), 1)), invoiced_order((product(), 1))
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"items": lines((items_of(other)[0].id, 1))}, endpoint), 400,
                     "order_item_not_found", field="items.0.order_item_id")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(("body", "field"), [
    ({"items": [{"order_item_id": 0, "quantity": 0}]}, "items.0.quantity"),
    ({"items": [{"order_item_id": 1, "quantity": -1}]}, "items.0.quantity"),
    ({"shipping_amount": "-1.00"}, "shipping_amount"),
    ({"adjustment_refund": "-0.01"}, "adjustment_refund"),
    ({"adjustment_fee": "-5"}, "adjustment_fee"),
    ({"adjustment_refund": "1.005"}, "adjustment_refund"),
    ({"adjustment_refund": "abc"}, "adjustment_refund"),
    ({"adjustment_refund": "1e20"}, "adjustment_refund"),
    ({"return_to_stock": "maybe"}, "return_to_stock"),
])
def test_invalid_bodies(api, endpoint, body, field):
    order = invoiced_order((product(), 1))
    if "items" in body:
        body = {"items": [{**body["items"][0], "order_item_id": items_of(order)[0].id}]}
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, body, endpoint), 400, "validation_error", field=field)


@pytest.mark.parametrize("field", ["shipping_amount", "adjustment_refund", "adjustment_fee"])
def test_service_refuses_negative_amounts(field):
    """Admin views call the service directly: a negative amount must not slip past the limits."""
    order = invoiced_order((product(), 1))
    item = items_of(order)[0]
    with nothing_written(), pytest.raises(Exception) as err:
        refund_lines(order, (item.id, 1), **{field: D("-1.00")})
    assert err.value.code == "validation_error" and err.value.status == 400
    assert err.value.field == field


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_check_order_body_before_state(api, endpoint):
    """An unknown line or an invalid amount on a closed / canceled order: 400, not 409."""
    order = closed_order()
    other = invoiced_order((product(), 1))
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"items": lines((items_of(other)[0].id, 1))}, endpoint), 400,
                     "order_item_not_found")
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"adjustment_fee": "-1"}, endpoint), 400, "validation_error")
    canceled = canceled_order()
    with nothing_written(api, canceled.id):
        assert_error(post(api, canceled.id, {"items": lines((items_of(other)[0].id, 1))}, endpoint), 400,
                     "order_item_not_found")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_check_order_state_before_amounts(api, endpoint):
    order = fraud_order(invoiced=True)
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"adjustment_refund": "99999.00"}, endpoint), 409, "order_not_refundable")
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {}, endpoint), 409, "order_not_refundable")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_check_order_item_limit_before_total(api, endpoint):
    order = invoiced_order((product(), 1))
    item = items_of(order)[0]
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"items": lines((item.id, 2)), "adjustment_fee": "100.00"}, endpoint), 409,
                     "refund_exceeds_refundable", field="items.0.quantity")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_unknown_order(api, endpoint):
    with nothing_written():
        assert_error(post(api, 987654321, {"adjustment_refund": "1.00"}, endpoint), 404, "not_found")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_permission_required(staff_api, api, endpoint):
    order = invoiced_order((product(), 1))
    for client in (staff_api(), staff_api("sales.view_order", "sales.add_invoice", "sales.cancel_order")):
        with nothing_written(api, order.id):
            assert_error(post(client, order.id, {"adjustment_refund": "1.00"}, endpoint), 403, "permission_denied")
    assert Refund.objects.count() == 0
    ok = post(staff_api("sales.add_refund"), order.id, {"adjustment_refund": "1.00"}, endpoint)
    assert ok.status_code == (201 if endpoint == "refunds" else 200)
