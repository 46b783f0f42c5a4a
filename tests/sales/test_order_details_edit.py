"""Order details after placing (SPEC §12): billing address and staff note on any order not canceled
or closed; the shipping address while the order ships and has something left to ship. No repricing;
event ``details_changed`` with before and after; refusals write nothing."""

import pytest

from sales.models import OrderEvent
from sales.services.shipping import shipment_create
from tests.customers.factories import address
from tests.sales.lifecycle_support import (
    assert_error,
    canceled_order,
    closed_order,
    default_source,
    fast_passwords,  # noqa: F401
    fraud_order,
    invoice_all,
    items_of,
    nothing_written,
    order_with,
    product,
    reload,
)

pytestmark = pytest.mark.django_db

TOTALS = ("subtotal", "discount_total", "tax_total", "shipping_total", "grand_total", "total_due")


def patch(api, order, body):
    return api.patch(f"/api/admin/orders/{order.id}", body, format="json")


def new_address(**kw):
    return {**address(first_name="Ada", last_name="Byron", line_1="12 New Street", city="Portland", postcode="97201",
                      country="US", zone="OR"), **kw}


def test_billing_shipping_and_note_change_without_repricing(api, admin_user):
    order = order_with((product("10.00", tax="10"), 2))
    before = api.get(f"/api/admin/orders/{order.id}").json()
    bill, ship = new_address(), new_address(line_1="1 Dock Road", city="Salem")
    r = patch(api, order, {"billing_address": bill, "shipping_address": ship, "staff_note": "Gift: no invoice"})
    assert r.status_code == 200, r.json()
    d = r.json()
    assert d["billing_address"]["line_1"] == "12 New Street" and d["shipping_address"]["city"] == "Salem"
    assert d["staff_note"] == "Gift: no invoice"
    assert {k: d[k] for k in TOTALS} == {k: before[k] for k in TOTALS}  # the README says so: no repricing
    event = OrderEvent.objects.get(order=order, type="details_changed")
    assert event.actor_id == admin_user.id
    assert event.data["fields"] == ["billing_address", "shipping_address", "staff_note"]
    assert event.data["before"]["staff_note"] == "" and event.data["after"]["staff_note"] == "Gift: no invoice"
    assert event.data["before"]["billing_address"] == order.billing_address
    assert event.data["after"]["shipping_address"]["city"] == "Salem"


def test_only_changed_fields_are_recorded_and_a_no_op_writes_nothing(api):
    order = order_with((product(), 1))
    assert patch(api, order, {"staff_note": "first"}).status_code == 200
    with nothing_written(api, order.id):
        r = patch(api, order, {"staff_note": "first", "billing_address": reload(order).billing_address})
        assert r.status_code == 200
    assert patch(api, order, {"staff_note": "second", "billing_address": reload(order).billing_address}).status_code \
        == 200
    last = OrderEvent.objects.filter(order=order, type="details_changed").order_by("-id").first()
    assert last.data == {"fields": ["staff_note"], "before": {"staff_note": "first"}, "after": {"staff_note": "second"}}


def test_note_limit_and_address_validation(api):
    order = order_with((product(), 1))
    with nothing_written(api, order.id):
        assert_error(patch(api, order, {"staff_note": "x" * 5001}), 400, "validation_error", field="staff_note")
        assert_error(patch(api, order, {"billing_address": {**new_address(), "country": "ZZ"}}), 400,
                     "validation_error")
        assert_error(patch(api, order, {"billing_address": {**new_address(), "planet": "Mars"}}), 400,
                     "validation_error")
        assert_error(patch(api, order, {"shipping_address": None}), 400, "validation_error", field="shipping_address")
        assert_error(patch(api, order, {}), 400, "validation_error", field="items")
        assert_error(patch(api, order, {"notes": "x"}), 400, "validation_error")
    assert patch(api, order, {"staff_note": "x" * 5000}).status_code == 200
    assert len(reload(order).staff_note) == 5000


def test_canceled_and_closed_orders_keep_their_details(api):
    for order in (canceled_order(), closed_order()):
        with nothing_written(api, order.id):
            for body in ({"billing_address": new_address()}, {"staff_note": "x"}, {"shipping_address": new_address()}):
                assert_error(patch(api, order, body), 409, "order_not_editable")


def test_a_fraud_order_takes_a_note_and_a_billing_address(api):
    order = fraud_order()
    assert patch(api, order, {"staff_note": "checked with the bank", "billing_address": new_address()}).status_code \
        == 200


def test_shipping_address_only_while_something_is_left_to_ship(api):
    order = order_with((product(), 2))
    invoice_all(order)
    shipment_create(order_id=order.id, inventory_source_id=default_source().id, items=None, actor=None)
    order = reload(order)
    with nothing_written(api, order.id):
        assert_error(patch(api, order, {"shipping_address": new_address()}), 409, "order_not_editable",
                     field="shipping_address", says="nothing left to ship")
    # completed, but the billing address and note still change
    assert patch(api, order, {"billing_address": new_address(), "staff_note": "late VAT id"}).status_code == 200


def test_a_virtual_only_order_has_no_shipping_address_to_change(api):
    order = order_with((product(type_="virtual"), 1), shipping=None)
    assert order.fulfillment_type != "shipping"
    with nothing_written(api, order.id):
        assert_error(patch(api, order, {"shipping_address": new_address()}), 409, "order_not_editable")


def test_a_pickup_order_has_no_shipping_address_to_change(api):
    from tests.catalog.factories import InventorySourceFactory

    location = InventorySourceFactory(pickup_enabled=True, name="Shop", address={
        "line_1": "1 Rue", "city": "Paris", "postcode": "75001", "country": "FR"})
    order = order_with((product(), 1), shipping="pickup", location_id=location.id)
    with nothing_written(api, order.id):
        assert_error(patch(api, order, {"shipping_address": new_address()}), 409, "order_not_editable",
                     says="picked up")


def test_details_and_a_refused_line_edit_write_nothing_together(api):
    order = order_with((product(stock=2), 2))
    item = items_of(order)[0]
    with nothing_written(api, order.id):
        assert_error(patch(api, order, {"staff_note": "x", "items": [{"id": item.id, "quantity": 3}]}), 409,
                     "product_out_of_stock")


def test_details_changed_goes_out_as_a_webhook(api):
    from webhooks.models import WebhookDelivery, WebhookEndpoint

    WebhookEndpoint.objects.create(url="https://hooks.example.com/x", events=["order.details_changed"],
                                   secret="s" * 32)  # deliveries wait for the commit: only the outbox row here
    order = order_with((product(), 1))
    assert patch(api, order, {"staff_note": "n"}).status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert delivery.type == "order.details_changed"
