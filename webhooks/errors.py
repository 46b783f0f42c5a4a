"""The webhooks app's domain errors (each a config.errors.DomainError with a stable code)."""

from config.errors import InvalidInput


class WebhookUrlNotAllowed(InvalidInput):
    code = "webhook_url_not_allowed"
    default_message = "This URL cannot receive webhooks."


class UnknownEventType(InvalidInput):
    code = "unknown_event_type"
    default_message = "Unknown event type."
