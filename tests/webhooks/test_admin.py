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


def test_endpoints_list_flags_switched_off_ones_and_links_each_to_its_deliveries(
        client, admin_user, receiver, endpoint_for, settings, django_capture_on_commit_callbacks):
    from webhooks.services.endpoints import endpoint_update

    settings.WEBHOOK_RETRY_SCHEDULE = ()  # one failed attempt and the delivery is failed
    client.force_login(admin_user)
    active = endpoint_for(receiver, path="/shop")
    off = endpoint_for(receiver, path="/old-erp")
    receiver.script = [500]
    with django_capture_on_commit_callbacks(execute=True):
        endpoint_ping(endpoint_id=active.id)  # answered 500: failed
    with django_capture_on_commit_callbacks(execute=True):
        endpoint_ping(endpoint_id=active.id)  # delivered
        endpoint_ping(endpoint_id=off.id)
    endpoint_update(endpoint_id=off.id, data={"is_active": False})  # switched off by hand
    failed = WebhookDelivery.objects.get(status="failed")
    assert failed.endpoint_id == active.id

    page = client.get("/admin/webhooks/webhookendpoint/").content.decode()
    assert page.count('class="od-webhook-off"') == 1 and "Switched off by hand" in page
    assert 'class="od-webhook-on">Active<' in page
    for endpoint in (active, off):
        for query in ("", "&amp;status__exact=failed", "&amp;status__exact=pending"):
            assert f'href="/admin/webhooks/webhookdelivery/?endpoint__id__exact={endpoint.id}{query}"' in page
    change = client.get(f"/admin/webhooks/webhookendpoint/{off.id}/change/").content.decode()
    assert 'class="od-webhook-off"' in change and f"endpoint__id__exact={off.id}&amp;status__exact=failed" in change

    # One endpoint's failed deliveries: the title names it, the status filter narrows the list.
    r = client.get(f"/admin/webhooks/webhookdelivery/?endpoint__id__exact={active.id}&status__exact=failed")
    assert r.status_code == 200 and f"Deliveries to {active.url}" in r.content.decode()
    assert [d.id for d in r.context["cl"].result_list] == [failed.id]
    r = client.get(f"/admin/webhooks/webhookdelivery/?endpoint__id__exact={active.id}")
    assert len(r.context["cl"].result_list) == 2
    # A switched-off endpoint's deliveries: flagged in the rows and said above the list.
    r = client.get(f"/admin/webhooks/webhookdelivery/?endpoint__id__exact={off.id}")
    body = r.content.decode()
    assert "This endpoint is switched off (by hand)" in body and 'class="od-webhook-off"' in body

    # Redeliver the failed one: the same delivery, one more attempt, now answered 200.
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post("/admin/webhooks/webhookdelivery/", {"action": "redeliver", "_selected_action": [failed.id]},
                        follow=True)
    assert "Sent again: 1 " in r.content.decode()  # (the status it read before the test ran the commit hooks)
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("delivered", 2)
    assert len(receiver.wait_for(4)) == 4 and receiver.requests[-1].delivery == str(failed.id)


def test_redeliver_needs_the_endpoint_change_permission(client, receiver, endpoint_for,
                                                        django_capture_on_commit_callbacks):
    from django.contrib.auth.models import Permission

    from tests.accounts.factories import UserFactory

    viewer = UserFactory(email="viewer@example.com", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_webhookdelivery"))
    endpoint = endpoint_for(receiver)
    with django_capture_on_commit_callbacks(execute=True):
        endpoint_ping(endpoint_id=endpoint.id)
    delivery = WebhookDelivery.objects.get()
    client.force_login(viewer)
    page = client.get("/admin/webhooks/webhookdelivery/")
    assert page.status_code == 200 and b'value="redeliver"' not in page.content
    client.post("/admin/webhooks/webhookdelivery/", {"action": "redeliver", "_selected_action": [delivery.id]})
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and len(receiver.requests) == 1


def test_deliveries_list_queries_do_not_grow_with_rows(client, admin_user, receiver, endpoint_for,
                                                       django_assert_max_num_queries):
    endpoints = [endpoint_for(receiver, path=f"/e{n}") for n in range(3)]
    client.force_login(admin_user)
    endpoint_ping(endpoint_id=endpoints[0].id)
    url = f"/admin/webhooks/webhookdelivery/?endpoint__id__exact={endpoints[0].id}"
    client.get(url)
    with django_assert_max_num_queries(12) as few:
        assert client.get(url).status_code == 200
    for endpoint in endpoints:
        for _ in range(5):
            endpoint_ping(endpoint_id=endpoint.id)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/admin/webhooks/webhookendpoint/").status_code == 200
