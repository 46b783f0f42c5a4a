"""Holds (SPEC §12): hold / release hold, what a hold refuses (409 order_on_hold, after the status
checks and before the quantities), what it leaves allowed, the automatic release, `can`, `hold`,
the on_hold filter, the permission, the webhook and the query count."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from sales.models import Order, OrderEvent, OrderStatus
from sales.services.checkout import checkout_pay
from sales.services.holding import order_hold, order_release_hold
from tests.catalog.factories import ProductFactory
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


def hold_url(order_id: int) -> str:
    return f"/api/admin/orders/{order_id}/hold"


def release_url(order_id: int) -> str:
    return f"/api/admin/orders/{order_id}/release-hold"


def held(*lines, reason: str = "Address check") -> Order:
    order = order_with(*(lines or ((product(), 2),)))
    order_hold(order_id=order.id, reason=reason, actor=None)
    return reload(order)


def events_of(order: Order) -> list[str]:
    return list(OrderEvent.objects.filter(order_id=order.id).order_by("id").values_list("type", flat=True))


# ---------------------------------------------------------------- hold / release


def test_hold_and_release_through_the_api(api, admin_user):
    order = order_with((product(), 2))
    before = reload(order).updated_at
    r = api.post(hold_url(order.id), {"reason": "Customer asked to wait"}, format="json")
    assert r.status_code == 200, r.json()
    d = r.json()
    assert d["hold"]["reason"] == "Customer asked to wait"
    assert d["hold"]["held_by"] == {"id": admin_user.id, "email": admin_user.email, "name": admin_user.name}
    assert d["hold"]["held_at"]
    assert d["status"] == "pending"  # a hold never changes the status
    assert d["can"] == {"invoice": False, "ship": False, "refund": False, "cancel": True, "edit": False,
                        "hold": False, "release_hold": True}
    assert reload(order).updated_at > before
    event = OrderEvent.objects.get(order_id=order.id, type="held")
    assert event.data == {"reason": "Customer asked to wait"} and event.actor_id == admin_user.id

    moved = reload(order).updated_at
    r = api.post(release_url(order.id), format="json")
    assert r.status_code == 200, r.json()
    d = r.json()
    assert d["hold"] is None
    assert d["can"] == {"invoice": True, "ship": True, "refund": False, "cancel": True, "edit": True,
                        "hold": True, "release_hold": False}
    assert reload(order).updated_at > moved
    event = OrderEvent.objects.get(order_id=order.id, type="hold_released")
    assert event.data == {"reason": "Customer asked to wait"} and event.actor_id == admin_user.id
    assert api.post(release_url(order.id), {}, format="json").status_code == 409  # {} is an empty body too


def test_hold_body_is_strict(api):
    order = order_with((product(), 1))
    with nothing_written(api, order.id):
        assert_error(api.post(hold_url(order.id), {}, format="json"), 400, "validation_error", field="reason")
        assert_error(api.post(hold_url(order.id), {"reason": ""}, format="json"), 400, "validation_error",
                     field="reason")
        assert_error(api.post(hold_url(order.id), {"reason": "x" * 256}, format="json"), 400, "validation_error",
                     field="reason")
        body = assert_error(api.post(hold_url(order.id), {"reason": "ok", "note": "x"}, format="json"), 400,
                            "validation_error", field="note")
        assert body["errors"][0]["code"] == "unknown_field"
        assert_error(api.post(hold_url(order.id), {"reason": 12}, format="json"), 400, "validation_error",
                     field="reason")
        assert_error(api.post(hold_url(order.id), {"reason": "ok"}, format="json", QUERY_STRING="dry_run=true"),
                     400, "unknown_parameter", field="dry_run")
    held_order = held()
    with nothing_written(api, held_order.id):
        body = assert_error(api.post(release_url(held_order.id), {"why": "x"}, format="json"), 400,
                            "validation_error", field="why")
        assert body["errors"][0]["code"] == "unknown_field"
    assert api.post(hold_url(999999), {"reason": "x"}, format="json").status_code == 404
    assert api.post(release_url(999999), format="json").status_code == 404


def test_hold_refusals_write_nothing(api):
    for order in (canceled_order(), closed_order()):
        with nothing_written(api, order.id):
            assert_error(api.post(hold_url(order.id), {"reason": "x"}, format="json"), 409, "order_not_holdable",
                         says=order.status_code)
    completed = order_with((product(), 1))
    api.post(f"/api/admin/orders/{completed.id}/invoices", {}, format="json")
    api.post(f"/api/admin/orders/{completed.id}/shipments", {"inventory_source_id": default_source().id},
             format="json")
    assert reload(completed).status == OrderStatus.COMPLETED
    with nothing_written(api, completed.id):
        assert_error(api.post(hold_url(completed.id), {"reason": "x"}, format="json"), 409, "order_not_holdable",
                     says="completed")
    order = held()
    with nothing_written(api, order.id):
        assert_error(api.post(hold_url(order.id), {"reason": "again"}, format="json"), 409, "order_on_hold")
    free = order_with((product(), 1))
    with nothing_written(api, free.id):
        assert_error(api.post(release_url(free.id), format="json"), 409, "order_not_on_hold")


def test_a_fraud_order_can_be_held(api):
    order = fraud_order()
    r = api.post(hold_url(order.id), {"reason": "Checking with the bank"}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["status"] == "fraud" and r.json()["can"]["release_hold"] is True


# ---------------------------------------------------------------- what a hold refuses, in the checks' order


def test_a_held_order_refuses_invoice_shipment_and_edits(api):
    order = held((product(stock=3), 2))
    item = items_of(order)[0]
    source = default_source().id
    with nothing_written(api, order.id):
        assert_error(api.post(f"/api/admin/orders/{order.id}/invoices", {}, format="json"), 409, "order_on_hold",
                     says="on hold")
        assert_error(api.post(f"/api/admin/orders/{order.id}/shipments", {"inventory_source_id": source},
                              format="json"), 409, "order_on_hold")
        assert_error(api.patch(f"/api/admin/orders/{order.id}", {"items": [{"id": item.id, "quantity": 1}]},
                               format="json"), 409, "order_on_hold")
        # the hold is checked before the quantities and the stock
        assert_error(api.post(f"/api/admin/orders/{order.id}/invoices",
                              {"items": [{"order_item_id": item.id, "quantity": 5}]}, format="json"),
                     409, "order_on_hold")
        assert_error(api.post(f"/api/admin/orders/{order.id}/shipments",
                              {"inventory_source_id": source, "items": [{"order_item_id": item.id, "quantity": 5}]},
                              format="json"), 409, "order_on_hold")
        assert_error(api.patch(f"/api/admin/orders/{order.id}", {"items": [{"id": item.id, "quantity": 9}]},
                               format="json"), 409, "order_on_hold")
        # 400s of the body still come first
        assert_error(api.post(f"/api/admin/orders/{order.id}/invoices",
                              {"items": [{"order_item_id": 999999, "quantity": 1}]}, format="json"),
                     400, "order_item_not_found")


def test_the_status_codes_answer_before_the_hold(api):
    order = fraud_order()
    order_hold(order_id=order.id, reason="x", actor=None)
    with nothing_written(api, order.id):
        assert_error(api.post(f"/api/admin/orders/{order.id}/invoices", {}, format="json"), 409,
                     "order_not_invoiceable")
        assert_error(api.post(f"/api/admin/orders/{order.id}/shipments",
                              {"inventory_source_id": default_source().id}, format="json"), 409, "order_not_shippable")
        item = items_of(order)[0]
        assert_error(api.patch(f"/api/admin/orders/{order.id}", {"items": [{"id": item.id, "quantity": 1}]},
                               format="json"), 409, "order_not_editable")
    # a held processing order: its lines could be edited (SPEC §12), so the hold answers, before the
    # quantity (1 is below what can be canceled)
    order = order_with((product(), 2))
    api.post(f"/api/admin/orders/{order.id}/invoices", {"items": [{"order_item_id": items_of(order)[0].id,
                                                                    "quantity": 1}]}, format="json")
    order_hold(order_id=order.id, reason="x", actor=None)
    with nothing_written(api, order.id):
        assert_error(api.patch(f"/api/admin/orders/{order.id}", {"items": [{"id": items_of(order)[0].id,
                                                                            "quantity": 1}]}, format="json"),
                     409, "order_on_hold")
        assert_error(api.post(f"/api/admin/orders/{order.id}/invoices", {}, format="json"), 409, "order_on_hold")


def test_a_held_gateway_order_says_payment_method_not_invoiceable(api):
    p = ProductFactory(price=Decimal("12.00"), stock=3)
    r = api.post("/api/admin/orders", {"email": "x@example.com", "items": [{"sku": p.sku, "quantity": 1}],
                                       "payment_method": "paylink"}, format="json")
    assert r.status_code == 201, r.json()
    order = Order.objects.get(id=r.json()["id"])
    order_hold(order_id=order.id, reason="x", actor=None)
    with nothing_written(api, order.id):
        assert_error(api.post(f"/api/admin/orders/{order.id}/invoices", {}, format="json"), 409,
                     "payment_method_not_invoiceable")


# ---------------------------------------------------------------- what a hold leaves allowed


def test_refund_cancel_comment_and_archive_stay_allowed(api):
    order = order_with((product(), 3))
    item = items_of(order)[0]
    api.post(f"/api/admin/orders/{order.id}/invoices", {"items": [{"order_item_id": item.id, "quantity": 2}]},
             format="json")
    order_hold(order_id=order.id, reason="x", actor=None)
    r = api.post(f"/api/admin/orders/{order.id}/refunds", {"items": [{"order_item_id": item.id, "quantity": 1}]},
                 format="json")
    assert r.status_code == 201, r.json()
    r = api.post(f"/api/admin/orders/{order.id}/comments", {"comment": "waiting"}, format="json")
    assert r.status_code == 201, r.json()
    r = api.delete(f"/api/admin/orders/{order.id}")
    assert r.status_code in (200, 204), r.content
    assert reload(order).held_at is not None
    r = api.post(f"/api/admin/orders/{order.id}/cancel", format="json")
    assert r.status_code == 200, r.json()
    d = r.json()
    assert d["status"] == "processing" and d["hold"] is not None  # still open (units invoiced to ship)


def test_a_gateway_capture_invoices_a_held_order(api):
    p = ProductFactory(price=Decimal("12.00"), stock=3)
    r = api.post("/api/admin/orders", {"email": "x@example.com", "items": [{"sku": p.sku, "quantity": 1}],
                                       "payment_method": "paylink"}, format="json")
    order = Order.objects.get(id=r.json()["id"])
    order_hold(order_id=order.id, reason="x", actor=None)
    invoice = checkout_pay(token=order.checkout_token)
    assert invoice.grand_total == order.grand_total
    order = reload(order)
    assert order.status == OrderStatus.PROCESSING and order.payment_captured
    assert order.held_at is not None  # still held: nothing ships until it is released
    assert api.get(f"/api/admin/orders/{order.id}").json()["can"]["ship"] is False


# ---------------------------------------------------------------- automatic release


def test_cancel_releases_the_hold(api):
    order = held()
    r = api.post(f"/api/admin/orders/{order.id}/cancel", format="json")
    assert r.status_code == 200, r.json()
    d = r.json()
    assert d["status"] == "canceled" and d["hold"] is None and d["can"]["hold"] is False
    assert events_of(order)[-2:] == ["hold_released", "canceled"]
    event = OrderEvent.objects.get(order_id=order.id, type="hold_released")
    assert event.actor_id is None
    assert event.data == {"reason": "Address check", "automatic": True, "status": "canceled"}


def test_completion_by_a_capture_releases_the_hold(api):
    r = api.post("/api/admin/orders", {"email": "payer@example.com", "cost": "49.95"}, format="json")
    order = Order.objects.get(id=r.json()["id"])
    order_hold(order_id=order.id, reason="x", actor=None)
    checkout_pay(token=order.checkout_token)
    order = reload(order)
    assert order.status == OrderStatus.COMPLETED and order.held_at is None and order.hold_reason == ""
    assert "hold_released" in events_of(order)


def test_closing_by_a_refund_releases_the_hold(api):
    order = order_with((product(), 1))
    invoice_all(order)
    api.post(f"/api/admin/orders/{order.id}/shipments", {"inventory_source_id": default_source().id}, format="json")
    assert reload(order).status == OrderStatus.COMPLETED
    order = order_with((product(), 1))
    invoice_all(order)
    order_hold(order_id=order.id, reason="x", actor=None)
    r = api.post(f"/api/admin/orders/{order.id}/refunds",
                 {"items": [{"order_item_id": items_of(order)[0].id, "quantity": 1}],
                  "shipping_amount": str(reload(order).shipping_total)}, format="json")
    assert r.status_code == 201, r.json()
    order = reload(order)
    assert order.status == OrderStatus.CLOSED and order.held_at is None


# ---------------------------------------------------------------- list filter, permission, webhook, queries


def test_on_hold_filter(api):
    a = held()
    b = order_with((product(), 1))
    ids = lambda r: {o["id"] for o in r.json()["results"]}  # noqa: E731
    r = api.get("/api/admin/orders?on_hold=true")
    assert r.status_code == 200 and ids(r) == {a.id}
    r = api.get("/api/admin/orders?on_hold=false")
    assert ids(r) == {b.id}
    assert ids(api.get("/api/admin/orders")) == {a.id, b.id}
    assert_error(api.get("/api/admin/orders?on_hold=maybe"), 400, "validation_error", field="on_hold")
    assert_error(api.get("/api/admin/orders?on_hold=1"), 400, "validation_error", field="on_hold")
    # the bulk archive takes the list's filters
    r = api.delete("/api/admin/orders?on_hold=true")
    assert r.status_code == 200, r.json()
    assert r.json() == {"archived": 1}
    assert reload(a).archived_at is not None and reload(b).archived_at is None


def test_permission(staff_api):
    order = order_with((product(), 1))
    with nothing_written():
        assert_error(staff_api("sales.view_order").post(hold_url(order.id), {"reason": "x"}, format="json"), 403,
                     "permission_denied")
    holder = staff_api("sales.hold_order")
    assert holder.post(hold_url(order.id), {"reason": "x"}, format="json").status_code == 200
    assert_error(staff_api("sales.view_order").post(release_url(order.id), format="json"), 403,
                 "permission_denied")
    assert holder.post(release_url(order.id), format="json").status_code == 200


def test_webhooks_get_held_and_hold_released(api):
    from webhooks.models import WebhookDelivery, WebhookEvent
    from webhooks.services.endpoints import endpoint_create

    endpoint_create(url="https://hooks.example.com/x", events=["order.held", "order.hold_released"],
                    secret="s" * 32)
    order = order_with((product(), 1))
    api.post(hold_url(order.id), {"reason": "Stock check"}, format="json")
    api.post(release_url(order.id), format="json")
    events = list(WebhookEvent.objects.order_by("sequence"))
    assert [e.type for e in events] == ["order.held", "order.hold_released"]
    assert WebhookDelivery.objects.count() == 2
    held_body, released_body = (json.loads(e.payload) for e in events)
    assert held_body["type"] == "order.held"
    assert held_body["data"]["order"]["hold"]["reason"] == "Stock check"
    assert held_body["sequence"] == OrderEvent.objects.get(order_id=order.id, type="held").id
    assert released_body["data"]["order"]["hold"] is None


def test_hold_endpoint_query_count(api, django_assert_max_num_queries):
    """A fixed number whatever the order's size: auth, lock, write, status counter, event, the order detail."""
    warm = order_with((product(), 1))
    api.post(hold_url(warm.id), {"reason": "warm"}, format="json")
    order = order_with(*((product(), 1) for _ in range(10)))
    with django_assert_max_num_queries(15):
        r = api.post(hold_url(order.id), {"reason": "x"}, format="json")
    assert r.status_code == 200 and len(r.json()["items"]) == 10
    with django_assert_max_num_queries(15):
        r = api.post(release_url(order.id), format="json")
    assert r.status_code == 200


def test_services_directly():
    order = order_with((product(), 1))
    order_hold(order_id=order.id, reason="x", actor=None)
    assert reload(order).held_by is None
    order_release_hold(order_id=order.id, actor=None)
    assert reload(order).held_at is None


def test_the_reason_fits_its_column_at_255_and_is_refused_at_256(api):
    """The limit holds on PostgreSQL as on SQLite: 255 characters stored whole, 256 a 400."""
    order = order_with((product(), 1))
    with nothing_written(api, order.id):
        assert_error(api.post(hold_url(order.id), {"reason": "r" * 256}, format="json"), 400, "validation_error",
                     field="reason")
    assert api.post(hold_url(order.id), {"reason": "é" * 255}, format="json").status_code == 200
    assert reload(order).hold_reason == "é" * 255
