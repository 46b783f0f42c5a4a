"""Webhook endpoints API (SPEC §13): create shows the secret once, unknown event types and
private URLs refused, the deliveries list and its filters, permissions."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services.deliveries import endpoint_ping

pytestmark = pytest.mark.django_db
URL = "/api/admin/webhooks"


def create(api, **body):
    body.setdefault("url", "https://hooks.example.com/orders")
    body.setdefault("events", ["*"])
    return api.post(URL, body, format="json")


def test_create_shows_a_generated_secret_once(api):
    r = create(api, events=["order.invoiced", "order.shipped"], description="ERP")
    assert r.status_code == 201, r.json()
    d = r.json()
    assert set(d) == {"id", "url", "events", "is_active", "description", "disabled_reason", "created_at",
                      "updated_at", "secret"}
    assert re.fullmatch(r"[0-9a-f]{64}", d["secret"])
    assert d["events"] == ["order.invoiced", "order.shipped"] and d["is_active"] is True and d["description"] == "ERP"
    assert WebhookEndpoint.objects.get().secret == d["secret"]
    for listed in (api.get(f"{URL}/{d['id']}").json(), api.get(URL).json()["results"][0]):
        assert "secret" not in listed and listed["id"] == d["id"]
    r = api.patch(f"{URL}/{d['id']}", {"description": "changed"}, format="json")
    assert r.status_code == 200 and "secret" not in r.json() and r.json()["description"] == "changed"


def test_a_given_secret_has_at_least_16_characters(api):
    r = create(api, secret="x" * 15)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "secret"
    r = create(api, secret="y" * 16)
    assert r.status_code == 201 and r.json()["secret"] == "y" * 16


@pytest.mark.parametrize("events, field", [(["order.nope"], "events.0"), (["order.invoiced", "invoiced"], "events.1"),
                                           ([], "events"), ("order.invoiced", "events"),
                                           (["email_sent"], "events.0"), (["order.email_sent"], "events.0")])
def test_unknown_event_types_are_refused(api, events, field):
    r = create(api, events=events)
    assert r.status_code == 400, r.json()
    assert field in [e["field"] for e in r.json()["errors"]]
    assert WebhookEndpoint.objects.count() == 0


def test_unknown_event_types_are_refused_on_patch_too(api):
    endpoint = create(api).json()
    r = api.patch(f"{URL}/{endpoint['id']}", {"events": ["order.invoiced", "order.typo"]}, format="json")
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "events.1"
    assert WebhookEndpoint.objects.get().events == ["*"]


def test_star_means_every_event_and_duplicates_are_dropped(api):
    assert create(api, events=["order.held", "*"]).json()["events"] == ["*"]
    assert create(api, events=["order.held", "order.held", "ping"]).json()["events"] == ["order.held", "ping"]


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000/hook", "http://localhost/hook", "http://10.0.0.5/hook", "http://192.168.1.1/",
    "http://172.16.0.1/", "http://169.254.169.254/latest/meta-data", "http://[::1]/hook", "http://0.0.0.0/",
    "http://[::ffff:127.0.0.1]/", "http://100.64.0.1/",
])
def test_private_urls_are_refused_at_registration(api, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    r = create(api, url=url)
    assert r.status_code == 400, r.json()
    assert r.json()["code"] == "webhook_url_not_allowed" and r.json()["errors"][0]["field"] == "url"
    endpoint = create(api, url="https://93.184.215.14/hook")  # a public address is fine
    assert endpoint.status_code == 201
    r = api.patch(f"{URL}/{endpoint.json()['id']}", {"url": url}, format="json")
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "url"


def test_private_urls_are_allowed_with_the_setting(api, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    assert create(api, url="http://127.0.0.1:9/hook").status_code == 201


@pytest.mark.parametrize("url", ["ftp://example.com/x", "example.com/hook", "http:///nohost", "https://" + "a" * 2049,
                                 "http://example.com:99999/",
                                 "http://\U000f1aa2\u00fc/hook"])  # no IDNA name: its delivery crashed (schemathesis)
def test_urls_must_be_http_or_https_with_a_host(api, url):
    r = create(api, url=url)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "url"


def test_unknown_body_fields_are_refused(api):
    r = create(api, evnts=["*"])
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "unknown_field"


def test_patch_switches_an_endpoint_back_on_and_delete_removes_it(api):
    endpoint = create(api).json()
    WebhookEndpoint.objects.filter(id=endpoint["id"]).update(is_active=False, disabled_reason="50 failures",
                                                             consecutive_failures=50)
    shown = api.get(f"{URL}/{endpoint['id']}").json()
    assert shown["is_active"] is False and shown["disabled_reason"] == "50 failures"
    r = api.patch(f"{URL}/{endpoint['id']}", {"is_active": True}, format="json")
    assert r.status_code == 200 and r.json()["is_active"] is True and r.json()["disabled_reason"] == ""
    assert WebhookEndpoint.objects.get().consecutive_failures == 0
    r = api.patch(f"{URL}/{endpoint['id']}", {"secret": "z" * 20}, format="json")
    assert r.status_code == 200 and WebhookEndpoint.objects.get().secret == "z" * 20
    assert api.delete(f"{URL}/{endpoint['id']}").status_code == 204
    assert api.get(f"{URL}/{endpoint['id']}").status_code == 404
    assert api.delete(f"{URL}/{endpoint['id']}").status_code == 404
    assert api.patch(f"{URL}/{endpoint['id']}", {"bogus": 1}, format="json").status_code == 404  # 404 before 400


def test_deliveries_list_newest_first_with_filters(api, receiver, endpoint_for, django_capture_on_commit_callbacks):
    from sales.services.comments import comment_add
    from tests.sales.helpers import placed_order

    endpoint = endpoint_for(receiver)
    with django_capture_on_commit_callbacks(execute=True):
        order = placed_order()  # order.placed, delivered
    receiver.script = [500]
    with django_capture_on_commit_callbacks(execute=True):
        comment_add(order_id=order.id, comment="x", actor=None)  # order.commented, fails once
    with django_capture_on_commit_callbacks(execute=True):
        endpoint_ping(endpoint_id=endpoint.id)
    WebhookDelivery.objects.filter(type="order.commented").update(created_at=timezone.now() - timedelta(seconds=1))
    WebhookDelivery.objects.filter(type="order.placed").update(created_at=timezone.now() - timedelta(seconds=2))
    r = api.get(f"{URL}/{endpoint.id}/deliveries")
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["count"] == 3 and [d["type"] for d in body["results"]] == ["ping", "order.commented", "order.placed"]
    first = body["results"][1]
    assert set(first) == {"id", "event_id", "type", "status", "attempts", "last_attempt_at", "next_attempt_at",
                          "last_response_status", "last_response_body", "last_error", "created_at"}
    assert (first["status"], first["attempts"], first["last_response_status"]) == ("pending", 1, 500)
    assert first["last_response_body"] == '{"ok": false}' and first["next_attempt_at"]

    def types(query):
        r = api.get(f"{URL}/{endpoint.id}/deliveries?{query}")
        assert r.status_code == 200, r.json()
        return [d["type"] for d in r.json()["results"]]

    assert types("status=pending") == ["order.commented"]
    assert types("status=delivered") == ["ping", "order.placed"]
    assert types("status=failed") == []
    assert types("type=order.placed") == ["order.placed"]
    assert types("type=ping&status=delivered") == ["ping"]
    assert types("page=2&page_size=2") == ["order.placed"]
    for bad in ("status=done", "type=order.nope", "page_size=0"):
        r = api.get(f"{URL}/{endpoint.id}/deliveries?{bad}")
        assert r.status_code == 400 and r.json()["code"] == "validation_error", bad
    r = api.get(f"{URL}/{endpoint.id}/deliveries?state=pending")
    assert r.status_code == 400 and r.json()["code"] == "unknown_parameter"
    assert api.get(f"{URL}/999999/deliveries").status_code == 404
    other = endpoint_for(receiver, path="/other")
    assert api.get(f"{URL}/{other.id}/deliveries").json()["count"] == 0


def test_permissions(staff_api, receiver, endpoint_for):
    endpoint = endpoint_for(receiver)
    nobody = staff_api()
    base = f"{URL}/{endpoint.id}"
    calls = [("get", URL, None), ("post", URL, {"url": "https://x.example.com/", "events": ["*"]}),
             ("get", base, None), ("patch", base, {"description": "x"}), ("delete", base, None),
             ("get", f"{base}/deliveries", None), ("post", f"{base}/ping", None)]
    for method, url, body in calls:
        r = getattr(nobody, method)(url, body, format="json") if body else getattr(nobody, method)(url)
        assert r.status_code == 403 and r.json()["code"] == "permission_denied", (method, url)
    viewer = staff_api("webhooks.view_webhookendpoint")
    assert viewer.get(URL).status_code == 200 and viewer.get(f"{base}/deliveries").status_code == 200
    assert viewer.post(f"{base}/ping").status_code == 403
    assert viewer.patch(base, {"description": "x"}, format="json").status_code == 403
    adder = staff_api("webhooks.add_webhookendpoint")
    assert adder.post(URL, {"url": "https://x.example.com/", "events": ["*"]}, format="json").status_code == 201
    changer = staff_api("webhooks.change_webhookendpoint")
    assert changer.patch(base, {"description": "x"}, format="json").status_code == 200
    assert changer.post(f"{base}/ping").status_code == 202
    assert changer.delete(base).status_code == 403
    assert staff_api("webhooks.delete_webhookendpoint").delete(base).status_code == 204
    from rest_framework.test import APIClient

    assert APIClient().get(URL).status_code == 401


def test_the_schema_documents_the_webhook_operations(api):
    schema = api.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    deliveries = paths["/api/admin/webhooks/{webhook_id}/deliveries"]["get"]
    assert {p["name"] for p in deliveries["parameters"] if p["in"] == "query"} >= {"status", "type", "page",
                                                                                   "page_size"}
    assert "202" in paths["/api/admin/webhooks/{webhook_id}/ping"]["post"]["responses"]
    assert "202" in paths["/api/admin/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver"]["post"]["responses"]
    assert "201" in paths["/api/admin/webhooks"]["post"]["responses"]
    assert set(paths["/api/admin/webhooks/{webhook_id}"]) >= {"get", "patch", "delete"}
