from django.conf import settings
from django.db import models
from django.utils import timezone


class EventType(models.TextChoices):
    PLACED = "placed"
    CREATED = "created"
    IMPORTED = "imported"
    INVOICED = "invoiced"
    SHIPPED = "shipped"
    REFUNDED = "refunded"
    CANCELED = "canceled"
    COMMENTED = "commented"
    EDITED = "edited"
    DETAILS_CHANGED = "details_changed"
    ARCHIVED = "archived"
    RESTORED = "restored"
    HELD = "held"
    HOLD_RELEASED = "hold_released"
    FRAUD_CLEARED = "fraud_cleared"
    PAYMENT_CAPTURED = "payment_captured"
    EMAIL_SENT = "email_sent"
    EMAIL_FAILED = "email_failed"


class OrderEvent(models.Model):
    """The order's history: a typed audit log written by every service action."""

    order = models.ForeignKey("sales.Order", on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=32, choices=EventType.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]


class OrderComment(models.Model):
    order = models.ForeignKey("sales.Order", on_delete=models.CASCADE, related_name="comments")
    comment = models.TextField()
    customer_notified = models.BooleanField(default=False)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    author_name = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
