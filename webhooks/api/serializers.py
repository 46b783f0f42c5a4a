"""Webhook endpoint and delivery shapes (SPEC §13)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.serializers import StrictSerializer
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from webhooks.models.endpoint import URL_MAX_LENGTH
from webhooks.services.endpoints import DESCRIPTION_MAX_LENGTH, SECRET_MAX_LENGTH, SECRET_MIN_LENGTH
from webhooks.types import ALL, EVENT_TYPES

URL_PATTERN = r"^https?://\S+$"


@extend_schema_field({"type": "string", "pattern": URL_PATTERN, "maxLength": URL_MAX_LENGTH})
class HttpUrlField(serializers.RegexField):
    def __init__(self, **kwargs):
        super().__init__(URL_PATTERN, max_length=URL_MAX_LENGTH, **kwargs)


EVENTS_HELP = f'Event types, or ["*"] for every order event. Known: {", ".join(EVENT_TYPES)}'


class WebhookEndpointInSerializer(StrictSerializer):
    """The body of create (url and events required) and of PATCH (every field optional)."""

    url = HttpUrlField(help_text="http:// or https://, at most 2048 characters; with WEBHOOK_ALLOW_PRIVATE_URLS off, "
                                 "a host that is or resolves to a loopback, private or link-local address is refused "
                                 "(400)")
    events = serializers.ListField(child=serializers.ChoiceField(choices=[ALL, *EVENT_TYPES]), allow_empty=False,
                                   min_length=1, help_text=EVENTS_HELP)
    secret = serializers.CharField(min_length=SECRET_MIN_LENGTH, max_length=SECRET_MAX_LENGTH, required=False,
                                   write_only=True, trim_whitespace=False,
                                   help_text="Signs every delivery; generated (64 hex characters) when not given")
    description = serializers.CharField(max_length=DESCRIPTION_MAX_LENGTH, required=False, allow_blank=True,
                                        default="")
    is_active = serializers.BooleanField(required=False, default=True)

    def to_internal_value(self, data):
        out = super().to_internal_value(data)
        if self.partial:  # a PATCH changes only what it names
            return {k: v for k, v in out.items() if k in data}
        return out


class WebhookEndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=[ALL, *EVENT_TYPES]))
    disabled_reason = serializers.CharField(help_text="Why the endpoint was switched off; empty when it was not")

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "events", "is_active", "description", "disabled_reason", "created_at", "updated_at"]
        read_only_fields = fields


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    """The create response: the only one that shows the secret."""

    secret = serializers.CharField(help_text="Shown once, in this response; keep it to verify signatures")

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.UUIDField(help_text="The body's id: the same for every endpoint the event went to")
    status = serializers.ChoiceField(choices=DeliveryStatus.choices)
    last_response_body = serializers.CharField(help_text="The first 1,000 characters of the last answer")

    class Meta:
        model = WebhookDelivery
        fields = ["id", "event_id", "type", "status", "attempts", "last_attempt_at", "next_attempt_at",
                  "last_response_status", "last_response_body", "last_error", "created_at"]
        read_only_fields = fields
