"""Reads of endpoints and deliveries."""

from __future__ import annotations

from django.db.models import QuerySet

from config.errors import NotFound
from webhooks.models import WebhookDelivery, WebhookEndpoint


def endpoint_list_queryset() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.order_by("id")


def endpoint_get(endpoint_id: int) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(id=endpoint_id).first()
    if endpoint is None:
        raise NotFound(f"Webhook endpoint {endpoint_id} not found.")
    return endpoint


def deliveries_of(endpoint_id: int) -> QuerySet[WebhookDelivery]:
    """An endpoint's deliveries, newest first (404 for an unknown endpoint)."""
    if not WebhookEndpoint.objects.filter(id=endpoint_id).exists():
        raise NotFound(f"Webhook endpoint {endpoint_id} not found.")
    return WebhookDelivery.objects.filter(endpoint_id=endpoint_id).order_by("-created_at", "-id")


def delivery_get(delivery_id) -> WebhookDelivery:
    return WebhookDelivery.objects.get(id=delivery_id)
