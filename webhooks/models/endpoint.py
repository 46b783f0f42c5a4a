from django.db import models

URL_MAX_LENGTH = 2048


class WebhookEndpoint(models.Model):
    """A URL that receives the order events it subscribes to, signed with its secret.

    The secret is kept as given (the sender signs with it) and never shown again after the
    create response. ``consecutive_failures`` counts the attempts since the last success; at
    ``WEBHOOK_DISABLE_AFTER_FAILURES`` (50) the endpoint is switched off with a reason."""

    url = models.CharField(max_length=URL_MAX_LENGTH, help_text="http:// or https://")
    secret = models.CharField(max_length=255)
    events = models.JSONField(default=list, help_text='Event types, or ["*"] for all')
    is_active = models.BooleanField(default=True)
    description = models.CharField(max_length=255, blank=True)
    disabled_reason = models.CharField(max_length=255, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "webhook endpoint"
        indexes = [models.Index(fields=["is_active"], name="webhook_endpoint_active")]

    def __str__(self) -> str:
        return self.url
