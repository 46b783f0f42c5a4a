"""Webhook endpoints and deliveries in the admin, in a real browser at 1366 × 768 (SPEC §13, §14):
a switched-off endpoint stands out in the list with its reason, its "Failed" link opens that
endpoint's failed deliveries, and "Redeliver" sends the selected one again (a real HTTP request to a
local receiver), after which it reads delivered. Screenshots with SCREENSHOTS=1 (`make screenshots`)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.browser.test_day_to_day import admin
from tests.webhooks.support import start_receiver
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services.deliveries import endpoint_ping
from webhooks.services.endpoints import endpoint_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    settings.WEBHOOK_RETRY_SCHEDULE = ()  # one failed attempt and a delivery is failed
    settings.WEBHOOK_TIMEOUT_SECONDS = 2
    r = start_receiver()
    yield r
    r.close()


def test_switched_off_endpoint_flagged_failed_deliveries_listed_and_redelivered(laptop_page, receiver, screenshot):
    page = laptop_page
    shop = endpoint_create(url=receiver.url + "/shop", events=["*"], secret="s" * 32, description="Shop front")
    erp = endpoint_create(url=receiver.url + "/erp", events=["order.invoiced"], secret="t" * 32, description="ERP")
    receiver.script = [500, 200, 200]
    endpoint_ping(endpoint_id=shop.id)  # answered 500: failed (no retries in this test)
    endpoint_ping(endpoint_id=shop.id)
    endpoint_ping(endpoint_id=erp.id)
    WebhookEndpoint.objects.filter(id=erp.id).update(
        is_active=False, consecutive_failures=50,
        disabled_reason="Switched off 2026-12-07 06:00 UTC: its last 50 delivery attempts failed (last: 503)")
    failed = WebhookDelivery.objects.get(status="failed")
    admin()
    login(page, "ada@example.com")

    page.goto("/admin/webhooks/webhookendpoint/")
    erp_row = page.locator("#result_list tbody tr", has_text="/erp")
    expect(erp_row.locator(".od-webhook-off")).to_have_text("Switched off")
    expect(erp_row).to_contain_text("its last 50 delivery attempts failed")
    expect(page.locator("#result_list tbody tr", has_text="/shop").locator(".od-webhook-on")).to_have_text("Active")
    widths = page.evaluate("() => ({doc: document.documentElement.scrollWidth, win: window.innerWidth})")
    assert widths["doc"] <= widths["win"], widths
    screenshot(page, "webhook-endpoints")

    page.locator("#result_list tbody tr", has_text="/shop").get_by_role("link", name="Failed").click()
    expect(page.locator("h1")).to_have_text(f"Deliveries to {shop.url}")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list tbody tr td.field-status")).to_have_text("Failed")
    screenshot(page, "webhook-deliveries-failed")

    receiver.script = [200]
    page.locator("#result_list tbody tr input.action-select").check()
    page.select_option("select[name=action]", "redeliver")
    page.click("button[name=index]")
    expect(page.locator(".messagelist")).to_contain_text("Sent again: 1 delivered")
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("delivered", 2)
    assert receiver.requests[-1].delivery == str(failed.id) and len(receiver.requests) == 4
    screenshot(page, "webhook-deliveries-redelivered")
