"""Webhook endpoints: register, change, remove (SPEC §13). The API views and the admin call these."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction

from config.errors import InvalidInput, NotFound
from webhooks.errors import UnknownEventType
from webhooks.models import WebhookEndpoint
from webhooks.services.urls import url_check
from webhooks.types import ALL, EVENT_TYPES

SECRET_MIN_LENGTH = 16
SECRET_MAX_LENGTH = 255
DESCRIPTION_MAX_LENGTH = 255


def secret_new() -> str:
    """64 hex characters (256 bits)."""
    return secrets.token_hex(32)


def events_clean(events: list[str]) -> list[str]:
    """At least one type; each one of EVENT_TYPES or "*" (alone it means every order event).
    Duplicates are dropped, the order kept."""
    if not isinstance(events, list) or not events:
        raise InvalidInput('List at least one event type, or ["*"] for all.', field="events")
    out: list[str] = []
    for n, name in enumerate(events):
        if not isinstance(name, str) or (name != ALL and name not in EVENT_TYPES):
            raise UnknownEventType(f"Unknown event type {name!r}; known: * or {', '.join(EVENT_TYPES)}.",
                                   field=f"events.{n}")
        if name not in out:
            out.append(name)
    return [ALL] if ALL in out else out


def _secret_check(secret: str) -> str:
    if not (SECRET_MIN_LENGTH <= len(secret) <= SECRET_MAX_LENGTH):
        raise InvalidInput(f"A secret has {SECRET_MIN_LENGTH} to {SECRET_MAX_LENGTH} characters.", field="secret")
    return secret


def _description_check(description: str) -> str:
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise InvalidInput(f"At most {DESCRIPTION_MAX_LENGTH} characters.", field="description")
    return description


def endpoint_create(*, url: str, events: list[str], secret: str | None = None, description: str = "",
                    is_active: bool = True) -> WebhookEndpoint:
    """Register an endpoint; its secret (generated when not given) is on the returned instance, to
    be shown once."""
    url = url_check(url)
    events = events_clean(events)
    secret = _secret_check(secret) if secret else secret_new()
    return WebhookEndpoint.objects.create(url=url, events=events, secret=secret,
                                          description=_description_check(description), is_active=is_active)


def endpoint_update(*, endpoint_id: int, data: dict[str, Any]) -> WebhookEndpoint:
    """Change url, events, secret, description or is_active. Switching an endpoint back on clears
    its disabled reason and its failure count."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().filter(id=endpoint_id).first()
        if endpoint is None:
            raise NotFound(f"Webhook endpoint {endpoint_id} not found.")
        if "url" in data:
            endpoint.url = url_check(data["url"])
        if "events" in data:
            endpoint.events = events_clean(data["events"])
        if data.get("secret"):
            endpoint.secret = _secret_check(data["secret"])
        if "description" in data:
            endpoint.description = _description_check(data["description"] or "")
        if "is_active" in data:
            if data["is_active"] and not endpoint.is_active:
                endpoint.disabled_reason, endpoint.disabled_at, endpoint.consecutive_failures = "", None, 0
            endpoint.is_active = bool(data["is_active"])
        endpoint.save()
    return endpoint


def endpoint_delete(*, endpoint_id: int) -> None:
    """Remove the endpoint with its deliveries (pending ones are never sent)."""
    deleted, _ = WebhookEndpoint.objects.filter(id=endpoint_id).delete()
    if not deleted:
        raise NotFound(f"Webhook endpoint {endpoint_id} not found.")
