"""Cancel Order (SPEC §5, amounts §1, coupon use §4): what it cancels, releases and gives back."""

from decimal import ROUND_HALF_UP, Decimal

import pytest

from carts.models import Coupon, CouponUsage
from catalog.models import Product, ProductInventory
from sales.models import OrderStatus
from sales.services.canceling import order_cancel
from sales.services.common import LineQty
from sales.services.invoicing import invoice_create
from sales.services.shipping import shipment_create
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


def share(amount: Decimal, q: int, n: int) -> Decimal:
    return (amount * q / n).quantize(D("0.01"), rounding=ROUND_HALF_UP)


def post(api, order_id):
    return api.post(f"/api/admin/orders/{order_id}/cancel")


def reserved(p) -> int:
    return Product.objects.get(id=p.id).qty_reserved


def on_hand(p) -> int:
    return ProductInventory.objects.get(product=p, source=default_source()).qty


# ---------------------------------------------------------------- what cancel does

def test_cancel_everything(api, admin_user):
    a, b, v = product("10.00", stock=5), product("3.33", stock=5), product("2.00", type_="virtual")
    order = order_with((a, 2), (b, 3), (v, 1))
    r = post(api, order.id)
    assert r.status_code == 200, r.json()
    d = r.json()
    assert d["status"] == "canceled" and d["status_id"] == 5
    assert [i["qty_canceled"] for i in d["items"]] == [2, 3, 1]
    assert [i["qty_to_cancel"] for i in d["items"]] == [0, 0, 0]
    assert d["total_canceled"] == d["grand_total"] == "36.99"  # 20 + 9.99 + 2 + 5 shipping
    assert d["total_due"] == "0.00" and d["total_invoiced"] == "0.00"
    assert d["can"] == {"invoice": False, "ship": False, "refund": False, "cancel": False, "edit": False,
                        "hold": False, "release_hold": False}
    assert (reserved(a), reserved(b)) == (0, 0)
    assert (on_hand(a), on_hand(b)) == (5, 5)  # nothing left the warehouse
    event = [e for e in api.get(f"/api/admin/orders/{order.id}/history").json() if e["type"] == "canceled"][0]
    assert event["actor"]["id"] == admin_user.id
    assert event["data"]["fully"] is True and event["data"]["amount"] == "36.99"
    assert [x["quantity"] for x in event["data"]["items"]] == [2, 3, 1]


def test_cancel_after_partial_invoice_cancels_only_what_is_left():
    """3 × 3.33 (15 % off, 7.25 % tax), 1 invoiced: 2 canceled; invoices + canceled = grand total."""
    p = product("3.33", tax="7.25", stock=5)
    order = order_with((p, 3), coupon_percent="15")
    line = items_of(order)[0]
    invoice_create(order_id=order.id, items=[LineQty(line.id, 1)], actor=None)
    order_cancel(order_id=order.id, actor=None)
    item = items_of(order)[0]
    assert (item.qty_invoiced, item.qty_canceled, item.qty_to_ship, item.qty_to_cancel) == (1, 2, 1, 0)
    order = reload(order)
    assert order.status == OrderStatus.PROCESSING  # one billed unit still to ship
    # The cancel completes the line, so it takes what the invoice left of each amount.
    left = [amount - share(amount, 1, 3) for amount in (line.subtotal, line.discount_amount, line.tax_amount)]
    assert order.total_canceled == left[0] - left[1] + left[2] == D("6.07")
    assert order.total_invoiced + order.total_canceled == order.grand_total
    assert order.total_due == D("0.00")
    assert reserved(p) == 1  # the billed unit still waits to ship
    shipment_create(order_id=order.id, inventory_source_id=default_source().id, items=None, actor=None)
    assert reload(order).status == OrderStatus.COMPLETED
    assert reserved(p) == 0 and on_hand(p) == 4


def test_cancel_after_partial_shipment_cancels_only_unshipped_unbilled_units():
    p = product(stock=5)
    order = order_with((p, 3))
    line = items_of(order)[0]
    shipment_create(order_id=order.id, inventory_source_id=default_source().id, items=[LineQty(line.id, 1)],
                    actor=None)
    order_cancel(order_id=order.id, actor=None)
    item = items_of(order)[0]
    assert (item.qty_shipped, item.qty_canceled, item.qty_to_invoice, item.qty_to_ship) == (1, 2, 1, 0)
    assert reserved(p) == 0 and on_hand(p) == 4
    order = reload(order)
    assert order.status == OrderStatus.PROCESSING
    invoice = invoice_all(order)
    assert invoice.shipping_total == D("5.00")  # never billed before: the first invoice carries it
    order = reload(order)
    assert order.total_invoiced + order.total_canceled == order.grand_total
    assert order.status == OrderStatus.COMPLETED


def test_cancel_with_one_line_fully_invoiced_and_another_untouched():
    a, b = product("10.00"), product("20.00")
    order = order_with((a, 1), (b, 2))
    ia, ib = items_of(order)
    invoice_create(order_id=order.id, items=[LineQty(ia.id, 1)], actor=None)
    order_cancel(order_id=order.id, actor=None)
    order = reload(order)
    assert [i.qty_canceled for i in items_of(order)] == [0, 2]
    assert order.total_canceled == D("40.00")  # shipping went on the invoice
    assert order.total_invoiced == D("15.00")
    assert order.total_invoiced + order.total_canceled == order.grand_total


def test_virtual_lines_are_canceled_without_stock_moves():
    s, v = product(stock=5), product("4.00", type_="virtual")
    order = order_with((s, 1), (v, 2))
    si = items_of(order)[0]
    shipment_create(order_id=order.id, inventory_source_id=default_source().id, items=[LineQty(si.id, 1)],
                    actor=None)
    order_cancel(order_id=order.id, actor=None)
    assert [i.qty_canceled for i in items_of(order)] == [0, 2]
    assert reload(order).total_canceled == D("8.00")


def test_full_cancel_gives_the_coupon_use_back():
    p = product()
    order = order_with((p, 1), coupon_percent="10")
    coupon = Coupon.objects.get(id=order.coupon_id)
    assert coupon.times_used == 1 and CouponUsage.objects.filter(order_id=order.id).exists()
    order_cancel(order_id=order.id, actor=None)
    assert Coupon.objects.get(id=coupon.id).times_used == 0
    assert not CouponUsage.objects.filter(order_id=order.id).exists()


def test_partial_cancel_keeps_the_coupon_use():
    p = product()
    order = order_with((p, 2), coupon_percent="10")
    line = items_of(order)[0]
    invoice_create(order_id=order.id, items=[LineQty(line.id, 1)], actor=None)
    order_cancel(order_id=order.id, actor=None)
    assert Coupon.objects.get(id=order.coupon_id).times_used == 1
    assert CouponUsage.objects.filter(order_id=order.id).exists()


def test_the_given_back_use_can_be_used_again():
    from carts.services.carts import cart_coupon_apply
    from tests.carts.helpers import ready_cart

    p = product()
    order = order_with((p, 1), coupon_percent="10")
    Coupon.objects.filter(id=order.coupon_id).update(usage_limit=1)
    code = order.coupon_code
    cart = ready_cart((p, 1))
    with pytest.raises(Exception) as err:
        cart_coupon_apply(cart_id=cart.id, code=code)
    assert err.value.code == "coupon_not_applicable"
    order_cancel(order_id=order.id, actor=None)
    cart_coupon_apply(cart_id=cart.id, code=code)


def test_cancel_of_a_gateway_order_awaiting_payment(api):
    order = order_with((product(), 1), payment="paypal_standard")
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert post(api, order.id).json()["status"] == "canceled"


def test_staff_with_the_permission_may_cancel(staff_api):
    order = order_with((product(), 1))
    assert post(staff_api("sales.cancel_order"), order.id).status_code == 200


# ---------------------------------------------------------------- refusals (each writes nothing)

def test_nothing_left_to_cancel_when_everything_is_invoiced(api):
    order = order_with((product(), 2))
    invoice_all(order)
    with nothing_written(api, order.id):
        assert_error(post(api, order.id), 409, "order_not_cancelable", says="nothing left to cancel")


def test_nothing_left_to_cancel_when_everything_is_shipped(api):
    order = order_with((product(), 2))
    shipment_create(order_id=order.id, inventory_source_id=default_source().id, items=None, actor=None)
    with nothing_written(api, order.id):
        assert_error(post(api, order.id), 409, "order_not_cancelable", says="nothing left to cancel")


def test_nothing_left_when_billed_and_sent_units_cover_every_line(api):
    """One unit invoiced, the other shipped: each is billed or sent, so nothing is cancelable."""
    order = order_with((product(), 2))
    line = items_of(order)[0]
    invoice_create(order_id=order.id, items=[LineQty(line.id, 1)], actor=None)
    shipment_create(order_id=order.id, inventory_source_id=default_source().id, items=[LineQty(line.id, 1)],
                    actor=None)
    assert items_of(order)[0].qty_to_cancel == 1  # min(to_invoice 1, to_ship 1)
    order_cancel(order_id=order.id, actor=None)
    with nothing_written(api, order.id):
        assert_error(post(api, order.id), 409, "order_not_cancelable")


@pytest.mark.parametrize(("make", "word"), [(canceled_order, "already canceled"), (closed_order, "closed"),
                                            (fraud_order, "fraud")])
def test_blocked_statuses(api, make, word):
    order = make()
    with nothing_written(api, order.id):
        assert_error(post(api, order.id), 409, "order_not_cancelable", says=word)


def test_fraud_with_everything_cancelable_is_still_refused(api):
    p = product(stock=5)
    order = fraud_order((p, 2))
    assert items_of(order)[0].qty_to_cancel == 2
    with nothing_written(api, order.id):
        assert_error(post(api, order.id), 409, "order_not_cancelable", says="fraud")
    assert reserved(p) == 2  # a fraud order keeps its stock reserved


def test_unknown_order(api):
    with nothing_written():
        assert_error(post(api, 987654321), 404, "not_found")


def test_permission_required(staff_api, api):
    order = order_with((product(), 1))
    for client in (staff_api(), staff_api("sales.view_order", "sales.change_order", "sales.add_invoice")):
        with nothing_written(api, order.id):
            assert_error(post(client, order.id), 403, "permission_denied")


def test_permission_checked_before_existence(staff_api):
    assert_error(post(staff_api("sales.view_order"), 987654321), 403, "permission_denied")
