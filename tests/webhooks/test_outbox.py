"""The outbox, eager path (no broker): every history event an endpoint subscribes to is written
as a delivery in the action's own transaction and sent right after the commit, in-process.
Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import re
import uuid
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from sales.events import events_sink_register, events_sink_unregister
from sales.models import OrderEvent
from sales.services.archiving import orders_archive_matching
from sales.services.canceling import order_cancel
from sales.services.checkout import checkout_pay
from sales.services.comments import comment_add
from sales.services.invoicing import invoice_create
from tests.catalog.factories import ProductFactory
from tests.sales.helpers import placed_order
from webhooks.models import WebhookDelivery, WebhookEvent
from webhooks.services.outbox import outbox_write
from webhooks.services.sender import signature_verify

pytestmark = pytest.mark.django_db
SECRET = "s" * 32


def order():
    return placed_order((ProductFactory(price=Decimal("10.00"), stock=10), 2))


def test_an_invoice_is_delivered_signed_with_the_order_as_the_api_shows_it(
        api, receiver, endpoint_for, django_capture_on_commit_callbacks):
    o = order()
    endpoint_for(receiver, events=["order.invoiced"])
    with django_capture_on_commit_callbacks(execute=True):
        r = api.post(f"/api/admin/orders/{o.id}/invoices", {}, format="json")
    assert r.status_code == 201, r.json()
    (got,) = receiver.wait_for(1)
    assert got.path == "/hook"
    assert got.headers["content-type"] == "application/json"
    assert got.event == "order.invoiced"
    assert signature_verify(SECRET, got.body, got.headers["x-orderdesk-signature"])
    assert not signature_verify("another secret value", got.body, got.headers["x-orderdesk-signature"])
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", got.headers["x-orderdesk-signature"])
    body = got.json()
    assert set(body) == {"id", "type", "created_at", "sequence", "data"}
    event = OrderEvent.objects.get(order_id=o.id, type="invoiced")
    assert body["type"] == "order.invoiced" and body["sequence"] == event.id
    assert uuid.UUID(body["id"]) and body["created_at"].startswith(event.created_at.strftime("%Y-%m-%dT%H:%M:%S"))
    assert body["data"]["order"] == api.get(f"/api/admin/orders/{o.id}").json()
    assert body["data"]["document"] == r.json()  # the invoice in its API shape
    delivery = WebhookDelivery.objects.get()
    assert got.delivery == str(delivery.id) and body["id"] == str(delivery.event_id)
    assert (delivery.status, delivery.attempts, delivery.last_response_status) == ("delivered", 1, 200)
    assert delivery.event.payload.encode() == got.body  # stored, byte for byte


def test_the_same_bytes_to_every_endpoint_each_signed_with_its_secret(
        receiver, endpoint_for, django_capture_on_commit_callbacks):
    o = order()
    endpoint_for(receiver, path="/a", secret="a" * 20)
    endpoint_for(receiver, path="/b", secret="b" * 20)
    with django_capture_on_commit_callbacks(execute=True):
        comment_add(order_id=o.id, comment="hello", actor=None)
    a, b = sorted(receiver.wait_for(2), key=lambda x: x.path)
    assert (a.path, b.path) == ("/a", "/b") and a.body == b.body and a.delivery != b.delivery
    assert signature_verify("a" * 20, a.body, a.headers["x-orderdesk-signature"])
    assert signature_verify("b" * 20, b.body, b.headers["x-orderdesk-signature"])
    document = a.json()["data"]["document"]
    assert document["comment"] == "hello" and set(document) == {"id", "comment", "customer_notified", "author",
                                                                "created_at"}
    assert WebhookEvent.objects.count() == 1  # the body is stored once


def test_a_capture_sends_each_event_with_the_order_after_the_whole_action(
        client, receiver, endpoint_for, django_capture_on_commit_callbacks):
    o = placed_order((ProductFactory(price=Decimal("10.00"), stock=10), 1), payment="paylink")
    endpoint_for(receiver)
    with django_capture_on_commit_callbacks(execute=True):
        checkout_pay(token=o.checkout_token)
    got = receiver.wait_for(2)
    by_type = {r.event: r.json() for r in got}
    assert set(by_type) == {"order.payment_captured", "order.invoiced"}
    captured, invoiced = by_type["order.payment_captured"], by_type["order.invoiced"]
    assert captured["data"]["order"] == invoiced["data"]["order"]  # both: after the whole action
    assert captured["data"]["order"]["status"] == "processing" and len(captured["data"]["order"]["invoices"]) == 1
    assert invoiced["data"]["document"]["grand_total"] == captured["data"]["order"]["grand_total"]
    assert captured["data"]["document"] is None
    assert invoiced["sequence"] < captured["sequence"]
    assert captured["id"] != invoiced["id"]


def test_direct_create_sends_placed_and_created_with_the_final_order(
        api, receiver, endpoint_for, django_capture_on_commit_callbacks):
    p = ProductFactory(price=Decimal("12.00"), stock=3)
    endpoint_for(receiver, events=["order.placed", "order.created"])
    with django_capture_on_commit_callbacks(execute=True):
        r = api.post("/api/admin/orders", {"email": "x@example.com", "items": [{"sku": p.sku, "quantity": 2}],
                                           "payment_method": "cashondelivery"}, format="json")
    assert r.status_code == 201, r.json()
    got = {x.event: x.json() for x in receiver.wait_for(2)}
    assert set(got) == {"order.placed", "order.created"}
    # direct create patches the placed order (no billing address) after placing: both see it
    assert got["order.placed"]["data"]["order"] == got["order.created"]["data"]["order"] == \
        api.get(f"/api/admin/orders/{r.json()['id']}").json()
    assert got["order.placed"]["data"]["order"]["billing_address"] is None


def test_only_subscribed_types_to_active_endpoints(receiver, endpoint_for, django_capture_on_commit_callbacks):
    from webhooks.services.endpoints import endpoint_update

    o = order()
    endpoint_for(receiver, events=["order.shipped"], path="/shipped")
    off = endpoint_for(receiver, path="/off")
    endpoint_update(endpoint_id=off.id, data={"is_active": False})
    endpoint_for(receiver, events=["order.canceled"], path="/canceled")
    with django_capture_on_commit_callbacks(execute=True):
        invoice_create(order_id=o.id, items=None, actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        other = order()
        order_cancel(order_id=other.id, actor=None)
    (got,) = receiver.wait_for(1)
    assert (got.path, got.event) == ("/canceled", "order.canceled")
    assert WebhookDelivery.objects.count() == 1


def test_a_refusal_sends_nothing(api, receiver, endpoint_for, django_capture_on_commit_callbacks):
    o = order()
    order_cancel(order_id=o.id, actor=None)
    endpoint_for(receiver)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        r = api.post(f"/api/admin/orders/{o.id}/invoices", {}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "order_not_invoiceable"
    assert callbacks == [] and WebhookDelivery.objects.count() == 0 and receiver.requests == []


@pytest.mark.parametrize("action", ["invoices", "shipments", "cancel"])
def test_a_dry_run_sends_nothing(api, receiver, endpoint_for, django_capture_on_commit_callbacks, action):
    from catalog.models import InventorySource

    o = order()
    endpoint_for(receiver)
    body = {"inventory_source_id": InventorySource.objects.get(code="default").id} if action == "shipments" else {}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        r = api.post(f"/api/admin/orders/{o.id}/{action}?dry_run=true", body, format="json")
    assert r.status_code == 200 and r.json()["dry_run"] is True, r.json()
    assert callbacks == [] and WebhookDelivery.objects.count() == 0 and WebhookEvent.objects.count() == 0
    assert receiver.requests == []


def test_a_rolled_back_action_sends_nothing(receiver, endpoint_for, django_capture_on_commit_callbacks):
    o = order()
    endpoint_for(receiver)

    class Boom(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Boom), transaction.atomic():
        invoice_create(order_id=o.id, items=None, actor=None)
        assert WebhookDelivery.objects.count() == 1  # written with the action…
        raise Boom
    assert WebhookDelivery.objects.count() == 0  # …and rolled back with it
    assert callbacks == [] and receiver.requests == []


def test_a_rolled_back_inner_action_drops_its_events_only(receiver, endpoint_for, django_capture_on_commit_callbacks):
    """An outer action that catches an inner one's failure goes on; the inner events never leave."""
    from sales.events import events_scope

    o, other = order(), order()
    endpoint_for(receiver)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic(), events_scope():
        comment_add(order_id=o.id, comment="kept", actor=None)
        try:
            with transaction.atomic(), events_scope():
                comment_add(order_id=other.id, comment="dropped", actor=None)
                raise RuntimeError
        except RuntimeError:
            pass
    (got,) = receiver.wait_for(1)
    assert got.json()["data"]["document"]["comment"] == "kept"


def test_bulk_archive_sends_one_event_per_order(receiver, endpoint_for, django_capture_on_commit_callbacks):
    from sales.models import Order

    orders = [order() for _ in range(3)]
    endpoint_for(receiver, events=["order.archived"])
    with django_capture_on_commit_callbacks(execute=True):
        n = orders_archive_matching(queryset=Order.objects.filter(id__in=[o.id for o in orders]), actor=None,
                                    batch_size=2)
    assert n == 3
    got = receiver.wait_for(3)
    assert sorted(r.json()["data"]["order"]["id"] for r in got) == sorted(o.id for o in orders)
    assert all(r.json()["data"]["order"]["archived_at"] for r in got)
    events = dict(OrderEvent.objects.filter(type="archived").values_list("order_id", "id"))
    assert {r.json()["data"]["order"]["id"]: r.json()["sequence"] for r in got} == events


def test_the_import_api_sends_imported_invoiced_and_shipped(api, receiver, endpoint_for,
                                                           django_capture_on_commit_callbacks):
    endpoint_for(receiver)
    doc = {"reference": "WH-1", "email": "buyer@example.com", "notify": False,
           "items": [{"sku": "CUSTOM-1", "name": "Custom thing", "quantity": 1, "shippable": True,
                      "price": {"amount": 1000, "tax": 200}}],
           "payments": [{"driver": "cash", "amount": 1200}],
           "fulfillments": [{"state": "successful", "items": [{"sku": "CUSTOM-1", "quantity": 1}]}]}
    with django_capture_on_commit_callbacks(execute=True):
        r = api.post("/api/admin/orders/import", doc, format="json")
    assert r.status_code == 201, r.json()
    got = receiver.wait_for(1)
    types = sorted(x.event for x in got)
    assert "order.imported" in types
    events = dict(OrderEvent.objects.filter(order_id=r.json()["order"]["id"]).values_list("id", "type"))
    assert {x.json()["sequence"]: x.event for x in got} == {k: f"order.{v}" for k, v in events.items()}


def test_the_import_command_bulk_writer_sends_every_event_with_its_sequence(
        tmp_path, receiver, endpoint_for, django_capture_on_commit_callbacks):
    endpoint_for(receiver)
    path = tmp_path / "orders.jsonl"
    path.write_text("\n".join(json.dumps({
        "reference": f"BULK-{n}", "email": f"b{n}@example.com", "notify": False,
        "items": [{"sku": "CUSTOM", "name": "Custom", "quantity": 1, "price": {"amount": 1000, "tax": 200}}],
        "payments": [{"driver": "cash", "amount": 1200}]}) for n in range(3)) + "\n")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_orders", str(path), stdout=__import__("io").StringIO(), stderr=__import__("io").StringIO())
    events = dict(OrderEvent.objects.values_list("id", "type"))
    assert sorted(events.values()) == ["imported"] * 3 + ["invoiced"] * 3
    got = receiver.wait_for(6)
    assert {x.json()["sequence"]: x.event for x in got} == {k: f"order.{v}" for k, v in events.items()}
    for x in got:
        body = x.json()
        assert body["data"]["order"]["id"] == OrderEvent.objects.get(id=body["sequence"]).order_id
        if x.event == "order.invoiced":
            assert body["data"]["document"]["grand_total"] == "12.00"


def test_email_sent_is_history_but_never_a_webhook(receiver, endpoint_for, django_capture_on_commit_callbacks,
                                                   mailoutbox):
    o = order()
    endpoint_for(receiver)
    with django_capture_on_commit_callbacks(execute=True):
        comment_add(order_id=o.id, comment="note", customer_notified=True, actor=None)
    assert len(mailoutbox) == 1 and OrderEvent.objects.filter(order_id=o.id, type="email_sent").exists()
    assert [x.event for x in receiver.wait_for(1)] == ["order.commented"]
    assert WebhookDelivery.objects.count() == 1


def test_with_no_endpoint_the_hook_costs_one_small_query(admin_user):
    """What the hook adds to an action when nobody listens: one read of the active endpoints."""
    warm, a, b = order(), order(), order()
    invoice_create(order_id=warm.id, items=None, actor=admin_user)  # the invoice number row exists
    events_sink_unregister(outbox_write)
    try:
        with CaptureQueriesContext(connection) as without:
            invoice_create(order_id=a.id, items=None, actor=admin_user)
    finally:
        events_sink_register(outbox_write)
    with CaptureQueriesContext(connection) as with_hook:
        invoice_create(order_id=b.id, items=None, actor=admin_user)
    extra = [q["sql"] for q in with_hook.captured_queries if "webhooks_" in q["sql"]]
    assert len(with_hook.captured_queries) == len(without.captured_queries) + 1
    assert len(extra) == 1 and "webhooks_webhookendpoint" in extra[0] and "SELECT" in extra[0]


@pytest.mark.django_db(transaction=True)
def test_after_a_real_commit_the_delivery_is_sent_in_process(receiver, endpoint_for):
    """No captured callbacks: the action commits and the delivery goes out from on_commit."""
    o = order()
    endpoint_for(receiver, events=["order.canceled"])
    order_cancel(order_id=o.id, actor=None)
    (got,) = receiver.wait_for(1)
    assert got.event == "order.canceled" and got.json()["data"]["order"]["status"] == "canceled"
    assert WebhookDelivery.objects.get().status == "delivered"


def test_a_broker_down_at_commit_fails_nothing_and_loses_nothing(receiver, endpoint_for,
                                                                 django_capture_on_commit_callbacks, caplog):
    """The publish after the commit fails (no broker answers): the action has succeeded, the
    delivery waits in the outbox, and the retry job sends it once tasks can run again."""
    import time

    from kombu import pools

    from config.celery import app

    o = order()
    endpoint_for(receiver, events=["order.commented"])
    saved = {k: app.conf[k] for k in ("task_always_eager", "broker_url", "broker_connection_timeout")}
    app.conf.update(task_always_eager=False, broker_url="redis://127.0.0.1:9/0", broker_connection_timeout=1)
    pools.reset()
    app._pool = app.amqp._producer_pool = None
    try:
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            note = comment_add(order_id=o.id, comment="while the broker is down", actor=None)
        assert time.monotonic() - started < 15
    finally:
        app.conf.update(saved)
        pools.reset()
        app._pool = app.amqp._producer_pool = None
    assert note.id and receiver.requests == []
    assert any("on_commit" in r.getMessage() for r in caplog.records)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.attempts == 0
    call_command("webhooks_retry", stdout=__import__("io").StringIO())
    (got,) = receiver.wait_for(1)
    assert got.delivery == str(delivery.id)
    assert WebhookDelivery.objects.get().status == "delivered"
