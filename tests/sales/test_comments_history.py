"""Comments (e-mailed after commit when the customer is notified) and the order history (SPEC §5)."""

import pytest
from django.db import transaction

from sales.models import OrderComment, OrderEvent, OrderStatus
from sales.services.comments import comment_add
from sales.services.common import LineQty
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
    refund_lines,
    reload,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]


def comments_url(order_id) -> str:
    return f"/api/admin/orders/{order_id}/comments"


def history(api, order_id) -> list[dict]:
    r = api.get(f"/api/admin/orders/{order_id}/history")
    assert r.status_code == 200, r.json()
    return r.json()


# ---------------------------------------------------------------- comments

def test_add_comment(api, admin_user, mailoutbox, django_capture_on_commit_callbacks):
    order = order_with((product(), 1))
    with django_capture_on_commit_callbacks(execute=True):
        r = api.post(comments_url(order.id), {"comment": "Called the customer."}, format="json")
    assert r.status_code == 201, r.json()
    c = r.json()
    assert set(c) == {"id", "comment", "customer_notified", "author", "created_at"}
    assert c["comment"] == "Called the customer." and c["customer_notified"] is False
    assert c["author"] == {"id": admin_user.id, "email": admin_user.email, "name": admin_user.name}
    assert mailoutbox == []  # not notified: no e-mail
    assert reload(order).status == OrderStatus.PENDING
    event = [e for e in history(api, order.id) if e["type"] == "commented"][0]
    assert event["actor"]["id"] == admin_user.id and event["data"]["comment_id"] == c["id"]


def test_customer_notified_is_emailed_after_commit(api, mailoutbox, django_capture_on_commit_callbacks):
    order = order_with((product(), 1))
    text = "Your parcel leaves tomorrow — O'Brien & Co. will deliver <fragile>."
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        r = api.post(comments_url(order.id), {"comment": text, "customer_notified": True}, format="json")
        assert r.status_code == 201, r.json()
        assert mailoutbox == []  # nothing leaves before the transaction commits
    assert len(callbacks) == 1
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [order.customer_email]
    assert order.number in mail.subject
    assert text in mail.body  # plain text: nothing HTML-escaped
    sent = [e for e in history(api, order.id) if e["type"] == "email_sent"]
    assert sent and sent[-1]["data"]["kind"] == "comment" and sent[-1]["data"]["to"] == order.customer_email


def test_no_email_when_the_transaction_rolls_back(mailoutbox, django_capture_on_commit_callbacks):
    order = order_with((product(), 1))
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        comment_add(order_id=order.id, comment="never sent", customer_notified=True, actor=None)
        raise RuntimeError("something after the comment failed")
    assert callbacks == [] and mailoutbox == []
    assert not OrderComment.objects.filter(order=order).exists()


@pytest.mark.parametrize("make", [canceled_order, closed_order, fraud_order])
def test_comments_are_allowed_at_any_status_and_never_change_it(api, make):
    order = make()
    status = order.status
    r = api.post(comments_url(order.id), {"comment": "note", "customer_notified": True}, format="json")
    assert r.status_code == 201, r.json()
    assert reload(order).status == status


def test_comments_listed_newest_first(api):
    order = order_with((product(), 1))
    ids = [api.post(comments_url(order.id), {"comment": f"note {n}"}, format="json").json()["id"] for n in range(3)]
    OrderComment.objects.filter(order=order).update(created_at=OrderComment.objects.get(id=ids[0]).created_at)
    r = api.get(comments_url(order.id))
    assert r.status_code == 200
    assert [c["id"] for c in r.json()] == ids[::-1]
    assert [c["comment"] for c in r.json()] == ["note 2", "note 1", "note 0"]


def test_comment_length_limits(api):
    order = order_with((product(), 1))
    assert api.post(comments_url(order.id), {"comment": "é" * 5000}, format="json").status_code == 201
    for body, field in (({"comment": "x" * 5001}, "comment"), ({"comment": ""}, "comment"), ({}, "comment"),
                        ({"comment": None}, "comment"), ({"comment": "ok", "customer_notified": "maybe"},
                                                         "customer_notified")):
        with nothing_written(api, order.id):
            assert_error(api.post(comments_url(order.id), body, format="json"), 400, "validation_error", field=field)


def test_comment_permissions(staff_api, api):
    order = order_with((product(), 1))
    reader = staff_api("sales.view_order")
    with nothing_written(api, order.id):
        assert_error(reader.post(comments_url(order.id), {"comment": "x"}, format="json"), 403, "permission_denied")
    assert reader.get(comments_url(order.id)).status_code == 200
    assert_error(staff_api().get(comments_url(order.id)), 403, "permission_denied")
    writer = staff_api("sales.add_ordercomment")
    assert writer.post(comments_url(order.id), {"comment": "x"}, format="json").status_code == 201


def test_comments_of_an_unknown_order(api):
    with nothing_written():
        assert_error(api.post(comments_url(987654321), {"comment": "x"}, format="json"), 404, "not_found")
    assert_error(api.get(comments_url(987654321)), 404, "not_found")


# ---------------------------------------------------------------- e-mails of the other actions

def test_invoice_and_shipment_emails_after_commit(mailoutbox, django_capture_on_commit_callbacks):
    order = order_with((product(), 1))
    with django_capture_on_commit_callbacks(execute=True):
        invoice = invoice_all(order)
        assert mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True):
        shipment = shipment_create(order_id=order.id, inventory_source_id=default_source().id, items=None,
                                   actor=None, carrier_title="UPS", track_number="1Z42")
    assert [m.to for m in mailoutbox] == [[order.customer_email]] * 2
    assert invoice.number in mailoutbox[0].subject
    assert order.number in mailoutbox[1].subject and "1Z42" in mailoutbox[1].body
    del shipment


# ---------------------------------------------------------------- history

def test_history_oldest_first_with_actor_and_data(api, admin_user):
    order = order_with((product(stock=5), 3))
    line = items_of(order)[0]
    inv = api.post(f"/api/admin/orders/{order.id}/invoices", {}, format="json").json()
    shp = api.post(f"/api/admin/orders/{order.id}/shipments",
                   {"inventory_source_id": default_source().id, "items": [{"order_item_id": line.id, "quantity": 1}]},
                   format="json").json()
    ref = api.post(f"/api/admin/orders/{order.id}/refunds",
                   {"items": [{"order_item_id": line.id, "quantity": 1}]}, format="json").json()
    com = api.post(comments_url(order.id), {"comment": "done"}, format="json").json()
    events = [e for e in history(api, order.id) if e["type"] != "email_sent"]
    assert [e["type"] for e in events] == ["placed", "invoiced", "shipped", "refunded", "commented"]
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    assert [e["created_at"] for e in events] == sorted(e["created_at"] for e in events)
    for e in events:
        assert set(e) == {"id", "type", "actor", "created_at", "data"}
    assert events[0]["actor"] is None  # placed by a service call without a user
    me = {"id": admin_user.id, "email": admin_user.email, "name": admin_user.name}
    assert all(e["actor"] == me for e in events[1:])
    assert (events[1]["data"]["invoice_id"], events[1]["data"]["number"]) == (inv["id"], inv["number"])
    assert (events[2]["data"]["shipment_id"], events[2]["data"]["number"]) == (shp["id"], shp["number"])
    assert events[2]["data"]["items"] == [{"order_item_id": line.id, "sku": line.sku, "quantity": 1}]
    assert (events[3]["data"]["refund_id"], events[3]["data"]["number"]) == (ref["id"], ref["number"])
    assert events[3]["data"]["grand_total"] == ref["grand_total"]
    assert events[4]["data"]["comment_id"] == com["id"]


def test_history_is_ordered_by_time_then_id(api):
    order = order_with((product(), 2))
    invoice_all(order)
    first = OrderEvent.objects.filter(order=order).order_by("id").first()
    OrderEvent.objects.filter(order=order, type="invoiced").update(created_at=first.created_at)
    types = [e["type"] for e in history(api, order.id)]
    assert types[:2] == ["placed", "invoiced"]


def test_cancel_and_fraud_clear_events(api, admin_user):
    order = fraud_order()
    r = api.post(f"/api/admin/orders/{order.id}/clear-fraud")
    assert r.status_code == 200, r.json()
    api.post(f"/api/admin/orders/{order.id}/cancel")
    events = [e for e in history(api, order.id) if e["type"] in ("fraud_cleared", "canceled")]
    assert [e["type"] for e in events] == ["fraud_cleared", "canceled"]
    assert all(e["actor"]["id"] == admin_user.id for e in events)
    assert events[0]["data"]["status_after"] == "pending"


def test_refused_actions_leave_no_event(api):
    order = canceled_order()
    before = OrderEvent.objects.filter(order=order).count()
    for path, body in (("invoices", {}), ("shipments", {"inventory_source_id": default_source().id}),
                       ("refunds", {"adjustment_refund": "1.00"}), ("cancel", None)):
        assert api.post(f"/api/admin/orders/{order.id}/{path}", body, format="json").status_code == 409
    assert OrderEvent.objects.filter(order=order).count() == before


def test_history_permissions_and_unknown_order(api, staff_api):
    order = order_with((product(), 1))
    assert staff_api("sales.view_order").get(f"/api/admin/orders/{order.id}/history").status_code == 200
    assert_error(staff_api().get(f"/api/admin/orders/{order.id}/history"), 403, "permission_denied")
    assert_error(api.get("/api/admin/orders/987654321/history"), 404, "not_found")


def test_service_actions_record_the_acting_user(admin_user):
    order = order_with((product(), 2))
    line = items_of(order)[0]
    invoice_all(order, actor=admin_user)
    shipment_create(order_id=order.id, inventory_source_id=default_source().id, items=[LineQty(line.id, 1)],
                    actor=admin_user)
    refund_lines(order, (line.id, 1), actor=admin_user)
    actors = list(OrderEvent.objects.filter(order=order).exclude(type__in=["placed", "email_sent"])
                  .values_list("type", "actor_id"))
    assert actors == [("invoiced", admin_user.id), ("shipped", admin_user.id), ("refunded", admin_user.id)]
