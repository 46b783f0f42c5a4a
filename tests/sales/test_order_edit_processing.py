"""Edit after invoicing (SPEC §12): a processing order's lines grow by new lines and lose open units
exactly as Cancel does; existing lines never change their amounts; invoicing the balance settles the
order to the cent. Every refusal writes nothing."""


import pytest

from carts.models import Coupon
from catalog.models import Product
from sales.models import OrderEvent, OrderItem, OrderStatus
from sales.services.common import LineQty
from sales.services.editing import EditLine, order_edit
from sales.services.holding import order_hold
from sales.services.shipping import shipment_create
from tests.catalog.factories import TaxRateFactory
from tests.sales.lifecycle_support import (
    D,
    assert_error,
    default_source,
    fast_passwords,  # noqa: F401
    invoice_all,
    invoice_lines,
    items_of,
    nothing_written,
    order_with,
    product,
    reload,
)

pytestmark = pytest.mark.django_db

AMOUNTS = ("qty_ordered", "price", "subtotal", "tax_amount", "discount_amount", "total", "tax_percent")


def patch(api, order, body, **params):
    query = "?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""
    return api.patch(f"/api/admin/orders/{order.id}{query}", body, format="json")


def amounts(order):
    return [tuple(getattr(i, f) for f in AMOUNTS) for i in items_of(order)]


def reserved(p: Product) -> int:
    return Product.objects.get(id=p.id).qty_reserved


def settled(order) -> None:
    """Invoice (and ship) whatever is left, then the order's money adds up to the cent."""
    order = reload(order)
    if any(i.qty_to_invoice for i in items_of(order)):
        invoice_all(order)
    if any(i.qty_to_ship for i in items_of(order)):
        shipment_create(order_id=order.id, inventory_source_id=default_source().id, items=None, actor=None)
    order = reload(order)
    assert order.total_due == 0
    assert order.total_invoiced + order.total_canceled == order.grand_total
    assert sum(i.grand_total for i in order.invoices.all()) == order.total_invoiced
    assert order.status == OrderStatus.COMPLETED


def processing(*lines, **kwargs):
    """An order of ``lines`` with one unit of its first line invoiced: processing."""
    order = order_with(*lines, **kwargs)
    invoice_lines(order, (items_of(order)[0].id, 1))
    order = reload(order)
    assert order.status == OrderStatus.PROCESSING
    return order


def test_raising_a_quantity_adds_a_line_for_the_extra_units_and_keeps_the_old_ones(api):
    a, b = product("10.00", tax="10"), product("4.00")
    order = processing((a, 2), (b, 1))
    before, shipping = amounts(order), order.shipping_total
    ia, ib = items_of(order)
    Product.objects.filter(id=a.id).update(price=D("12.00"))  # the new units take today's price
    r = patch(api, order, {"items": [{"id": ia.id, "quantity": 5}]})
    assert r.status_code == 200, r.json()
    d = r.json()
    assert amounts(order)[:2] == before  # the existing lines are untouched
    new = items_of(order)[2]
    assert (new.product_id, new.qty_ordered, new.price, new.tax_percent) == (a.id, 3, D("12.00"), D("10"))
    assert (new.subtotal, new.tax_amount, new.discount_amount, new.total) == (D("36.00"), D("3.60"), 0, D("39.60"))
    order_after = reload(order)
    assert order_after.shipping_total == shipping  # shipping never changes on a processing order
    assert order_after.grand_total == order.grand_total + D("39.60")
    assert D(d["grand_total"]) == order_after.grand_total
    assert D(d["total_due"]) == order_after.grand_total - order_after.total_invoiced
    assert reserved(a) == 2 - 0 + 3  # two placed (none shipped) plus the three new units
    event = OrderEvent.objects.filter(order=order, type="edited").get()
    assert event.data["grand_total_before"] == str(order.grand_total)
    assert event.data["grand_total_after"] == str(order_after.grand_total)
    assert event.data["canceled"] == []
    assert [(x["order_item_id"], x["product_id"], x["quantity"]) for x in event.data["added"]] == [(new.id, a.id, 3)]
    settled(order)


def test_lowering_a_quantity_cancels_open_units_as_cancel_does(api):
    a = product("10.00", tax="10")
    order = processing((a, 4), coupon_percent="10")
    item = items_of(order)[0]
    assert reserved(a) == 4
    r = patch(api, order, {"items": [{"id": item.id, "quantity": 2}]})
    assert r.status_code == 200, r.json()
    line = items_of(order)[0]
    assert (line.qty_ordered, line.qty_canceled, line.total) == (4, 2, item.total)  # amounts kept
    # the canceled share: 2 of the 3 units not invoiced, by §1's remainder rule
    assert line.subtotal_canceled == D("20.00") and line.discount_canceled == D("2.00")
    assert line.tax_canceled == D("1.80")
    after = reload(order)
    assert after.total_canceled == D("19.80") and after.grand_total == order.grand_total
    assert reserved(a) == 2
    assert after.coupon_code == order.coupon_code and Coupon.objects.get().times_used == 1  # coupon stays
    event = OrderEvent.objects.filter(order=order, type="edited").get()
    assert event.data["canceled"] == [{"order_item_id": item.id, "sku": item.sku, "quantity": 2}]
    assert event.data["added"] == [] and event.data["grand_total_before"] == event.data["grand_total_after"]
    settled(order)


@pytest.mark.parametrize("coupon", [None, "10", "33"])
def test_edits_after_partial_invoices_and_shipments_settle_to_the_cent(api, coupon):
    a, b, c = product("9.99", tax="7.25"), product("3.33", tax="19"), product("0.07")
    order = order_with((a, 3), (b, 5), coupon_percent=coupon)
    ia, ib = items_of(order)
    invoice_lines(order, (ia.id, 1), (ib.id, 2))
    shipment_create(order_id=order.id, inventory_source_id=default_source().id, items=[LineQty(ib.id, 3)], actor=None)
    r = patch(api, order, {"items": [{"id": ia.id, "quantity": 4}, {"id": ib.id, "quantity": 3},
                                     {"product_id": c.id, "quantity": 7}]})
    assert r.status_code == 200, r.json()
    lines = items_of(order)
    assert [(i.product_id, i.qty_ordered, i.qty_canceled) for i in lines] == [
        (a.id, 3, 0), (b.id, 5, 2), (a.id, 1, 0), (c.id, 7, 0)]
    assert [i.discount_amount for i in lines[2:]] == [0, 0]  # new lines: no discount
    invoice_lines(order, (ia.id, 1))  # one more partial invoice after the edit
    settled(order)


def test_zero_cancels_every_open_unit_of_a_line(api):
    a, b = product(), product()
    order = processing((a, 2), (b, 3))
    ib = items_of(order)[1]
    r = patch(api, order, {"items": [{"id": ib.id, "quantity": 0}]})
    assert r.status_code == 200, r.json()
    assert items_of(order)[1].qty_canceled == 3 and reserved(b) == 0
    assert len(items_of(order)) == 2  # a processing order's line is canceled, never deleted
    settled(order)


def test_below_what_can_be_canceled_is_refused_naming_the_minimum(api):
    a = product()
    order = order_with((a, 5))
    item = items_of(order)[0]
    invoice_lines(order, (item.id, 2))
    shipment_create(order_id=order.id, inventory_source_id=default_source().id, items=[LineQty(item.id, 3)],
                    actor=None)
    # effective 5, invoiced 2, shipped 3: only 2 units are open → the minimum is 3
    with nothing_written(api, order.id):
        body = assert_error(patch(api, order, {"items": [{"id": item.id, "quantity": 2}]}), 409,
                            "quantity_below_minimum", field="items.0.quantity")
        assert "down to 3" in body["message"]
        assert_error(patch(api, order, {"items": [{"id": item.id, "quantity": 0}]}), 409, "quantity_below_minimum")
    assert patch(api, order, {"items": [{"id": item.id, "quantity": 3}]}).status_code == 200
    assert items_of(order)[0].qty_canceled == 2


def test_new_lines_take_the_current_price_in_the_order_currency_and_the_tax_address(api):
    from catalog.models import Currency

    Currency.objects.filter(code="EUR").update(rate=D("0.92"), enabled=True)
    a = product("10.00")
    rate = TaxRateFactory(country="US", rate=D("8.875"))
    b = product("19.99")
    Product.objects.filter(id=b.id).update(tax_category=rate.category)
    order = processing((a, 2), currency="EUR")
    assert order.exchange_rate == D("0.92")
    r = patch(api, order, {"items": [{"sku": b.sku, "quantity": 3}]})
    assert r.status_code == 200, r.json()
    new = items_of(order)[1]
    assert new.price == D("18.39")  # ROUND_HALF_UP(19.99 × 0.92, 2)
    assert new.subtotal == D("55.17") and new.tax_percent == D("8.875") and new.tax_amount == D("4.90")
    settled(order)


def test_a_refused_edit_writes_nothing(api):
    a, scarce = product(), product(stock=1)
    order = processing((a, 3))
    item = items_of(order)[0]
    with nothing_written(api, order.id):
        # the cancel of one unit must not land when the added line cannot be reserved
        assert_error(patch(api, order, {"items": [{"id": item.id, "quantity": 2},
                                                  {"product_id": scarce.id, "quantity": 2}]}), 409,
                     "product_out_of_stock")
        assert_error(patch(api, order, {"items": [{"id": item.id, "quantity": 2},
                                                  {"product_id": 999999, "quantity": 1}]}), 400,
                     "product_not_found", field="items.1.product_id")
        assert_error(patch(api, order, {"items": [{"id": 999999, "quantity": 1}]}), 400, "order_item_not_found")
        assert_error(patch(api, order, {"items": [{"id": item.id, "quantity": 2}],
                                        "billing_address": {"city": "x"}}), 400, "validation_error")


def test_a_gateway_paid_processing_order_is_not_editable(api):
    from sales.models import Order
    from sales.services.checkout import checkout_pay

    p = product("12.00")
    r = api.post("/api/admin/orders", {"email": "x@example.com", "items": [{"sku": p.sku, "quantity": 2}],
                                       "payment_method": "paylink"}, format="json")
    order = Order.objects.get(id=r.json()["id"])
    checkout_pay(token=order.checkout_token)
    order = reload(order)
    assert order.status == OrderStatus.PROCESSING
    item = items_of(order)[0]
    with nothing_written(api, order.id):
        assert_error(patch(api, order, {"items": [{"id": item.id, "quantity": 3}]}), 409, "order_not_editable",
                     says="gateway")
    assert api.get(f"/api/admin/orders/{order.id}").json()["can"]["edit"] is False


def test_a_held_processing_order_refuses_item_edits_but_not_details(api):
    order = processing((product(), 2))
    order_hold(order_id=order.id, reason="address check", actor=None)
    item = items_of(order)[0]
    with nothing_written(api, order.id):
        assert_error(patch(api, order, {"items": [{"id": item.id, "quantity": 3}]}), 409, "order_on_hold")
        assert_error(patch(api, order, {"items": [{"id": item.id, "quantity": 3}], "staff_note": "x"}), 409,
                     "order_on_hold")
    assert api.get(f"/api/admin/orders/{order.id}").json()["can"]["edit"] is False
    r = patch(api, order, {"staff_note": "called the customer"})
    assert r.status_code == 200 and r.json()["staff_note"] == "called the customer"


def test_completed_canceled_closed_and_fraud_orders_are_not_editable(api):
    from tests.sales.lifecycle_support import canceled_order, closed_order, fraud_order

    done = order_with((product(), 1))
    invoice_all(done)
    shipment_create(order_id=done.id, inventory_source_id=default_source().id, items=None, actor=None)
    for order in (reload(done), canceled_order(), closed_order(), fraud_order()):
        item = items_of(order)[0]
        with nothing_written(api, order.id):
            assert_error(patch(api, order, {"items": [{"id": item.id, "quantity": 5}]}), 409, "order_not_editable")


def test_dry_run_shows_the_totals_after_and_writes_nothing(api):
    a = product("10.00")
    order = processing((a, 2))
    item = items_of(order)[0]
    with nothing_written(api, order.id):
        r = patch(api, order, {"items": [{"id": item.id, "quantity": 4}]}, dry_run="true")
    assert r.status_code == 200, r.json()
    d = r.json()
    assert d["dry_run"] is True
    assert D(d["totals"]["grand_total"]) == order.grand_total + D("20.00")
    assert D(d["totals"]["total_due"]) == order.grand_total + D("20.00") - order.total_invoiced
    assert {"product_id": a.id, "sku": a.sku, "inventory_source_id": None, "reserved": 2, "on_hand": 0} \
        in d["stock_moves"]


def test_an_edit_that_cancels_the_rest_completes_the_order(api):
    a = product()
    order = order_with((a, 2))
    item = items_of(order)[0]
    invoice_lines(order, (item.id, 1))
    shipment_create(order_id=order.id, inventory_source_id=default_source().id, items=[LineQty(item.id, 1)],
                    actor=None)
    assert patch(api, order, {"items": [{"id": item.id, "quantity": 1}]}).status_code == 200
    order = reload(order)
    assert order.status == OrderStatus.COMPLETED and order.total_due == 0
    assert order.total_invoiced + order.total_canceled == order.grand_total


def test_processing_edit_query_count_does_not_grow_with_lines(api, django_assert_max_num_queries):
    products = [product() for _ in range(6)]
    order = processing(*[(p, 2) for p in products])
    lines = items_of(order)
    body = {"items": [{"id": i.id, "quantity": 1 if n % 2 else 3} for n, i in enumerate(lines[1:])]
            + [{"product_id": products[0].id, "quantity": 1}]}
    with django_assert_max_num_queries(40):
        assert patch(api, order, body).status_code == 200


def test_service_accepts_lines_and_details_together(api):
    order = processing((product(), 2))
    item = items_of(order)[0]
    order_edit(order_id=order.id, lines=[EditLine(quantity=3, id=item.id)], details={"staff_note": "n"}, actor=None)
    types = list(OrderEvent.objects.filter(order=order).order_by("id").values_list("type", flat=True))
    assert types[-2:] == ["edited", "details_changed"]
    assert reload(order).staff_note == "n" and OrderItem.objects.filter(order=order).count() == 2
