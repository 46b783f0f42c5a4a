import pytest

from sales.models import Invoice
from tests.sales.helpers import placed_order

pytestmark = pytest.mark.django_db


def test_same_key_same_body_replays_and_never_bills_twice(api):
    order = placed_order()
    url = f"/api/admin/orders/{order.id}/invoices"
    first = api.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="inv-1")
    assert first.status_code == 201
    again = api.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="inv-1")
    assert again.status_code == 201 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Invoice.objects.filter(order=order).count() == 1
    # Without the key the second call is a real one, and is refused: nothing left to invoice.
    assert api.post(url, {}, format="json").json()["code"] == "order_not_invoiceable"


def test_different_body_is_422_and_refusals_are_replayed(api):
    order = placed_order()
    item_id = order.items.get().id
    url = f"/api/admin/orders/{order.id}/invoices"
    bad = api.post(url, {"items": [{"order_item_id": item_id, "quantity": 99}]}, format="json",
                   HTTP_IDEMPOTENCY_KEY="k")
    assert bad.status_code == 409 and bad.json()["code"] == "quantity_exceeds_remaining"
    replay = api.post(url, {"items": [{"order_item_id": item_id, "quantity": 99}]}, format="json",
                      HTTP_IDEMPOTENCY_KEY="k")
    assert replay.status_code == 409 and replay.json() == bad.json()
    reused = api.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"
    assert Invoice.objects.count() == 0


def test_keys_are_scoped_by_path_and_dry_runs_are_not_stored(api):
    a, b = placed_order(), placed_order()
    r1 = api.post(f"/api/admin/orders/{a.id}/invoices?dry_run=true", {}, format="json", HTTP_IDEMPOTENCY_KEY="x")
    assert r1.status_code == 200 and r1.json()["dry_run"] is True
    r2 = api.post(f"/api/admin/orders/{a.id}/invoices", {}, format="json", HTTP_IDEMPOTENCY_KEY="x")
    assert r2.status_code == 201
    r3 = api.post(f"/api/admin/orders/{b.id}/invoices", {}, format="json", HTTP_IDEMPOTENCY_KEY="x")
    assert r3.status_code == 201 and r3.json()["id"] != r2.json()["id"]
