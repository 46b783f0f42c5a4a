"""Create Invoice (SPEC §5, amounts §1): every rule and every refusal, each refusal writing nothing."""

from decimal import ROUND_HALF_UP, Decimal

import pytest

from carts.models import GATEWAY_PAYMENT_METHODS
from sales.models import Invoice, OrderStatus, Payment
from sales.services.canceling import order_cancel
from tests.sales.lifecycle_support import (  # noqa: F401 - fast_passwords is a fixture
    assert_error,
    canceled_order,
    closed_order,
    default_source,
    fast_passwords,
    fraud_order,
    invoice_all,
    invoice_lines,
    items_of,
    nothing_written,
    order_with,
    product,
    reload,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]

D = Decimal


def share(amount: Decimal, q: int, n: int) -> Decimal:
    return (amount * q / n).quantize(D("0.01"), rounding=ROUND_HALF_UP)


def url(order_id) -> str:
    return f"/api/admin/orders/{order_id}/invoices"


def post(api, order_id, body=None):
    return api.post(url(order_id), body if body is not None else {}, format="json")


# ---------------------------------------------------------------- what an invoice records

def test_no_body_invoices_everything_left(api, admin_user):
    a, b = product("10.00"), product("3.33")
    order = order_with((a, 3), (b, 2))
    r = post(api, order.id)
    assert r.status_code == 201, r.json()
    doc = r.json()
    assert set(doc) >= {"id", "number", "order_id", "order_number", "state", "created_at", "created_by", "items",
                        "subtotal", "tax_total", "discount_total", "shipping_total", "grand_total"}
    assert doc["order_id"] == order.id and doc["order_number"] == order.number
    assert doc["state"] == "paid"
    assert doc["created_by"] == {"id": admin_user.id, "email": admin_user.email, "name": admin_user.name}
    assert [(x["sku"], x["quantity"]) for x in doc["items"]] == [(a.sku, 3), (b.sku, 2)]
    assert doc["subtotal"] == "36.66" and doc["shipping_total"] == "5.00" and doc["grand_total"] == "41.66"
    for line in doc["items"]:
        assert set(line) == {"order_item_id", "sku", "name", "quantity", "price", "subtotal", "tax_amount",
                             "discount_amount", "total"}
    d = api.get(f"/api/admin/orders/{order.id}").json()
    assert d["total_invoiced"] == "41.66" and d["total_due"] == "0.00"
    assert [i["qty_invoiced"] for i in d["items"]] == [3, 2]
    assert [i["qty_to_invoice"] for i in d["items"]] == [0, 0]
    assert d["status"] == "processing"  # invoiced, nothing shipped yet
    assert d["can"] == {"invoice": False, "ship": True, "refund": True, "cancel": False, "edit": True,
                        "hold": True, "release_hold": False}
    assert [x["number"] for x in d["invoices"]] == [doc["number"]]


def test_empty_object_and_missing_items_mean_everything(api):
    order = order_with((product(), 2))
    r = api.post(url(order.id), format="json")  # no body at all
    assert r.status_code == 201, r.json()
    assert r.json()["items"][0]["quantity"] == 2


def test_invoice_records_a_paid_payment_and_a_history_event(api, admin_user):
    order = order_with((product("10.00"), 2))
    item = items_of(order)[0]
    r = post(api, order.id, {"items": [{"order_item_id": item.id, "quantity": 1}]})
    assert r.status_code == 201
    doc = r.json()
    payment = Payment.objects.get(order=order)
    assert payment.amount == D(doc["grand_total"]) and payment.state == "captured"
    assert payment.method == "cashondelivery" and payment.reference
    d = api.get(f"/api/admin/orders/{order.id}").json()
    assert d["payments"][0]["amount"] == doc["grand_total"]
    events = [e for e in api.get(f"/api/admin/orders/{order.id}/history").json() if e["type"] == "invoiced"]
    assert len(events) == 1
    assert events[0]["actor"]["id"] == admin_user.id
    assert events[0]["data"]["invoice_id"] == doc["id"] and events[0]["data"]["number"] == doc["number"]
    assert events[0]["data"]["items"] == [{"order_item_id": item.id, "sku": item.sku, "quantity": 1}]


def test_each_invoice_has_its_own_sequential_number(api):
    order = order_with((product(), 3))
    item = items_of(order)[0]
    numbers = [post(api, order.id, {"items": [{"order_item_id": item.id, "quantity": 1}]}).json()["number"]
               for _ in range(3)]
    assert [int(n) for n in numbers] == list(range(int(numbers[0]), int(numbers[0]) + 3))


def test_partial_then_rest_adds_up_to_the_line_exactly():
    """3.33 × 3 with a 15 % coupon and 7.25 % tax: pro rata first, the last invoice takes what is left."""
    p = product("3.33", tax="7.25")
    order = order_with((p, 3), coupon_percent="15")
    line = items_of(order)[0]
    assert (line.subtotal, line.discount_amount, line.tax_amount) == (D("9.99"), D("1.50"), D("0.62"))
    first = invoice_lines(order, (line.id, 1))
    item1 = first.items.get()
    assert item1.subtotal == share(line.subtotal, 1, 3) == D("3.33")
    assert item1.discount_amount == share(line.discount_amount, 1, 3) == D("0.50")
    assert item1.tax_amount == share(line.tax_amount, 1, 3) == D("0.21")
    assert first.shipping_total == D("5.00")
    rest = invoice_all(order)
    item2 = rest.items.get()
    assert item2.quantity == 2 and rest.shipping_total == D("0.00")
    assert item1.subtotal + item2.subtotal == line.subtotal
    assert item1.discount_amount + item2.discount_amount == line.discount_amount
    assert item1.tax_amount + item2.tax_amount == line.tax_amount
    assert item1.total + item2.total == line.total
    order = reload(order)
    assert first.grand_total + rest.grand_total == order.grand_total == order.total_invoiced


def test_one_unit_at_a_time_last_takes_what_is_left():
    p = product("3.33", tax="7.25")
    order = order_with((p, 3), coupon_percent="15")
    line = items_of(order)[0]
    docs = [invoice_lines(order, (line.id, 1)).items.get() for _ in range(3)]
    assert [x.tax_amount for x in docs] == [D("0.21"), D("0.21"), D("0.20")]
    assert sum(x.subtotal for x in docs) == line.subtotal
    assert sum(x.discount_amount for x in docs) == line.discount_amount
    assert sum(x.total for x in docs) == line.total


def test_rounding_is_half_up_not_half_even():
    """Tax 0.05 over 2 units: one unit is 0.025 → 0.03 (ROUND_HALF_UP), the last unit takes 0.02."""
    p = product("1.00", tax="2.5")
    order = order_with((p, 2))
    line = items_of(order)[0]
    assert line.tax_amount == D("0.05")
    first = invoice_lines(order, (line.id, 1)).items.get()
    second = invoice_all(order).items.get()
    assert (first.tax_amount, second.tax_amount) == (D("0.03"), D("0.02"))


def test_shipping_is_billed_on_the_first_invoice_only():
    a, b = product("10.00"), product("20.00")
    order = order_with((a, 1), (b, 1))
    ia, ib = items_of(order)
    first = invoice_lines(order, (ib.id, 1))
    second = invoice_lines(order, (ia.id, 1))
    assert (first.shipping_total, second.shipping_total) == (D("5.00"), D("0.00"))
    assert first.grand_total == D("25.00") and second.grand_total == D("10.00")
    order = reload(order)
    assert order.shipping_invoiced == D("5.00") and order.total_invoiced == order.grand_total


def test_lines_with_nothing_left_are_left_out_of_the_document():
    a, b = product(), product()
    order = order_with((a, 2), (b, 1))
    ia, ib = items_of(order)
    invoice_lines(order, (ia.id, 2))
    rest = invoice_all(order)
    assert [(x.order_item_id, x.quantity) for x in rest.items.all()] == [(ib.id, 1)]


def test_virtual_lines_are_invoiced_like_any_line():
    s, v = product("10.00"), product("4.99", type_="virtual")
    order = order_with((s, 1), (v, 3))
    invoice = invoice_all(order)
    assert sorted(x.quantity for x in invoice.items.all()) == [1, 3]
    assert reload(order).total_invoiced == reload(order).grand_total


def test_invoice_after_a_partial_cancel_settles_the_order_exactly():
    """Ship 1 of 3 (so 2 can be canceled), cancel, invoice the shipped unit: invoices + canceled = grand total."""
    from sales.services.shipping import shipment_create

    p = product("3.33", tax="7.25")
    order = order_with((p, 3), coupon_percent="15")
    line = items_of(order)[0]
    shipment_create(order_id=order.id, inventory_source_id=default_source().id, items=[_lq(line.id, 1)], actor=None)
    order_cancel(order_id=order.id, actor=None)
    order = reload(order)
    assert items_of(order)[0].qty_canceled == 2
    assert order.total_canceled == share(line.total, 2, 3)  # the canceled units' share; shipping still billable
    invoice = invoice_all(order)
    item = invoice.items.get()
    assert item.quantity == 1 and invoice.shipping_total == D("5.00")
    assert item.subtotal == line.subtotal - share(line.subtotal, 2, 3)  # completes the line: takes what is left
    order = reload(order)
    assert order.total_invoiced + order.total_canceled == order.grand_total
    assert order.total_due == D("0.00") and order.status == OrderStatus.COMPLETED


def test_status_moves_pending_to_processing_to_completed(api):
    order = order_with((product(), 2))
    assert order.status == OrderStatus.PENDING
    item = items_of(order)[0]
    invoice_lines(order, (item.id, 1))
    assert reload(order).status == OrderStatus.PROCESSING
    invoice_all(order)
    assert reload(order).status == OrderStatus.PROCESSING  # still to ship
    r = api.post(f"/api/admin/orders/{order.id}/shipments", {"inventory_source_id": default_source().id},
                 format="json")
    assert r.status_code == 201
    assert reload(order).status == OrderStatus.COMPLETED


def test_staff_with_the_permission_may_invoice(staff_api):
    order = order_with((product(), 1))
    client = staff_api("sales.add_invoice")
    assert post(client, order.id).status_code == 201


# ---------------------------------------------------------------- refusals (each writes nothing)

def test_nothing_left_to_invoice(api):
    order = order_with((product(), 2))
    invoice_all(order)
    with nothing_written(api, order.id):
        assert_error(post(api, order.id), 409, "order_not_invoiceable", says="nothing left")


def test_canceled_order_is_not_invoiceable(api):
    order = canceled_order()
    with nothing_written(api, order.id):
        assert_error(post(api, order.id), 409, "order_not_invoiceable", says="canceled")


def test_closed_order_is_not_invoiceable(api):
    order = closed_order()
    with nothing_written(api, order.id):
        assert_error(post(api, order.id), 409, "order_not_invoiceable", says="closed")


def test_fraud_order_is_not_invoiceable(api):
    order = fraud_order()
    with nothing_written(api, order.id):
        assert_error(post(api, order.id), 409, "order_not_invoiceable", says="fraud")


@pytest.mark.parametrize("method", sorted(GATEWAY_PAYMENT_METHODS))
def test_gateway_orders_cannot_be_invoiced_by_staff(api, method):
    assert method in {"paypal_standard", "paylink"}
    order = order_with((product(), 1), payment=method)
    assert order.status == OrderStatus.PENDING_PAYMENT
    with nothing_written(api, order.id):
        assert_error(post(api, order.id), 409, "payment_method_not_invoiceable", says="gateway")
    item = items_of(order)[0]
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"items": [{"order_item_id": item.id, "quantity": 1}]}), 409,
                     "payment_method_not_invoiceable")
    assert api.get(f"/api/admin/orders/{order.id}").json()["can"]["invoice"] is False


def test_quantity_above_what_is_left(api):
    order = order_with((product(), 3))
    item = items_of(order)[0]
    with nothing_written(api, order.id):
        body = assert_error(post(api, order.id, {"items": [{"order_item_id": item.id, "quantity": 4}]}), 409,
                            "quantity_exceeds_remaining", field="items.0.quantity")
    assert "3" in body["message"]
    invoice_lines(order, (item.id, 2))
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"items": [{"order_item_id": item.id, "quantity": 2}]}), 409,
                     "quantity_exceeds_remaining", field="items.0.quantity", says="only 1 left")


def test_one_bad_line_refuses_the_whole_invoice(api):
    a, b = product(), product()
    order = order_with((a, 1), (b, 1))
    ia, ib = items_of(order)
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"items": [{"order_item_id": ia.id, "quantity": 1},
                                                   {"order_item_id": ib.id, "quantity": 2}]}),
                     409, "quantity_exceeds_remaining", field="items.1.quantity")


def test_quantity_counts_canceled_units_as_gone(api):
    """Ship 1 of 3, cancel (2 canceled): only the shipped unit is left to invoice."""
    from sales.services.shipping import shipment_create

    order = order_with((product(), 3))
    item = items_of(order)[0]
    shipment_create(order_id=order.id, inventory_source_id=default_source().id, items=[_lq(item.id, 1)], actor=None)
    order_cancel(order_id=order.id, actor=None)
    assert items_of(order)[0].qty_canceled == 2
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"items": [{"order_item_id": item.id, "quantity": 2}]}), 409,
                     "quantity_exceeds_remaining")
    assert post(api, order.id, {"items": [{"order_item_id": item.id, "quantity": 1}]}).status_code == 201


def _lq(item_id, qty):
    from sales.services.common import LineQty

    return LineQty(item_id, qty)


def test_line_of_another_order(api):
    order, other = order_with((product(), 1)), order_with((product(), 1))
    foreign = items_of(other)[0]
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"items": [{"order_item_id": foreign.id, "quantity": 1}]}), 400,
                     "order_item_not_found", field="items.0.order_item_id")
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"items": [{"order_item_id": 987654321, "quantity": 1}]}), 400,
                     "order_item_not_found", field="items.0.order_item_id")


@pytest.mark.parametrize("quantity", [0, -1, "two", 1.5, None, 10**12])
def test_quantity_must_be_a_whole_number_of_at_least_one(api, quantity):
    order = order_with((product(), 2))
    item = items_of(order)[0]
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"items": [{"order_item_id": item.id, "quantity": quantity}]}), 400,
                     "validation_error", field="items.0.quantity")


@pytest.mark.parametrize("body", [{"items": "all"}, {"items": [{"quantity": 1}]}, {"items": [{}]}, [1, 2]])
def test_malformed_bodies(api, body):
    order = order_with((product(), 2))
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, body), 400, "validation_error")


def test_empty_items_list_is_invalid(api):
    """``items: []`` is neither "everything" (omit items for that) nor anything to bill."""
    order = order_with((product(), 2))
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"items": []}), 400, "validation_error", field="items")


def test_same_line_twice_is_invalid(api):
    order = order_with((product(), 2))
    item = items_of(order)[0]
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"items": [{"order_item_id": item.id, "quantity": 1},
                                                   {"order_item_id": item.id, "quantity": 1}]}),
                     400, "validation_error")


def test_service_refuses_quantities_below_one():
    """Admin views and commands call the service directly: it refuses what the serializer would."""
    from config.errors import InvalidInput

    order = order_with((product(), 2))
    item = items_of(order)[0]
    for qty in (0, -1):
        with nothing_written(), pytest.raises(InvalidInput) as err:
            invoice_lines(order, (item.id, qty))
        assert err.value.code == "validation_error" and err.value.status == 400


def test_check_order_body_before_state(api):
    """400 (ids and shape of the body) answers before 409 (the order's state)."""
    order = canceled_order()
    other = order_with((product(), 1))
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"items": [{"order_item_id": items_of(other)[0].id, "quantity": 1}]}),
                     400, "order_item_not_found")
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"items": [{"order_item_id": items_of(order)[0].id, "quantity": 0}]}),
                     400, "validation_error")


def test_check_order_state_before_quantities(api):
    order = fraud_order()
    item = items_of(order)[0]
    with nothing_written(api, order.id):
        assert_error(post(api, order.id, {"items": [{"order_item_id": item.id, "quantity": 99}]}), 409,
                     "order_not_invoiceable", says="fraud")


def test_check_order_path_before_body(api):
    assert_error(post(api, 987654321, {"items": "nonsense"}), 404, "not_found")


def test_unknown_order(api):
    with nothing_written():
        assert_error(post(api, 987654321), 404, "not_found")


def test_permission_required(staff_api, api):
    order = order_with((product(), 1))
    for client in (staff_api(), staff_api("sales.view_order", "sales.add_shipment", "sales.add_refund")):
        with nothing_written(api, order.id):
            assert_error(post(client, order.id), 403, "permission_denied")
    assert Invoice.objects.count() == 0


def test_permission_checked_before_existence(staff_api):
    assert_error(post(staff_api("sales.view_order"), 987654321), 403, "permission_denied")


def test_anonymous_is_401(anon):
    order = order_with((product(), 1))
    with nothing_written():
        r = post(anon, order.id)
    assert_error(r, 401, "not_authenticated")
    assert r["WWW-Authenticate"].startswith("Bearer")
