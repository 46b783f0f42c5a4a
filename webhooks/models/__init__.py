from .delivery import DeliveryStatus, WebhookDelivery, WebhookEvent
from .endpoint import WebhookEndpoint

__all__ = ["DeliveryStatus", "WebhookDelivery", "WebhookEndpoint", "WebhookEvent"]
