from decimal import Decimal

import pytest

from catalog.models import InventorySource, Product, ProductInventory
from sales.models import Invoice, Order, OrderEvent, Sequence
from tests.carts.helpers import ready_cart
from tests.catalog.factories import ProductFactory
from tests.sales.helpers import placed_order

pytestmark = pytest.mark.django_db


def test_archive_restore_and_lists(api):
    a, b = placed_order(), placed_order()
    assert api.delete(f"/api/admin/orders/{a.id}").status_code == 204
    assert api.delete(f"/api/admin/orders/{a.id}").status_code == 204  # idempotent
    assert api.get("/api/admin/orders").json()["count"] == 1
    assert api.get("/api/admin/orders?archived=true").json()["results"][0]["id"] == a.id
    assert api.get("/api/admin/orders/count").json()["count"] == 1
    assert api.get(f"/api/admin/orders/{a.id}").json()["archived_at"] is not None
    r = api.post(f"/api/admin/orders/{a.id}/restore")
    assert r.status_code == 200 and r.json()["archived_at"] is None
    assert [e.type for e in OrderEvent.objects.filter(order=a).order_by("id")][-2:] == ["archived", "restored"]
    assert api.get("/api/admin/orders").json()["count"] == 2 and b.archived_at is None


def test_bulk_archive_needs_filter_or_confirmation(api, staff_api):
    orders = [placed_order() for _ in range(3)]
    r = api.delete("/api/admin/orders")
    assert r.status_code == 400 and r.json()["code"] == "confirmation_required"
    assert Order.objects.filter(archived_at__isnull=False).count() == 0
    r = api.delete(f"/api/admin/orders?number={orders[0].number}")
    assert r.status_code == 200 and r.json() == {"archived": 1}
    r = api.delete("/api/admin/orders?confirm=all")
    assert r.json() == {"archived": 2}
    viewer = staff_api("sales.view_order")
    assert viewer.delete(f"/api/admin/orders/{orders[0].id}").status_code == 403


def _state(order_id):
    order = Order.objects.get(id=order_id)
    return (order.status, order.total_invoiced, order.total_refunded, order.total_canceled,
            list(order.items.values_list("qty_invoiced", "qty_shipped", "qty_refunded", "qty_canceled")),
            Invoice.objects.count(), OrderEvent.objects.filter(order_id=order_id).count(),
            list(Sequence.objects.values_list("name", "last_value").order_by("name")),
            list(Product.objects.values_list("id", "qty_reserved").order_by("id")),
            list(ProductInventory.objects.values_list("id", "qty").order_by("id")))


def test_dry_run_invoice_ship_refund_cancel_write_nothing(api):
    product = ProductFactory(price=Decimal("10.00"), stock=5)
    order = placed_order((product, 2))
    before = _state(order.id)
    r = api.post(f"/api/admin/orders/{order.id}/invoices?dry_run=true", {}, format="json")
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["dry_run"] is True and body["status_after"] == "processing"
    assert body["totals"]["total_invoiced"] == "25.00" and body["document"]["number"] is None
    assert body["document"]["grand_total"] == "25.00"
    assert _state(order.id) == before

    source = InventorySource.objects.get(code="default")
    r = api.post(f"/api/admin/orders/{order.id}/shipments?dry_run=true", {"inventory_source_id": source.id},
                 format="json")
    assert r.status_code == 200, r.json()
    moves = {(m["inventory_source_id"], m["reserved"], m["on_hand"]) for m in r.json()["stock_moves"]}
    assert moves == {(None, -2, 0), (source.id, 0, -2)}
    assert _state(order.id) == before

    r = api.post(f"/api/admin/orders/{order.id}/cancel?dry_run=true")
    assert r.status_code == 200 and r.json()["status_after"] == "canceled"
    assert r.json()["stock_moves"] == [{"product_id": product.id, "sku": product.sku, "inventory_source_id": None,
                                        "reserved": -2, "on_hand": 0}]
    assert _state(order.id) == before

    # A dry run refuses exactly as the real call would.
    r = api.post(f"/api/admin/orders/{order.id}/refunds?dry_run=true", {"adjustment_refund": "1.00"}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "order_not_refundable"


def test_dry_run_place_writes_nothing(api):
    product = ProductFactory(price=Decimal("10.00"), stock=5)
    cart = ready_cart((product, 3))
    r = api.post(f"/api/admin/orders/place/{cart.id}?dry_run=true")
    assert r.status_code == 200, r.json()
    assert r.json()["status_after"] == "pending" and r.json()["totals"]["grand_total"] == "35.00"
    assert r.json()["stock_moves"][0]["reserved"] == 3
    assert Order.objects.count() == 0
    cart.refresh_from_db()
    assert cart.is_active and Product.objects.get(id=product.id).qty_reserved == 0
    assert api.post(f"/api/admin/orders/place/{cart.id}").status_code == 201
