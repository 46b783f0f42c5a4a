import csv
import io

import pytest

from tests.sales.helpers import placed_order

pytestmark = pytest.mark.django_db


def test_export_streams_filtered_orders(api):
    a, b = placed_order(), placed_order(payment="moneytransfer")
    r = api.get("/api/admin/orders/export.csv?payment_method=moneytransfer")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv") and r.streaming
    rows = list(csv.DictReader(io.StringIO(b"".join(r.streaming_content).decode())))
    assert [row["number"] for row in rows] == [b.number]
    assert rows[0]["grand_total"] == str(b.grand_total) and rows[0]["status"] == "pending"
    r = api.get("/api/admin/orders/export.csv")
    assert len(list(csv.DictReader(io.StringIO(b"".join(r.streaming_content).decode())))) == 2
    r = api.get("/api/admin/orders/export.csv?created_after=yesterday-ish")
    assert r.status_code == 400 and r.json()["code"] == "validation_error"
    assert a.number


def test_admin_order_page_shows_an_imported_document(client, admin_user):
    from sales.models import Order

    order = placed_order()
    Order.objects.filter(id=order.id).update(reference="EXT-1", source_document={"reference": "EXT-1",
                                                                                 "eori_number": "GB123"})
    client.force_login(admin_user)
    page = client.get(f"/admin/sales/order/{order.id}/change/").content.decode()
    assert "Imported document" in page and "eori_number" in page and "GB123" in page
