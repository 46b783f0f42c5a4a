"""The dashboard on the admin index in a real browser (SPEC §14), at 1366 × 768: Chart.js draws the
revenue chart (a canvas with a size), nothing scrolls sideways, and what the page shows equals what
the API answers for the same data: the orders by status against GET /api/admin/orders/count, and a
day's revenue against that day's invoices less refunds from GET /api/admin/invoices and
/api/admin/refunds, each converted to the base currency at its order's exchange rate (from
GET /api/admin/orders/{id}). Screenshot with SCREENSHOTS=1 (`make screenshots`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from playwright.sync_api import expect

from catalog.models import Currency
from sales.models import Invoice, OrderStatus
from sales.services.canceling import order_cancel
from sales.services.common import LineQty
from sales.services.counters import counters_repair
from sales.services.holding import order_hold
from sales.services.invoicing import invoice_create
from sales.services.placing import order_place
from sales.services.refunding import RefundRequest, refund_create
from tests.browser.conftest import login
from tests.browser.test_day_to_day import admin
from tests.browser.test_order_lifecycle import place, store
from tests.carts.helpers import ready_cart

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CENT = Decimal("0.01")


def a_week_of_orders():
    """Orders in USD and one in EUR (at 0.92), invoiced today and yesterday, one refunded in part,
    one canceled, one held, one pending."""
    data = store()
    Currency.objects.filter(code="EUR").update(rate=Decimal("0.92"))
    usd = place(data, (data["beans"], 3), (data["mugs"], 2))
    invoice_create(order_id=usd.id, items=None, actor=None)
    eur = order_place(cart_id=ready_cart((data["beans"], 2), (data["mugs"], 1), customer=data["customer"],
                                         currency="EUR").id, actor=None)
    assert eur.currency == "EUR"
    invoice_create(order_id=eur.id, items=None, actor=None)
    beans_line = eur.items.order_by("id").first()
    refund_create(order_id=eur.id, request=RefundRequest(items=[LineQty(beans_line.id, 1)]), actor=None)
    earlier = place(data, (data["mugs"], 1))
    invoice = invoice_create(order_id=earlier.id, items=None, actor=None)
    Invoice.objects.filter(id=invoice.id).update(created_at=datetime.now(UTC) - timedelta(days=1))
    counters_repair()  # the invoice was moved to yesterday by hand: the day rollups follow, as a repair does
    order_cancel(order_id=place(data, (data["beans"], 1)).id, actor=None)
    order_hold(order_id=place(data, (data["mugs"], 1)).id, reason="Customer asked to wait", actor=None)
    place(data, (data["beans"], 1))
    return data


def api_day_revenue(page, day: str) -> Decimal:
    """Σ base(invoice grand_total) − Σ base(refund grand_total) of the documents created on ``day``,
    read from the documents API; base = the amount / its order's exchange rate, half up to cents."""
    rates: dict[int, Decimal] = {}

    def documents(kind: str) -> list[dict]:
        r = page.request.get(f"/api/admin/{kind}?created_after={day}&created_before={day}&page_size=250")
        assert r.ok, r.text()
        body = r.json()
        assert body["next"] is None
        return body["results"]

    def base(doc: dict) -> Decimal:
        if doc["order_id"] not in rates:
            order = page.request.get(f"/api/admin/orders/{doc['order_id']}").json()
            rates[doc["order_id"]] = Decimal(order["exchange_rate"])
        return (Decimal(doc["grand_total"]) / rates[doc["order_id"]]).quantize(CENT, rounding=ROUND_HALF_UP)

    invoices, refunds = documents("invoices"), documents("refunds")
    return sum((base(d) for d in invoices), Decimal("0")) - sum((base(d) for d in refunds), Decimal("0"))


def test_dashboard_chart_and_figures_equal_the_api_at_1366(laptop_page, screenshot):
    page = laptop_page
    a_week_of_orders()
    admin()
    login(page, "ada@example.com")

    expect(page.locator("#order-dashboard")).to_be_visible()
    expect(page.locator("#dash-revenue-chart")).to_have_attribute("data-drawn", "true")
    box = page.locator("#dash-revenue-chart").bounding_box()
    assert box and box["width"] > 300 and box["height"] > 100, box
    drawn = page.evaluate("""() => {
        const c = document.getElementById('dash-revenue-chart');
        const chart = window.Chart.getChart(c);
        return {width: c.width, height: c.height, bars: chart.data.datasets[0].data.length,
                painted: c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some(v => v !== 0)};
    }""")
    assert drawn["width"] > 0 and drawn["height"] > 0 and drawn["bars"] == 30 and drawn["painted"], drawn
    # No horizontal scroll at 1366 px, the recent actions beside the dashboard.
    widths = page.evaluate("() => ({doc: document.documentElement.scrollWidth, win: window.innerWidth})")
    assert widths["doc"] <= widths["win"], widths
    expect(page.locator("#recent-actions-module")).to_be_visible()
    expect(page.locator(".app-sales")).to_be_visible()  # the app list is still there

    # Orders by status: the API's count, status by status.
    counts = page.request.get("/api/admin/orders/count").json()
    for status in counts["statuses"]:
        row = page.locator(f"#dash-statuses tr[data-status='{status['status']}'] td")
        expect(row).to_have_text(str(status["count"]))
    expect(page.locator("#dash-statuses tr[data-status='all'] td")).to_have_text(str(counts["count"]))
    by_status = {s["status_id"]: s["count"] for s in counts["statuses"]}
    assert by_status[OrderStatus.CANCELED] == 1 and by_status[OrderStatus.PROCESSING] == 3

    # A day's revenue: today (USD, EUR and a refund in EUR) and yesterday, as the documents API says.
    today = datetime.now(UTC).date()
    for day in (today, today - timedelta(days=1)):
        iso = day.isoformat()
        expected = api_day_revenue(page, iso)
        assert expected > 0
        cell = page.locator(f"#dash-revenue-table tr[data-day='{iso}'] td[data-amount]")
        assert Decimal(cell.get_attribute("data-amount")) == expected, iso
        expect(cell).to_have_text(f"{expected:.2f} USD")
    # The chart draws the same figure as the table: Chart.js holds today's bar.
    bar = page.evaluate("() => window.Chart.getChart(document.getElementById('dash-revenue-chart'))"
                        ".data.datasets[0].data.at(-1)")
    assert Decimal(str(bar)).quantize(CENT) == api_day_revenue(page, today.isoformat())
    # Work waiting: the held order is on hold; the status links open the filtered order list.
    expect(page.locator("#dash-waiting tr[data-waiting='on_hold'] td")).to_have_text("1")
    screenshot(page, "dashboard", full_page=True)
    page.locator("#dash-statuses tr[data-status='canceled'] a").click()
    page.wait_for_url(f"**/admin/sales/order/?status={OrderStatus.CANCELED.value}")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    page.go_back()
    to_ship = int(page.locator("#dash-waiting tr[data-waiting='to_ship'] td").inner_text())
    assert to_ship == 4  # the USD, EUR and earlier orders (invoiced, not shipped) and the pending one
    page.locator("#dash-waiting tr[data-waiting='to_ship'] a").click()
    page.wait_for_url("**/admin/sales/order/?waiting=to_ship")
    expect(page.locator("#result_list tbody tr")).to_have_count(to_ship)
