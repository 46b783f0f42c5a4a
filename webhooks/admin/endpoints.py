"""Webhook endpoints and deliveries in the admin (SPEC §13, §14). Writes go through the same
services as the API: registering shows the secret once, a switched-off endpoint says why."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html

from config.errors import DomainError
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from webhooks.services.deliveries import delivery_redeliver, endpoint_ping
from webhooks.services.endpoints import SECRET_MIN_LENGTH, endpoint_create, endpoint_update, events_clean
from webhooks.services.urls import url_check
from webhooks.types import ALL, EVENT_TYPES


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=2048, assume_scheme="https", help_text="http:// or https://")
    events = forms.MultipleChoiceField(
        choices=[(ALL, "* (every order event)"), *((t, t) for t in EVENT_TYPES)],
        widget=forms.CheckboxSelectMultiple, help_text="Choose *, or the events this endpoint receives.")
    new_secret = forms.CharField(
        required=False, min_length=SECRET_MIN_LENGTH, max_length=255, strip=False, label="Secret",
        help_text="Leave empty to generate one (on creation) or keep the current one (on change). "
                  "It is shown once, after saving.")

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "events", "description", "is_active"]

    def clean(self) -> dict[str, Any]:
        """The services' own checks, shown on their fields (the services check again when saving)."""
        cleaned = super().clean() or {}
        for field, check in (("url", url_check), ("events", lambda v: events_clean(list(v)))):
            if field in cleaned:
                try:
                    check(cleaned[field])
                except DomainError as exc:
                    self.add_error(field, exc.message)
        return cleaned


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "subscribed", "is_active", "disabled_reason", "consecutive_failures", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "description"]
    readonly_fields = ["disabled_reason", "disabled_at", "consecutive_failures", "created_at", "updated_at"]
    fieldsets = [(None, {"fields": ["url", "events", "new_secret", "description", "is_active"]}),
                 ("State", {"fields": ["disabled_reason", "disabled_at", "consecutive_failures", "created_at",
                                       "updated_at"]})]
    actions = ["send_ping"]

    @admin.display(description="events")
    def subscribed(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.events)

    def changelist_view(self, request, extra_context=None):
        off = WebhookEndpoint.objects.filter(is_active=False).exclude(disabled_reason="")
        for endpoint in off[:5]:
            messages.warning(request, f"{endpoint.url} is switched off: {endpoint.disabled_reason}")
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        data = {"url": form.cleaned_data["url"], "events": list(form.cleaned_data["events"]),
                "description": form.cleaned_data.get("description") or "", "is_active": form.cleaned_data["is_active"]}
        secret = form.cleaned_data.get("new_secret") or None
        if change:
            saved = endpoint_update(endpoint_id=obj.pk, data={**data, **({"secret": secret} if secret else {})})
        else:
            saved = endpoint_create(**data, secret=secret)
        obj.pk = saved.pk
        obj.refresh_from_db()
        if not change or secret:
            messages.warning(request, format_html(
                "The signing secret of {} is <code>{}</code>. It is shown only this once: keep it now.",
                saved.url, saved.secret))

    @admin.action(description="Send a ping to the selected endpoints", permissions=["change"])
    def send_ping(self, request, queryset):
        for endpoint in queryset:
            delivery = endpoint_ping(endpoint_id=endpoint.id)
            messages.info(request, f"Ping to {endpoint.url}: {delivery.status}"
                                   + (f" ({delivery.last_error})" if delivery.last_error else ""))


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "type", "endpoint", "status", "attempts", "last_response_status", "last_attempt_at",
                    "next_attempt_at"]
    list_filter = ["status", "type", "endpoint"]
    list_select_related = ["endpoint"]
    search_fields = ["id", "event__id"]
    show_full_result_count = False
    readonly_fields = ["id", "endpoint", "type", "status", "attempts", "created_at", "last_attempt_at",
                       "next_attempt_at", "delivered_at", "last_response_status", "last_response_body", "last_error",
                       "event_id", "body"]
    fields = list(readonly_fields)
    actions = ["redeliver"]

    @admin.display(description="body (as sent)")
    def body(self, obj: WebhookDelivery) -> str:
        return format_html("<pre style='white-space: pre-wrap'>{}</pre>", obj.event.payload)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_redeliver_permission(self, request):
        return request.user.has_perm("webhooks.change_webhookendpoint")

    @admin.action(description="Send the selected deliveries again now", permissions=["redeliver"])
    def redeliver(self, request, queryset):
        counts: dict[str, int] = {}
        for delivery in queryset:
            done = delivery_redeliver(endpoint_id=delivery.endpoint_id, delivery_id=delivery.id)
            counts[done.status] = counts.get(done.status, 0) + 1
        summary = ", ".join(f"{n} {status}" for status, n in counts.items()) or "nothing"
        messages.info(request, f"Sent again: {summary} (status after the attempt without a broker, "
                               f"{DeliveryStatus.PENDING} until a worker takes it with one).")
