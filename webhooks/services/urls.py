"""Which URLs may receive webhooks (SPEC §13).

When ``WEBHOOK_ALLOW_PRIVATE_URLS`` is off (the default when ``DEBUG`` is off), a URL whose host
is, or resolves to, a loopback, private, link-local or otherwise non-global address is refused:
at registration (400 on ``url``) and again at every delivery, since DNS can change. A host that
does not resolve at registration is accepted (its delivery attempts fail until it does).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import httpx
from django.conf import settings

from webhooks.errors import WebhookUrlNotAllowed
from webhooks.models.endpoint import URL_MAX_LENGTH


def private_urls_allowed() -> bool:
    return bool(settings.WEBHOOK_ALLOW_PRIVATE_URLS)


def _not_global(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def host_addresses(host: str) -> list[str]:
    """Every address ``host`` resolves to (an IP literal is its own); [] when it does not resolve."""
    try:
        ipaddress.ip_address(host)
        return [host]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return []
    return sorted({str(info[4][0]) for info in infos})


def url_shape_check(url: str) -> str:
    """http or https, a host, at most 2048 characters. Returns the URL."""
    if len(url) > URL_MAX_LENGTH:
        raise WebhookUrlNotAllowed(f"The URL is longer than {URL_MAX_LENGTH} characters.", field="url")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise WebhookUrlNotAllowed("The URL cannot be read.", field="url")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookUrlNotAllowed("The URL must be http:// or https:// with a host.", field="url")
    try:
        httpx.URL(url)  # the client that delivers must be able to send to it (an IDNA host name)
    except httpx.InvalidURL as exc:
        raise WebhookUrlNotAllowed(f"The URL cannot be requested: {exc}", field="url")
    return url


def private_host_reason(url: str) -> str | None:
    """Why ``url`` may not be called now (its host is or resolves to a non-public address), or None."""
    if private_urls_allowed():
        return None
    host = urlsplit(url).hostname or ""
    for address in host_addresses(host):
        if _not_global(address):
            return (f"{host} resolves to {address}, a loopback, private or link-local address "
                    f"(WEBHOOK_ALLOW_PRIVATE_URLS is off).")
    return None


def url_check(url: str) -> str:
    """The registration check: shape, then the address rule."""
    url_shape_check(url)
    reason = private_host_reason(url)
    if reason:
        raise WebhookUrlNotAllowed(f"This URL cannot receive webhooks: {reason}", field="url")
    return url
