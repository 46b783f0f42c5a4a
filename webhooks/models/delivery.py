"""The outbox: one WebhookEvent per order event someone subscribes to (its body, rendered once
inside the action's transaction and stored, so every attempt and every endpoint get the same
bytes), and one WebhookDelivery per subscribed endpoint, written in that same transaction."""

import uuid

from django.db import models
from django.utils import timezone


class WebhookEvent(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=64)
    # No database constraint and no cascade: the stored body stands on its own.
    order = models.ForeignKey("sales.Order", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+",
                              db_constraint=False)
    sequence = models.BigIntegerField(null=True, blank=True, help_text="The history event's id; null for ping")
    created_at = models.DateTimeField(default=timezone.now)
    payload = models.TextField(help_text="The JSON body, exactly as sent")

    class Meta:
        ordering = ["created_at"]
        verbose_name = "webhook event"

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookDelivery(models.Model):
    """One event to one endpoint. ``id`` is the X-OrderDesk-Delivery header, the same on every attempt."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey("webhooks.WebhookEndpoint", on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    type = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_response_body = models.TextField(blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "webhook delivery"
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_endpoint"),
            models.Index(fields=["next_attempt_at"], name="webhook_delivery_due",
                         condition=models.Q(status="pending")),
            models.Index(fields=["status", "created_at"], name="webhook_delivery_purge"),
        ]

    def __str__(self) -> str:
        return f"{self.type} → {self.endpoint_id} ({self.status})"
