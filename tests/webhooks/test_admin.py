"""Webhook endpoints and deliveries in the admin: registering shows the secret once and goes
through the services' checks; a switched-off endpoint says why; deliveries can be sent again."""

from __future__ import annotations

import pytest

from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services.deliveries import endpoint_ping

pytestmark = pytest.mark.django_db


def test_register_an_endpoint_in_the_admin_shows_its_secret_once(client, admin_user, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    client.force_login(admin_user)
    page = client.get("/admin/webhooks/webhookendpoint/add/")
    assert page.status_code == 200 and b"order.invoiced" in page.content
    refused = client.post("/admin/webhooks/webhookendpoint/add/", {
        "url": "http://127.0.0.1/hook", "events": ["*"], "description": "", "is_active": "on"})
    assert refused.status_code == 200 and b"loopback, private or link-local" in refused.content
    assert WebhookEndpoint.objects.count() == 0
    r = client.post("/admin/webhooks/webhookendpoint/add/", {
        "url": "https://hooks.example.com/x", "events": ["order.invoiced", "order.shipped"], "description": "ERP",
        "is_active": "on"}, follow=True)
    assert r.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["order.invoiced", "order.shipped"] and len(endpoint.secret) == 64
    assert endpoint.secret.encode() in r.content  # once, in the message after saving
    change = client.get(f"/admin/webhooks/webhookendpoint/{endpoint.id}/change/")
    assert change.status_code == 200 and endpoint.secret.encode() not in change.content


def test_a_switched_off_endpoint_says_why(client, admin_user):
    client.force_login(admin_user)
    WebhookEndpoint.objects.create(url="https://hooks.example.com/x", events=["*"], secret="s" * 32,
                                   is_active=False, disabled_reason="its last 50 delivery attempts failed")
    page = client.get("/admin/webhooks/webhookendpoint/")
    assert page.status_code == 200 and b"its last 50 delivery attempts failed" in page.content


def test_deliveries_list_detail_and_redeliver(client, admin_user, receiver, endpoint_for,
                                              django_capture_on_commit_callbacks):
    client.force_login(admin_user)
    endpoint = endpoint_for(receiver)
    with django_capture_on_commit_callbacks(execute=True):
        endpoint_ping(endpoint_id=endpoint.id)
    delivery = WebhookDelivery.objects.get()
    assert client.get("/admin/webhooks/webhookdelivery/").status_code == 200
    detail = client.get(f"/admin/webhooks/webhookdelivery/{delivery.id}/change/")
    assert detail.status_code == 200 and b"&quot;type&quot;:&quot;ping&quot;" in detail.content
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post("/admin/webhooks/webhookdelivery/", {"action": "redeliver", "_selected_action": [delivery.id]},
                        follow=True)
    assert r.status_code == 200
    assert WebhookDelivery.objects.get().attempts == 2 and len(receiver.wait_for(2)) == 2
