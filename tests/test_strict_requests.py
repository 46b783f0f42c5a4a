"""A typo never widens a write (SPEC §1, §5, §7.3): strict query parameters, strict bodies on the
actions that write an order, malformed JSON refused before anything runs, bulk archive / restore."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.request_checks import operations
from sales.models import Order, OrderEvent
from sales.services.archiving import BULK_BATCH, orders_archive_matching
from tests.customers.factories import CustomerFactory
from tests.sales.helpers import placed_order
from tests.sales.lifecycle_support import assert_error, invoice_all, nothing_written, order_with, product, reload

pytestmark = pytest.mark.django_db


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content[:300]
    return [row["id"] for row in response.json()["results"]]


# ---------------------------------------------------------------- query parameters

def test_a_typo_on_bulk_archive_archives_nothing(api):
    orders = [placed_order() for _ in range(3)]
    with nothing_written():
        body = assert_error(api.delete("/api/admin/orders?bogus=1"), 400, "unknown_parameter", field="bogus",
                            says="bogus")
    assert body["errors"][0]["code"] == "unknown_parameter"
    assert Order.objects.filter(archived_at__isnull=False).count() == 0
    # a misspelt filter beside a real one still archives nothing
    with nothing_written():
        assert_error(api.delete(f"/api/admin/orders?emial=x@example.com&number={orders[0].number}"), 400,
                     "unknown_parameter", field="emial")


def test_every_operation_refuses_an_unknown_query_parameter(api):
    """Every documented operation, from the schema itself: the unknown parameter is named, nothing runs."""
    checked = 0
    for (path, method), _params in operations().items():
        url = re.sub(r"\{[^}]+\}", "999999", path) + "?zz_unknown=1"
        with nothing_written():
            response = api.generic(method, url, data="{}", content_type="application/json")
        assert_error(response, 400, "unknown_parameter", field="zz_unknown")
        checked += 1
    assert checked >= 60


def test_login_refuses_an_unknown_query_parameter(client):
    r = client.post("/api/admin/login?next=x", {"email": "a@example.com", "password": "x"},
                    content_type="application/json")
    assert_error(r, 400, "unknown_parameter", field="next")


@pytest.mark.parametrize("query, field", [
    ("archived=maybe", "archived"),
    ("archived=1", "archived"),
    ("archived=True", "archived"),
    ("payment_method=bitcoin", "payment_method"),
    ("min_id=abc", "min_id"),
    ("max_id=1.5", "max_id"),
    ("customer=x", "customer"),
    ("status=shipped", "status"),
    ("created_after=yesterday", "created_after"),
    ("updated_after=2026-13-01", "updated_after"),
    ("updated_before=soon", "updated_before"),
    ("page_size=lots", "page_size"),
    ("ordering=total", "ordering"),
])
def test_bad_filter_values_are_400(api, query, field):
    placed_order()
    assert_error(api.get(f"/api/admin/orders?{query}"), 400, "validation_error", field=field)
    # bulk archive takes the filters, not the paging or the ordering
    code = "unknown_parameter" if field in ("page_size", "ordering") else "validation_error"
    with nothing_written():
        assert_error(api.delete(f"/api/admin/orders?{query}"), 400, code, field=field)


def test_a_parameter_given_twice_is_400(api):
    a = placed_order()
    assert_error(api.get("/api/admin/orders?status=pending&status=canceled"), 400, "validation_error", field="status")
    with nothing_written():
        assert_error(api.delete(f"/api/admin/orders?number={a.number}&number=x"), 400, "validation_error",
                     field="number")


def test_dry_run_takes_exactly_true_or_false(api):
    order = placed_order()
    with nothing_written():
        assert_error(api.post(f"/api/admin/orders/{order.id}/invoices?dry_run=yes"), 400, "validation_error",
                     field="dry_run")
    r = api.post(f"/api/admin/orders/{order.id}/invoices?dry_run=false")
    assert r.status_code == 201
    assert reload(order).total_invoiced == order.grand_total


def test_the_browsable_format_parameter_is_documented_and_accepted(api):
    placed_order()
    assert api.get("/api/admin/orders?format=json").status_code == 200
    assert_error(api.get("/api/admin/orders?format=xml"), 406, "not_acceptable")


# ---------------------------------------------------------------- sync filters

def test_id_and_updated_filters_and_ordering(api):
    a, b, c = placed_order(), placed_order(), placed_order()
    assert _ids(api.get(f"/api/admin/orders?min_id={b.id}&ordering=id")) == [b.id, c.id]
    assert _ids(api.get(f"/api/admin/orders?max_id={b.id}&ordering=id")) == [a.id, b.id]
    assert _ids(api.get(f"/api/admin/orders?min_id={b.id}&max_id={b.id}")) == [b.id]

    base = timezone.now() - timedelta(days=3)
    for n, order in enumerate((a, b, c)):
        Order.objects.filter(id=order.id).update(updated_at=base + timedelta(hours=n))
    b_at = reload(b).updated_at.isoformat()
    # the instant given is included on both sides
    assert _ids(api.get("/api/admin/orders", {"updated_after": b_at, "ordering": "updated_at"})) == [b.id, c.id]
    assert _ids(api.get("/api/admin/orders", {"updated_before": b_at, "ordering": "updated_at"})) == [a.id, b.id]
    assert _ids(api.get("/api/admin/orders", {"ordering": "-updated_at"})) == [c.id, b.id, a.id]
    assert _ids(api.get("/api/admin/orders", {"updated_after": base.date().isoformat(), "ordering": "id"})) == [
        a.id, b.id, c.id]
    detail = api.get(f"/api/admin/orders/{b.id}").json()
    assert re.search(r"T\d\d:\d\d:\d\d\.\d{3}", detail["updated_at"]), detail["updated_at"]


def test_every_change_moves_updated_at(api):
    order = order_with((product(), 2))
    past = timezone.now() - timedelta(days=1)

    def moved_by(call) -> None:
        Order.objects.filter(id=order.id).update(updated_at=past)
        response = call()
        assert response.status_code < 300, response.content[:300]
        assert reload(order).updated_at > past, call

    moved_by(lambda: api.post(f"/api/admin/orders/{order.id}/comments", {"comment": "hi"}, format="json"))
    moved_by(lambda: api.post(f"/api/admin/orders/{order.id}/invoices", {"items": [
        {"order_item_id": order.items.get().id, "quantity": 1}]}, format="json"))
    moved_by(lambda: api.delete(f"/api/admin/orders/{order.id}"))
    moved_by(lambda: api.post(f"/api/admin/orders/{order.id}/restore"))
    moved_by(lambda: api.delete(f"/api/admin/orders?number={order.number}"))
    moved_by(lambda: api.post(f"/api/admin/orders/restore?number={order.number}"))
    moved_by(lambda: api.post(f"/api/admin/orders/{order.id}/cancel"))
    # a sync client asking for changes since `past` finds it
    assert _ids(api.get("/api/admin/orders", {"updated_after": past.isoformat()})) == [order.id]


# ---------------------------------------------------------------- bulk restore

def test_bulk_restore_takes_the_list_filters(api):
    x, y = CustomerFactory(email="x@example.com"), CustomerFactory(email="y@example.com")
    mine = [order_with((product(), 1), customer=x) for _ in range(2)]
    other = order_with((product(), 1), customer=y)
    assert api.delete("/api/admin/orders?confirm=all").json() == {"archived": 3}

    with nothing_written():
        assert_error(api.post("/api/admin/orders/restore"), 400, "confirmation_required", field="confirm")
        assert_error(api.post("/api/admin/orders/restore?archived=true"), 400, "confirmation_required")
        assert_error(api.post("/api/admin/orders/restore?email="), 400, "confirmation_required")
        assert_error(api.post("/api/admin/orders/restore?emial=x@example.com"), 400, "unknown_parameter",
                     field="emial")

    r = api.post("/api/admin/orders/restore?email=x@example.com")
    assert r.status_code == 200 and r.json() == {"restored": 2}
    assert {o.id for o in Order.objects.filter(archived_at__isnull=True)} == {o.id for o in mine}
    assert reload(other).archived_at is not None
    assert OrderEvent.objects.filter(type="restored").count() == 2
    # restoring live orders does nothing and records nothing
    assert api.post("/api/admin/orders/restore?email=x@example.com").json() == {"restored": 0}
    assert OrderEvent.objects.filter(type="restored").count() == 2
    assert api.post("/api/admin/orders/restore?confirm=all").json() == {"restored": 1}
    assert Order.objects.filter(archived_at__isnull=False).count() == 0


def test_bulk_restore_needs_the_archive_permission(staff_api):
    order = placed_order()
    Order.objects.filter(id=order.id).update(archived_at=timezone.now())
    viewer = staff_api("sales.view_order")
    with nothing_written():
        assert_error(viewer.post("/api/admin/orders/restore?confirm=all"), 403, "permission_denied")


def test_bulk_work_runs_in_batches_of_at_most_1000(api):
    orders = [placed_order() for _ in range(5)]
    assert BULK_BATCH == 1000
    with CaptureQueriesContext(connection) as queries:
        archived = orders_archive_matching(queryset=Order.objects.all(), actor=None, batch_size=2)
    assert archived == 5
    savepoints = [q for q in queries.captured_queries if q["sql"].upper().startswith("SAVEPOINT")]
    assert len(savepoints) == 3  # one transaction per batch of 2: 2 + 2 + 1
    assert OrderEvent.objects.filter(type="archived").count() == len(orders)
    with pytest.raises(AssertionError):
        orders_archive_matching(queryset=Order.objects.all(), actor=None, batch_size=1001)


# ---------------------------------------------------------------- bodies

def test_malformed_json_is_400_and_cancels_nothing(api):
    order = placed_order()
    for content_type in ("application/json", None):
        kwargs = {"content_type": content_type} if content_type else {}
        with nothing_written(api, order.id):
            r = api.generic("POST", f"/api/admin/orders/{order.id}/cancel", "{bad json", **kwargs)
            assert_error(r, 400, "parse_error")
    with nothing_written(api, order.id):
        assert_error(api.generic("DELETE", f"/api/admin/orders/{order.id}", "{bad", content_type="application/json"),
                     400, "parse_error")
    # an empty body still means "everything left"
    r = api.post(f"/api/admin/orders/{order.id}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "canceled"


def test_a_form_body_is_415(api):
    order = placed_order()
    with nothing_written(api, order.id):
        r = api.generic("POST", f"/api/admin/orders/{order.id}/cancel", "a=1",
                        content_type="application/x-www-form-urlencoded")
        assert_error(r, 415, "unsupported_media_type")


@pytest.mark.parametrize("path, body, field", [
    ("invoices", {"itmes": [{"order_item_id": 1, "quantity": 1}]}, "itmes"),
    ("invoices", {"items": [{"order_item_id": "{item}", "quantity": 1, "qty": 2}]}, "items.0.qty"),
    ("shipments", {"inventory_source": 1}, "inventory_source"),
    ("refunds", {"shipping": "5.00"}, "shipping"),
    ("refunds/preview", {"adjustment": "1.00"}, "adjustment"),
    ("cancel", {"items": []}, "items"),
])
def test_an_unknown_body_field_writes_nothing(api, path, body, field):
    order = order_with((product(), 2))
    invoice_all(order) if path.startswith("refunds") else None
    item_id = order.items.get().id
    if "items" in body and body["items"]:
        body = {**body, "items": [{**line, "order_item_id": item_id} for line in body["items"]]}
    with nothing_written(api, order.id):
        err = assert_error(api.post(f"/api/admin/orders/{order.id}/{path}", body, format="json"), 400,
                           "validation_error", field=field)
    assert [e["code"] for e in err["errors"] if e["field"] == field] == ["unknown_field"]


def test_order_patch_refuses_unknown_fields(api):
    order = order_with((product(), 2))
    item = order.items.get()
    with nothing_written(api, order.id):
        err = assert_error(api.patch(f"/api/admin/orders/{order.id}", {
            "items": [{"id": item.id, "quantity": 1}], "notes": "x"}, format="json"), 400, "validation_error",
            field="notes")
    assert err["errors"][0]["code"] == "unknown_field"
    with nothing_written(api, order.id):
        assert_error(api.patch(f"/api/admin/orders/{order.id}", {"items": [{"id": item.id, "qty": 1}]},
                               format="json"), 400, "validation_error", field="items.0.qty")


def test_a_bulk_archive_stopped_half_way_says_what_it_did(api, monkeypatch):
    """Batches commit one by one (SPEC §7.3): a database failure in a later batch answers a 500 that
    counts what stayed archived, never the generic "nothing was changed"."""
    from django.db import DatabaseError

    from sales.services import archiving

    orders = [placed_order() for _ in range(3)]
    real, calls = archiving.events_archived_bulk, []

    def failing_second_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise DatabaseError("injected")
        return real(*args, **kwargs)

    monkeypatch.setattr(archiving, "events_archived_bulk", failing_second_batch)
    monkeypatch.setattr(archiving.orders_archive_matching, "__kwdefaults__", {"batch_size": 2})
    api.raise_request_exception = False
    body = assert_error(api.delete("/api/admin/orders?confirm=all"), 500, "bulk_incomplete", says="after 2 order(s)")
    assert "nothing was changed" not in body["message"]
    archived = set(Order.objects.filter(archived_at__isnull=False).values_list("id", flat=True))
    assert archived == {orders[0].id, orders[1].id}  # the first batch stands, the second rolled back whole
    assert OrderEvent.objects.filter(type="archived").count() == 2
