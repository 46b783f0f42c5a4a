"""Webhook endpoints and deliveries in the admin (SPEC §13, §14). Writes go through the same
services as the API: registering shows the secret once, a switched-off endpoint says why.

The endpoint list flags switched-off endpoints (a red "Switched off" with the reason) and links
each endpoint to its own deliveries: all, failed, pending (the deliveries list filtered by
endpoint and by status). The deliveries list names the endpoint it is filtered by, flags deliveries
to a switched-off endpoint, and sends the selected deliveries again ("Redeliver") through
``delivery_redeliver``, one by one, saying per status how many went and which were refused."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

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


ADMIN_CSS = {"all": ["webhooks/admin/webhooks.css"]}


def deliveries_url(endpoint_id: int, status: str | None = None) -> str:
    """The deliveries list filtered to one endpoint (and one status when given)."""
    url = f"{reverse('admin:webhooks_webhookdelivery_changelist')}?endpoint__id__exact={endpoint_id}"
    return f"{url}&status__exact={status}" if status else url


def switched_off_flag(endpoint: WebhookEndpoint) -> str:
    """A red "Switched off" (with the reason when the sender gave one), or "" for an active endpoint."""
    if endpoint.is_active:
        return ""
    return format_html('<span class="od-webhook-off" title="{}">Switched off</span>',
                       endpoint.disabled_reason or "switched off by hand")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "state", "subscribed", "deliveries", "consecutive_failures", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "description"]
    readonly_fields = ["state", "deliveries", "disabled_reason", "disabled_at", "consecutive_failures", "created_at",
                       "updated_at"]
    fieldsets = [(None, {"fields": ["url", "events", "new_secret", "description", "is_active"]}),
                 ("State", {"fields": ["state", "deliveries", "disabled_reason", "disabled_at", "consecutive_failures",
                                       "created_at", "updated_at"]})]
    actions = ["send_ping"]

    class Media:
        css = ADMIN_CSS

    @admin.display(description="events")
    def subscribed(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.events)

    @admin.display(description="state", ordering="is_active")
    def state(self, obj: WebhookEndpoint) -> str:
        if obj.pk is None:
            return "—"
        if obj.is_active:
            return mark_safe('<span class="od-webhook-on">Active</span>')  # noqa: S308 - a constant
        return format_html('{}<div class="od-webhook-reason">{}</div>', switched_off_flag(obj),
                           obj.disabled_reason or "Switched off by hand (Is active unticked).")

    @admin.display(description="deliveries")
    def deliveries(self, obj: WebhookEndpoint) -> str:
        if obj.pk is None:
            return "—"
        links = [("All", deliveries_url(obj.pk)), ("Failed", deliveries_url(obj.pk, DeliveryStatus.FAILED)),
                 ("Pending", deliveries_url(obj.pk, DeliveryStatus.PENDING))]
        return format_html('<span class="od-webhook-deliveries">{}</span>',
                           format_html_join(" · ", '<a href="{}">{}</a>', ((url, title) for title, url in links)))

    def changelist_view(self, request, extra_context=None):
        off = WebhookEndpoint.objects.filter(is_active=False).exclude(disabled_reason="")
        for endpoint in off[:5]:
            messages.warning(request, f"Endpoint {endpoint.url} is switched off: {endpoint.disabled_reason}")
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
    list_display = ["created_at", "type", "endpoint_shown", "status", "attempts", "last_response_status",
                    "last_attempt_at", "next_attempt_at"]
    list_filter = ["status", "type", "endpoint"]
    list_select_related = ["endpoint"]
    search_fields = ["id", "event__id"]
    show_full_result_count = False
    readonly_fields = ["id", "endpoint", "type", "status", "attempts", "created_at", "last_attempt_at",
                       "next_attempt_at", "delivered_at", "last_response_status", "last_response_body", "last_error",
                       "event_id", "body"]
    fields = list(readonly_fields)
    actions = ["redeliver"]

    class Media:
        css = ADMIN_CSS

    @admin.display(description="endpoint", ordering="endpoint")
    def endpoint_shown(self, obj: WebhookDelivery) -> str:
        flag = switched_off_flag(obj.endpoint)
        return format_html("{} {}", obj.endpoint.url, flag) if flag else obj.endpoint.url

    def changelist_view(self, request, extra_context=None):
        """Filtered to one endpoint: the title names it, and says when it is switched off."""
        extra_context = dict(extra_context or {})
        endpoint_id = request.GET.get("endpoint__id__exact", "")
        endpoint = WebhookEndpoint.objects.filter(id=int(endpoint_id)).first() if endpoint_id.isdigit() else None
        if endpoint is not None:
            extra_context["title"] = f"Deliveries to {endpoint.url}"
            if not endpoint.is_active:
                messages.warning(request, f"This endpoint is switched off "
                                          f"({endpoint.disabled_reason or 'by hand'}): nothing new is sent to it; "
                                          "Redeliver still sends.")
        return super().changelist_view(request, extra_context)

    @admin.display(description="body (as sent)")
    def body(self, obj: WebhookDelivery) -> str:
        return format_html("<pre style='white-space: pre-wrap'>{}</pre>", obj.event.payload)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_redeliver_permission(self, request):
        return request.user.has_perm("webhooks.change_webhookendpoint")

    @admin.action(description="Redeliver: send the selected deliveries again now", permissions=["redeliver"])
    def redeliver(self, request, queryset):
        counts: dict[str, int] = {}
        for delivery in queryset.order_by("created_at", "id"):
            try:
                done = delivery_redeliver(endpoint_id=delivery.endpoint_id, delivery_id=delivery.id)
            except DomainError as exc:  # e.g. purged meanwhile: say so, go on with the others
                messages.error(request, f"Delivery {delivery.id} was not sent again: {exc.message}")
                continue
            counts[done.status] = counts.get(done.status, 0) + 1
        summary = ", ".join(f"{n} {status}" for status, n in counts.items()) or "nothing"
        messages.info(request, f"Sent again: {summary} (status after the attempt without a broker, "
                               f"{DeliveryStatus.PENDING} until a worker takes it with one).")
