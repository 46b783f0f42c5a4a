from django_filters import rest_framework as filters

from webhooks.models import DeliveryStatus, WebhookDelivery
from webhooks.types import EVENT_TYPES


class DeliveryFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=DeliveryStatus.choices, help_text="pending, delivered or failed")
    type = filters.ChoiceFilter(choices=[(t, t) for t in EVENT_TYPES], help_text="An event type, e.g. order.invoiced")

    class Meta:
        model = WebhookDelivery
        fields = ["status", "type"]
