"""Delivering the outbox (SPEC §13): one attempt, the retry job, redeliver, ping, the purge.

An attempt first *claims* its delivery with one conditional UPDATE (attempts + 1, and a lease:
``next_attempt_at`` moved ``WEBHOOK_LEASE_SECONDS`` ahead), so two workers, or a worker and the
retry job, never send the same due delivery twice for one due time; then it sends the stored
body, signed now, and records the answer. A worker killed mid-attempt leaves the delivery
pending with its lease, and the retry job sends it again when the lease runs out: at least
once, never lost (the same ``X-OrderDesk-Delivery``, so a receiver can drop a repeat).

After a failed attempt ``n`` the next one is due ``WEBHOOK_RETRY_SCHEDULE[n-1]`` seconds later;
after the last, the delivery is ``failed``. Every failure counts against the endpoint, every
success resets the count; an endpoint whose last ``WEBHOOK_DISABLE_AFTER_FAILURES`` (50)
attempts all failed is switched off with a reason. Redeliver and ping are one more attempt now,
whatever the delivery's status or the endpoint's (``force``): a redelivery that fails leaves a
delivered or failed delivery as it was (its last answer recorded), and a pending one follows
the schedule.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Exists, F, OuterRef, QuerySet, Value, When
from django.utils import timezone

from config.errors import NotFound
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent
from webhooks.services.outbox import body_render
from webhooks.services.sender import Outcome, post
from webhooks.services.urls import private_host_reason
from webhooks.types import PING

SWEEP_LIMIT = 1000  # deliveries the retry job hands out per run
_PURGE_BATCH = 5000


def retry_schedule() -> tuple[float, ...]:
    raw = settings.WEBHOOK_RETRY_SCHEDULE
    if isinstance(raw, str):
        raw = [x for x in raw.split(",") if x.strip()]
    return tuple(float(x) for x in raw)


def _lease(now: datetime) -> datetime:
    return now + timedelta(seconds=float(settings.WEBHOOK_LEASE_SECONDS))


def _claim(delivery_id: str, *, force: bool, token: datetime | None) -> bool:
    now = timezone.now()
    rows = WebhookDelivery.objects.filter(id=delivery_id)
    if force:
        return rows.update(attempts=F("attempts") + 1, last_attempt_at=now, next_attempt_at=Case(
            When(status=DeliveryStatus.PENDING, then=Value(_lease(now))), default=F("next_attempt_at"))) == 1
    rows = rows.filter(status=DeliveryStatus.PENDING, endpoint__is_active=True)
    rows = rows.filter(next_attempt_at=token) if token is not None else rows.filter(next_attempt_at__lte=now)
    return rows.update(attempts=F("attempts") + 1, last_attempt_at=now, next_attempt_at=_lease(now)) == 1


def delivery_attempt(*, delivery_id: str, force: bool = False, token: datetime | None = None) -> Outcome | None:
    """One attempt of a delivery, if it is due (or ``force``). ``token`` is the lease the retry
    job claimed it with. Returns the attempt's outcome, or None when no attempt was made.
    A successful attempt costs three queries: the claim, one read (delivery, endpoint, body), the
    result."""
    if not _claim(delivery_id, force=force, token=token):
        return None
    delivery = (WebhookDelivery.objects.select_related("endpoint", "event")
                .only("id", "type", "status", "attempts", "endpoint_id", "endpoint__url", "endpoint__secret",
                      "endpoint__consecutive_failures", "event__payload")
                .filter(id=delivery_id).first())
    if delivery is None:  # its endpoint was deleted meanwhile
        return None
    endpoint = delivery.endpoint
    reason = private_host_reason(endpoint.url)
    if reason:
        outcome = Outcome(ok=False, error=f"Refused before sending: {reason}")
    else:
        outcome = post(url=endpoint.url, secret=endpoint.secret, body=delivery.event.payload.encode("utf-8"),
                       event_type=delivery.type, delivery_id=str(delivery.id))
    _record(delivery, outcome)
    return outcome


def _record(delivery: WebhookDelivery, outcome: Outcome) -> None:
    now = timezone.now()
    fields: dict[str, Any] = {"last_response_status": outcome.status, "last_response_body": outcome.body,
                    "last_error": outcome.error}
    if outcome.ok:
        fields.update(status=DeliveryStatus.DELIVERED, delivered_at=now, next_attempt_at=None)
    elif delivery.status == DeliveryStatus.PENDING:
        schedule = retry_schedule()
        if delivery.attempts <= len(schedule):
            fields["next_attempt_at"] = now + timedelta(seconds=schedule[delivery.attempts - 1])
        else:
            fields.update(status=DeliveryStatus.FAILED, next_attempt_at=None)
    WebhookDelivery.objects.filter(id=delivery.id).update(**fields)
    endpoints = WebhookEndpoint.objects.filter(id=delivery.endpoint_id)
    if outcome.ok:
        if delivery.endpoint.consecutive_failures:
            endpoints.filter(consecutive_failures__gt=0).update(consecutive_failures=0)
        return
    endpoints.update(consecutive_failures=F("consecutive_failures") + 1)
    limit = int(settings.WEBHOOK_DISABLE_AFTER_FAILURES)
    reason = (f"Switched off {now:%Y-%m-%d %H:%M} UTC: its last {limit} delivery attempts failed "
              f"(last: {outcome.error or outcome.status})")
    endpoints.filter(is_active=True, consecutive_failures__gte=limit).update(
        is_active=False, disabled_at=now, disabled_reason=reason[:255], updated_at=now)


def deliveries_retry_due(*, limit: int = SWEEP_LIMIT) -> int:
    """The retry job: claim the pending deliveries that are due (of active endpoints) and hand each
    to a worker (in-process without a broker). Returns how many were handed out."""
    from webhooks.tasks import deliver

    now = timezone.now()
    ids = list(WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now,
                                              endpoint__is_active=True)
               .order_by("next_attempt_at").values_list("id", flat=True)[:limit])
    if not ids:
        return 0
    token = _lease(now)  # this run's claim: a second run, or the first attempt's task, finds them leased
    WebhookDelivery.objects.filter(id__in=ids, status=DeliveryStatus.PENDING, next_attempt_at__lte=now) \
        .update(next_attempt_at=token)
    claimed = list(WebhookDelivery.objects.filter(id__in=ids, next_attempt_at=token)
                   .order_by("created_at").values_list("id", flat=True))
    for delivery_id in claimed:
        deliver.delay(str(delivery_id), token=token.isoformat())
    return len(claimed)


def _delivery_of(endpoint_id: int, delivery_id: uuid.UUID | str) -> WebhookDelivery:
    try:
        key = delivery_id if isinstance(delivery_id, uuid.UUID) else uuid.UUID(str(delivery_id))
    except ValueError:
        key = None
    delivery = WebhookDelivery.objects.filter(id=key, endpoint_id=endpoint_id).first() if key else None
    if delivery is None:
        if not WebhookEndpoint.objects.filter(id=endpoint_id).exists():
            raise NotFound(f"Webhook endpoint {endpoint_id} not found.")
        raise NotFound(f"Delivery {delivery_id} not found for this endpoint.")
    return delivery


def _send_after_commit(delivery_id: uuid.UUID) -> None:
    from webhooks.tasks import deliver

    transaction.on_commit(lambda: deliver.delay(str(delivery_id), force=True), robust=True)


def delivery_redeliver(*, endpoint_id: int, delivery_id: uuid.UUID | str) -> WebhookDelivery:
    """One more attempt of the same delivery now (same id, same body), whatever its status.
    Without a broker the attempt has been made when this returns."""
    delivery = _delivery_of(endpoint_id, delivery_id)
    _send_after_commit(delivery.id)
    delivery.refresh_from_db()
    return delivery


def endpoint_ping(*, endpoint_id: int) -> WebhookDelivery:
    """A ``ping`` delivery (``data: {}``, ``sequence`` null) to this endpoint, sent now."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.filter(id=endpoint_id).first()
        if endpoint is None:
            raise NotFound(f"Webhook endpoint {endpoint_id} not found.")
        now = timezone.now()
        event_id = uuid.uuid4()
        event = WebhookEvent.objects.create(id=event_id, type=PING, order_id=None, sequence=None, created_at=now,
                                            payload=body_render(event_id=event_id, type=PING, created_at=now,
                                                                sequence=None, data={}))
        delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=event, type=PING, next_attempt_at=now,
                                                  created_at=now)
        _send_after_commit(delivery.id)
    delivery.refresh_from_db()
    return delivery


def deliveries_purge(*, now: datetime | None = None) -> int:
    """Delivered rows older than WEBHOOK_RETENTION_DAYS, failed ones (and pending ones of switched-off
    endpoints) older than WEBHOOK_FAILED_RETENTION_DAYS, then the event bodies nobody refers to."""
    now = now or timezone.now()
    delivered_before = now - timedelta(days=int(settings.WEBHOOK_RETENTION_DAYS))
    failed_before = now - timedelta(days=int(settings.WEBHOOK_FAILED_RETENTION_DAYS))
    total = 0
    for rows in (WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED, created_at__lt=delivered_before),
                 WebhookDelivery.objects.filter(status=DeliveryStatus.FAILED, created_at__lt=failed_before),
                 WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, created_at__lt=failed_before,
                                                endpoint__is_active=False)):
        total += _delete_in_batches(rows)
    orphans = WebhookEvent.objects.filter(created_at__lt=min(delivered_before, failed_before)).exclude(
        Exists(WebhookDelivery.objects.filter(event_id=OuterRef("id"))))
    _delete_in_batches(orphans)
    return total


def _delete_in_batches(queryset: QuerySet[Any]) -> int:
    total = 0
    while True:
        ids = list(queryset.values_list("id", flat=True)[:_PURGE_BATCH])
        if not ids:
            return total
        total += queryset.model.objects.filter(id__in=ids).delete()[0]
