from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Webhook endpoints, the delivery outbox, the signed sender and the retry job (SPEC §13).

    sales emits its history events through one hook (``sales.events``) and knows nothing of
    this app: the outbox writer is registered here as an event sink."""

    name = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from sales.events import events_sink_register
        from webhooks.services.outbox import outbox_write

        events_sink_register(outbox_write)
