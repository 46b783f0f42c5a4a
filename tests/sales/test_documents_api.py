"""Store-wide Invoices, Shipments and Refunds (SPEC §6)."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import InventorySource
from sales.models import Invoice, Refund, Shipment
from sales.services.common import LineQty
from sales.services.counters import counters_repair
from sales.services.invoicing import invoice_create
from sales.services.refunding import RefundRequest, refund_create
from sales.services.shipping import shipment_create
from tests.catalog.factories import ProductFactory
from tests.sales.helpers import placed_order

pytestmark = pytest.mark.django_db

DOC_KEYS = {"id", "number", "order_id", "order_number", "state", "created_at", "created_by", "items", "subtotal",
            "tax_total", "discount_total", "shipping_total", "grand_total", "currency", "customer_email"}
ITEM_KEYS = {"order_item_id", "sku", "name", "quantity", "price", "subtotal", "tax_amount", "discount_amount",
             "total"}


def _order_with_documents(lines: int = 2, actor=None):
    """An order with one invoice, one shipment and one refund per line."""
    products = [(ProductFactory(price=Decimal("10.00") + n, stock=50), 2) for n in range(lines)]
    order = placed_order(*products)
    source = InventorySource.objects.get(code="default")
    for item in order.items.all():
        invoice_create(order_id=order.id, items=[LineQty(item.id, 2)], actor=actor)
        shipment_create(order_id=order.id, inventory_source_id=source.id, items=[LineQty(item.id, 1)],
                        carrier_title="DHL", track_number=f"T{item.id}", actor=actor)
        refund_create(order_id=order.id, request=RefundRequest(items=[LineQty(item.id, 1)]), actor=actor)
    return order


@pytest.fixture
def two_orders(admin_user):
    return _order_with_documents(2, actor=admin_user), _order_with_documents(1, actor=admin_user)


# ---------------------------------------------------------------- shapes

def test_invoice_list_and_detail_shape(api, two_orders):
    first, second = two_orders
    r = api.get("/api/admin/invoices")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3 and body["next"] is None and body["previous"] is None
    newest = body["results"][0]
    assert set(newest) == DOC_KEYS
    assert set(newest["items"][0]) == ITEM_KEYS
    assert newest["order_id"] == second.id and newest["order_number"] == second.number
    assert newest["state"] == "paid" and newest["currency"] == "USD"
    assert newest["created_by"]["email"] == "admin@example.com"
    numbers = [x["number"] for x in body["results"]]
    assert numbers == sorted(numbers, reverse=True)  # newest first

    detail = api.get(f"/api/admin/invoices/{newest['id']}")
    assert detail.status_code == 200
    assert detail.json() == newest


def test_shipment_list_and_detail_shape(api, two_orders):
    r = api.get("/api/admin/shipments")
    assert r.status_code == 200 and r.json()["count"] == 3
    doc = r.json()["results"][0]
    assert set(doc) == DOC_KEYS | {"carrier_title", "track_number", "inventory_source", "total_qty"}
    assert doc["inventory_source"]["code"] == "default" and doc["total_qty"] == 1 and doc["carrier_title"] == "DHL"
    detail = api.get(f"/api/admin/shipments/{doc['id']}")
    assert detail.status_code == 200 and detail.json() == doc


def test_refund_list_and_detail_shape(api, two_orders):
    r = api.get("/api/admin/refunds")
    assert r.status_code == 200 and r.json()["count"] == 3
    doc = r.json()["results"][0]
    assert set(doc) == DOC_KEYS | {"adjustment_refund", "adjustment_fee", "return_to_stock"}
    assert doc["state"] == "refunded" and doc["items"][0]["quantity"] == 1
    detail = api.get(f"/api/admin/refunds/{doc['id']}")
    assert detail.status_code == 200 and detail.json() == doc


@pytest.mark.parametrize("kind", ["invoices", "shipments", "refunds"])
def test_unknown_id_is_404_not_found(api, kind):
    for path in (f"/api/admin/{kind}/999999", f"/api/admin/{kind}/99999999999999999"):
        r = api.get(path)
        assert r.status_code == 404, path
        assert r.json()["code"] == "not_found"
    r = api.get(f"/api/admin/{kind}/999999999999999999999999")  # past the converter: no such path
    assert r.status_code == 404 and r.json()["code"] == "not_found"


# ---------------------------------------------------------------- filters

@pytest.mark.parametrize("kind", ["invoices", "shipments", "refunds"])
def test_filter_by_order_and_order_number(api, two_orders, kind):
    first, second = two_orders
    r = api.get(f"/api/admin/{kind}", {"order": first.id})
    assert r.status_code == 200
    assert r.json()["count"] == 2 and {x["order_id"] for x in r.json()["results"]} == {first.id}
    r = api.get(f"/api/admin/{kind}", {"order_number": second.number})
    assert r.json()["count"] == 1 and r.json()["results"][0]["order_number"] == second.number
    r = api.get(f"/api/admin/{kind}", {"order": 999999})
    assert r.status_code == 200 and r.json()["count"] == 0


@pytest.mark.parametrize("kind,model", [("invoices", Invoice), ("shipments", Shipment), ("refunds", Refund)])
def test_filter_by_created_dates_inclusive(api, two_orders, kind, model):
    tz = timezone.get_current_timezone()
    docs = list(model.objects.order_by("id"))
    stamps = [datetime(2025, 3, 1, 0, 0, tzinfo=tz), datetime(2025, 3, 2, 23, 59, 59, tzinfo=tz),
              datetime(2025, 3, 5, 12, 0, tzinfo=tz)]
    for doc, when in zip(docs, stamps, strict=True):
        model.objects.filter(id=doc.id).update(created_at=when)
    counters_repair()  # documents re-dated directly: the revenue rollups follow

    def ids(**params):
        r = api.get(f"/api/admin/{kind}", params)
        assert r.status_code == 200, r.json()
        return [x["id"] for x in r.json()["results"]]

    assert ids(created_after="2025-03-01", created_before="2025-03-02") == [docs[1].id, docs[0].id]
    assert ids(created_after="2025-03-02") == [docs[2].id, docs[1].id]
    assert ids(created_before="2025-03-01") == [docs[0].id]
    assert ids(created_after="2025-03-05T12:00:00") == [docs[2].id]  # a date-time is inclusive too
    assert ids(created_before=stamps[1].isoformat()) == [docs[1].id, docs[0].id]
    assert ids(created_after="2025-03-06") == []


@pytest.mark.parametrize("kind", ["invoices", "shipments", "refunds"])
@pytest.mark.parametrize("params", [{"created_after": "yesterday"}, {"created_before": "2025-13-01"},
                                    {"created_after": "2025-02-30"}, {"order": "abc"}, {"order": "1.5"},
                                    {"order": "99999999999999999999999"}, {"page_size": "x"}])
def test_malformed_filters_are_400(api, kind, params):
    r = api.get(f"/api/admin/{kind}", params)
    assert r.status_code == 400, r.json()
    body = r.json()
    assert body["code"] == "validation_error"
    assert body["errors"][0]["field"] == next(iter(params))


def test_invoice_state_filter(api, two_orders):
    Invoice.objects.filter(id=Invoice.objects.order_by("id").first().id).update(state="open")
    assert api.get("/api/admin/invoices", {"state": "paid"}).json()["count"] == 2
    assert api.get("/api/admin/invoices", {"state": "open"}).json()["count"] == 1
    r = api.get("/api/admin/invoices", {"state": "bogus"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "state"


def test_pagination(api, two_orders):
    r = api.get("/api/admin/invoices", {"page_size": 2})
    body = r.json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"] and body["previous"] is None
    r2 = api.get("/api/admin/invoices", {"page_size": 2, "page": 2})
    assert len(r2.json()["results"]) == 1 and r2.json()["previous"]
    assert {x["id"] for x in body["results"]}.isdisjoint({x["id"] for x in r2.json()["results"]})
    assert api.get("/api/admin/invoices", {"page": 9}).status_code == 404
    assert len(api.get("/api/admin/invoices", {"page_size": 1000}).json()["results"]) == 3  # capped at 250


def _bulk_documents(orders: int, per_order: int, actor=None) -> None:
    """Many documents quickly: a few orders through the services, then copies of their documents
    written in bulk (these tests read documents; they do not need the ledgers to move)."""
    from sales.models import InvoiceItem, RefundItem, ShipmentItem
    from sales.services.numbering import numbers_reserve

    source = InventorySource.objects.get(code="default")
    made = [placed_order((ProductFactory(price=Decimal("4.00"), stock=5), 2),
                         (ProductFactory(price=Decimal("6.00"), stock=5), 1)) for _ in range(orders)]
    for model, item_model, extra in ((Invoice, InvoiceItem, {}), (Shipment, ShipmentItem,
                                                                  {"inventory_source": source, "total_qty": 3}),
                                     (Refund, RefundItem, {})):
        kind = model.__name__.lower()
        numbers = iter(numbers_reserve(kind, orders * per_order))
        docs = model.objects.bulk_create([
            model(order=o, number=next(numbers), created_by=actor, subtotal=Decimal("14.00"),
                  grand_total=Decimal("14.00"), **extra) for o in made for _ in range(per_order)])
        docs = list(model.objects.filter(id__in=[d.id for d in docs]) if docs[0].id is None else docs)
        lines = {o.id: list(o.items.all()) for o in made}
        item_model.objects.bulk_create([
            item_model(**{kind: d}, order_item=i, sku=i.sku, name=i.name, quantity=i.qty_ordered, price=i.price,
                       subtotal=i.subtotal, total=i.total) for d in docs for i in lines[d.order_id]])


def test_page_size_defaults_to_50_and_caps_at_250(api):
    _bulk_documents(2, 130)
    for kind in ("invoices", "shipments", "refunds"):
        assert api.get(f"/api/admin/{kind}").json()["count"] == 260
        assert len(api.get(f"/api/admin/{kind}").json()["results"]) == 50
        assert len(api.get(f"/api/admin/{kind}", {"page_size": 251}).json()["results"]) == 250


# ---------------------------------------------------------------- permissions

@pytest.mark.parametrize("kind,perm", [("invoices", "sales.view_invoice"), ("shipments", "sales.view_shipment"),
                                       ("refunds", "sales.view_refund")])
def test_permissions(staff_api, anon, two_orders, kind, perm):
    doc_id = {"invoices": Invoice, "shipments": Shipment, "refunds": Refund}[kind].objects.first().id
    r = anon.get(f"/api/admin/{kind}")
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"
    assert r["WWW-Authenticate"] == "Bearer"
    without = staff_api("sales.view_order")
    for path in (f"/api/admin/{kind}", f"/api/admin/{kind}/{doc_id}"):
        r = without.get(path)
        assert r.status_code == 403 and r.json()["code"] == "permission_denied", path
    allowed = staff_api(perm)
    for path in (f"/api/admin/{kind}", f"/api/admin/{kind}/{doc_id}"):
        assert allowed.get(path).status_code == 200, path
    r = allowed.post(f"/api/admin/{kind}", {}, format="json")
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"


# ---------------------------------------------------------------- query counts

def _count_queries(api, path: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        r = api.get(path)
    assert r.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("kind", ["invoices", "shipments", "refunds"])
def test_query_count_does_not_grow_with_page_size(api, admin_user, kind, django_assert_num_queries):
    _bulk_documents(12, 5, actor=admin_user)  # 60 of each document over 12 orders, 2 lines each
    assert api.get(f"/api/admin/{kind}", {"page_size": 50}).json()["count"] == 60
    baseline = _count_queries(api, f"/api/admin/{kind}?page_size=1")
    # auth + count + one joined page query + one query for every page's lines
    with django_assert_num_queries(baseline):
        r = api.get(f"/api/admin/{kind}", {"page_size": 5})
    assert len(r.json()["results"]) == 5
    with django_assert_num_queries(baseline):
        r = api.get(f"/api/admin/{kind}", {"page_size": 50})
    assert len(r.json()["results"]) == 50
    assert len({x["order_id"] for x in r.json()["results"]}) >= 10
    with django_assert_num_queries(baseline - 1):  # a detail has no count query
        api.get(f"/api/admin/{kind}/{r.json()['results'][0]['id']}")


def test_list_query_count_is_small(api, admin_user):
    _order_with_documents(3, actor=admin_user)
    with CaptureQueriesContext(connection) as ctx:
        api.get("/api/admin/invoices")
    documents = [q["sql"] for q in ctx.captured_queries if "sales_invoice" in q["sql"]]
    assert len(documents) == 3, documents  # count, page with order and author joined, lines


def test_created_at_is_timezone_aware_iso(api, two_orders):
    doc = api.get("/api/admin/invoices").json()["results"][0]
    parsed = datetime.fromisoformat(doc["created_at"].replace("Z", "+00:00"))
    assert parsed.tzinfo is not None
    assert abs(parsed - timezone.now()) < timedelta(minutes=5)
