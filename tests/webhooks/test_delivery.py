"""Delivery rules (SPEC §13), eager path: retries with the same delivery id and body, 3xx not
followed, failed after the schedule, an endpoint switched off after 50 failed attempts, private
addresses refused at delivery, redeliver, ping, timeouts, the purge and the retry command."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from sales.services.comments import comment_add
from tests.catalog.factories import ProductFactory
from tests.sales.helpers import placed_order
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services.deliveries import deliveries_purge, delivery_redeliver, endpoint_ping
from webhooks.services.sender import signature_verify

pytestmark = pytest.mark.django_db
SECRET = "s" * 32


def act(callbacks, order_id=None) -> None:
    """An order action (a comment) committed, its deliveries sent in-process."""
    if order_id is None:
        order_id = placed_order((ProductFactory(price=Decimal("10.00"), stock=10), 1)).id
    with callbacks(execute=True):
        comment_add(order_id=order_id, comment="hi", actor=None)


def ping(callbacks, endpoint_id: int):
    with callbacks(execute=True):
        endpoint_ping(endpoint_id=endpoint_id)


def retry_job() -> str:
    out = StringIO()
    call_command("webhooks_retry", stdout=out)
    return out.getvalue()


def test_a_failing_delivery_is_retried_with_the_same_id_and_bytes(receiver, endpoint_for,
                                                                  django_capture_on_commit_callbacks):
    receiver.script = [500, 500, 200]
    endpoint_for(receiver, events=["order.commented"])
    act(django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_response_status) == ("pending", 1, 500)
    assert delivery.next_attempt_at is not None and delivery.last_error == "HTTP 500."
    assert retry_job() == "1 deliveries due\n"
    assert WebhookDelivery.objects.get().attempts == 2
    retry_job()
    got = receiver.wait_for(3)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("delivered", 3, None)
    assert {r.delivery for r in got} == {str(delivery.id)} and len({r.body for r in got}) == 1
    assert all(signature_verify(SECRET, r.body, r.headers["x-orderdesk-signature"]) for r in got)
    assert retry_job() == "0 deliveries due\n"
    assert len(receiver.requests) == 3


def test_retries_wait_for_the_schedule(settings, receiver, endpoint_for, django_capture_on_commit_callbacks):
    settings.WEBHOOK_RETRY_SCHEDULE = "60,300"  # as the environment gives it
    receiver.default = 503
    endpoint_for(receiver, events=["order.commented"])
    before = timezone.now()
    act(django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert timedelta(seconds=59) < delivery.next_attempt_at - before < timedelta(seconds=70)
    assert retry_job() == "0 deliveries due\n"  # not yet
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    retry_job()
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and timedelta(seconds=299) < delivery.next_attempt_at - timezone.now() < \
        timedelta(seconds=301)


def test_failed_after_the_last_retry(receiver, endpoint_for, django_capture_on_commit_callbacks):
    receiver.default = 500
    endpoint_for(receiver, events=["order.commented"])
    act(django_capture_on_commit_callbacks)
    retry_job()
    retry_job()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 3, None)  # 1 + 2 retries
    assert retry_job() == "0 deliveries due\n" and len(receiver.requests) == 3


def test_a_redirect_is_a_failure_and_is_not_followed(receiver, endpoint_for, django_capture_on_commit_callbacks):
    receiver.script = [302]
    endpoint_for(receiver, events=["order.commented"])
    act(django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.last_response_status) == ("pending", 302)
    assert "not followed" in delivery.last_error
    assert [r.path for r in receiver.requests] == ["/hook"]  # never /moved


def test_no_answer_within_the_timeout_is_a_failure(settings, receiver, endpoint_for,
                                                   django_capture_on_commit_callbacks):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    from webhooks.services import sender

    sender._client = None  # the client is built with the timeout
    receiver.delays = [1.5]
    endpoint_for(receiver, events=["order.commented"])
    try:
        act(django_capture_on_commit_callbacks)
    finally:
        sender._client = None
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and "within 0.5 s" in delivery.last_error


def test_the_response_body_is_kept_to_1000_characters(receiver, endpoint_for, django_capture_on_commit_callbacks):
    endpoint_for(receiver, events=["order.commented"])
    act(django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert delivery.last_response_body == '{"ok": true}'
    from webhooks.services.sender import RESPONSE_BODY_KEEP

    assert RESPONSE_BODY_KEEP == 1000


def test_an_endpoint_failing_its_last_50_attempts_is_switched_off(receiver, endpoint_for,
                                                                  django_capture_on_commit_callbacks):
    receiver.default = 500
    endpoint = endpoint_for(receiver, events=["order.commented"])
    for _ in range(49):
        ping(django_capture_on_commit_callbacks, endpoint.id)
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.consecutive_failures == 49
    receiver.script = [200]  # a success resets the count
    ping(django_capture_on_commit_callbacks, endpoint.id)
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0
    for _ in range(50):
        ping(django_capture_on_commit_callbacks, endpoint.id)
    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_at is not None
    assert "last 50 delivery attempts failed" in endpoint.disabled_reason


def test_a_switched_off_endpoint_gets_no_new_events_and_its_retries_wait(receiver, endpoint_for,
                                                                        django_capture_on_commit_callbacks):
    receiver.default = 500
    endpoint = endpoint_for(receiver, events=["order.commented"])
    act(django_capture_on_commit_callbacks)
    WebhookEndpoint.objects.filter(id=endpoint.id).update(is_active=False, disabled_reason="off")
    assert retry_job() == "0 deliveries due\n"
    act(django_capture_on_commit_callbacks)
    assert WebhookDelivery.objects.count() == 1 and len(receiver.requests) == 1


def test_a_private_address_is_refused_again_at_delivery(settings, receiver, endpoint_for,
                                                        django_capture_on_commit_callbacks):
    endpoint_for(receiver, events=["order.commented"])  # registered while private URLs were allowed
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False  # …then the rule is on (or the DNS answer changed)
    act(django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert receiver.requests == []
    assert delivery.status == "pending" and delivery.attempts == 1
    assert delivery.last_error.startswith("Refused before sending: 127.0.0.1 resolves to 127.0.0.1")


def test_redeliver_sends_the_same_delivery_again_whatever_its_status(
        api, receiver, endpoint_for, django_capture_on_commit_callbacks):
    endpoint = endpoint_for(receiver, events=["order.commented"])
    act(django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "delivered"
    with django_capture_on_commit_callbacks(execute=True):
        r = api.post(f"/api/admin/webhooks/{endpoint.id}/deliveries/{delivery.id}/redeliver")
    assert r.status_code == 202, r.json()
    assert r.json()["id"] == str(delivery.id) and r.json()["event_id"] == str(delivery.event_id)
    first, again = receiver.wait_for(2)
    assert first.delivery == again.delivery == str(delivery.id) and first.body == again.body
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    # a failed one: one more attempt now, whatever it was; delivered when it succeeds
    WebhookDelivery.objects.filter(id=delivery.id).update(status="failed", next_attempt_at=None)
    receiver.script = [500]
    for expected in ("failed", "delivered"):
        with django_capture_on_commit_callbacks(execute=True):
            delivery_redeliver(endpoint_id=endpoint.id, delivery_id=delivery.id)
        assert WebhookDelivery.objects.get().status == expected
    assert WebhookDelivery.objects.get().attempts == 4
    # the path's ids: an unknown delivery, or one of another endpoint, is a 404
    other = endpoint_for(receiver, path="/other")
    assert api.post(f"/api/admin/webhooks/{other.id}/deliveries/{delivery.id}/redeliver").status_code == 404
    assert api.post(f"/api/admin/webhooks/{endpoint.id}/deliveries/00000000-0000-0000-0000-000000000000/redeliver"
                    ).status_code == 404
    assert api.post(f"/api/admin/webhooks/{endpoint.id}/deliveries/nope/redeliver").status_code == 404
    assert api.post(f"/api/admin/webhooks/999999/deliveries/{delivery.id}/redeliver").status_code == 404


def test_ping(api, receiver, endpoint_for, django_capture_on_commit_callbacks):
    endpoint = endpoint_for(receiver)
    with django_capture_on_commit_callbacks(execute=True):
        r = api.post(f"/api/admin/webhooks/{endpoint.id}/ping")
    assert r.status_code == 202, r.json()
    assert r.json()["type"] == "ping"
    (got,) = receiver.wait_for(1)
    body = got.json()
    assert got.event == "ping" and body["type"] == "ping" and body["data"] == {} and body["sequence"] is None
    assert body["id"] == r.json()["event_id"] and got.delivery == r.json()["id"]
    assert signature_verify(SECRET, got.body, got.headers["x-orderdesk-signature"])
    assert WebhookDelivery.objects.get().status == "delivered"
    assert api.post("/api/admin/webhooks/999999/ping").status_code == 404


def test_signature_verification_rejects_old_timestamps_and_tampering():
    from webhooks.services.sender import signature_header

    body = b'{"a":1}'
    header = signature_header("k" * 16, body, 1_700_000_000)
    assert signature_verify("k" * 16, body, header, now=1_700_000_100)
    assert not signature_verify("k" * 16, body, header, now=1_700_000_000 + 301)  # replayed later
    assert not signature_verify("k" * 16, body + b" ", header, now=1_700_000_000)
    assert not signature_verify("k" * 16, body, "v1=abc", now=1_700_000_000)
    import hashlib
    import hmac

    assert header == "t=1700000000,v1=" + hmac.new(b"k" * 16, b'1700000000.{"a":1}', hashlib.sha256).hexdigest()


def test_purge_keeps_failed_rows_30_days_and_delivered_ones_14(receiver, endpoint_for,
                                                              django_capture_on_commit_callbacks):
    endpoint = endpoint_for(receiver, events=["order.commented"])
    for _ in range(3):
        ping(django_capture_on_commit_callbacks, endpoint.id)
    a, b, c = WebhookDelivery.objects.order_by("created_at")
    now = timezone.now()
    WebhookDelivery.objects.filter(id=a.id).update(created_at=now - timedelta(days=15))  # delivered, old
    WebhookDelivery.objects.filter(id=b.id).update(created_at=now - timedelta(days=15), status="failed")
    assert deliveries_purge() == 1
    assert set(WebhookDelivery.objects.values_list("id", flat=True)) == {b.id, c.id}
    WebhookDelivery.objects.filter(id=b.id).update(created_at=now - timedelta(days=31))
    out = StringIO()
    call_command("webhooks_purge", stdout=out)
    assert out.getvalue() == "1 deliveries purged\n"
    assert list(WebhookDelivery.objects.values_list("id", flat=True)) == [c.id]


def test_the_retry_job_claims_a_delivery_once(monkeypatch, receiver, endpoint_for,
                                              django_capture_on_commit_callbacks):
    """A delivery the retry job hands out is leased: the first attempt's own task, or a second run
    of the job, finds it taken and sends nothing; only the job's own task (its token) sends it."""
    from django.utils.dateparse import parse_datetime

    from webhooks import tasks
    from webhooks.services.deliveries import deliveries_retry_due, delivery_attempt

    receiver.default = 500
    endpoint_for(receiver, events=["order.commented"])
    act(django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    handed: list[tuple] = []
    monkeypatch.setattr(tasks.deliver, "delay", lambda *a, **k: handed.append((a, k)))
    assert deliveries_retry_due() == 1 and deliveries_retry_due() == 0
    ((args, kwargs),) = handed
    assert delivery_attempt(delivery_id=str(delivery.id)) is None  # leased by the job
    token = parse_datetime(kwargs["token"])
    assert delivery_attempt(delivery_id=args[0], token=token).status == 500
    assert WebhookDelivery.objects.get().attempts == 2
    assert delivery_attempt(delivery_id=args[0], token=token) is None  # a repeated message sends nothing
    assert len(receiver.requests) == 2


def test_purge_idempotency_keys_older_than_24_hours(admin_user):
    from accounts.models import IdempotencyRecord

    old = IdempotencyRecord.objects.create(user=admin_user, key="a", method="POST", path="/x", request_hash="h")
    new = IdempotencyRecord.objects.create(user=admin_user, key="b", method="POST", path="/x", request_hash="h")
    IdempotencyRecord.objects.filter(id=old.id).update(created_at=timezone.now() - timedelta(hours=25))
    out = StringIO()
    call_command("purge_idempotency_keys", stdout=out)
    assert out.getvalue() == "1 idempotency keys purged\n"
    assert list(IdempotencyRecord.objects.values_list("id", flat=True)) == [new.id]


def test_beat_runs_the_retry_job_and_both_purges():
    from django.conf import settings

    from config.celery import app

    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert tasks >= {"webhooks.retry_due", "webhooks.purge", "accounts.idempotency_keys_purge"}
    app.loader.import_default_modules()
    assert tasks <= set(app.tasks)
