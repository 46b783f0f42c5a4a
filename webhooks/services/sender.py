"""Signing and the HTTP call (SPEC §13). One pooled httpx client per process (connections are
kept alive and reused across deliveries); redirects are never followed (a 3xx is a failure);
an answer must come within ``WEBHOOK_TIMEOUT_SECONDS`` (10 s) in all."""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time
from dataclasses import dataclass

import httpx
from django.conf import settings

USER_AGENT = "OrderDesk-Webhooks/1.0"
RESPONSE_BODY_KEEP = 1000  # characters kept of the receiver's answer
_READ_AT_MOST = 8192  # bytes read of it

_lock = threading.Lock()
_client: httpx.Client | None = None
_client_pid: int | None = None


def signature_header(secret: str, body: bytes, timestamp: int) -> str:
    """``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed with the secret's UTF-8 bytes>``."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def signature_verify(secret: str, body: bytes, header: str, *, tolerance: int = 300, now: float | None = None) -> bool:
    """What a receiver does (and what the tests do): the HMAC matches and the timestamp is recent."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    expected = signature_header(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def client() -> httpx.Client:
    """The process's client (a new one after a fork: Celery's prefork children must not share sockets)."""
    global _client, _client_pid
    if _client is None or _client_pid != os.getpid():
        with _lock:
            if _client is None or _client_pid != os.getpid():
                timeout = float(settings.WEBHOOK_TIMEOUT_SECONDS)
                _client = httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False,
                                       limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
                                       headers={"User-Agent": USER_AGENT})
                _client_pid = os.getpid()
    return _client


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status: int | None = None
    body: str = ""
    error: str = ""


def post(*, url: str, secret: str, body: bytes, event_type: str, delivery_id: str) -> Outcome:
    """One attempt: POST the stored body, signed now. A 2xx within the timeout delivers it."""
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "X-OrderDesk-Event": event_type,
        "X-OrderDesk-Delivery": delivery_id,
        "X-OrderDesk-Signature": signature_header(secret, body, timestamp),
    }
    limit = float(settings.WEBHOOK_TIMEOUT_SECONDS)
    started = time.monotonic()
    try:
        with client().stream("POST", url, content=body, headers=headers) as response:
            received = b""
            for chunk in response.iter_bytes():
                received += chunk
                if len(received) >= _READ_AT_MOST or time.monotonic() - started > limit:
                    break
            status = response.status_code
    except httpx.TimeoutException:
        return Outcome(ok=False, error=f"No answer within {limit:g} s.")
    except (httpx.HTTPError, httpx.InvalidURL) as exc:  # InvalidURL: a host name the client cannot send to
        return Outcome(ok=False, error=f"{type(exc).__name__}: {exc}"[:1000])
    text = received.decode("utf-8", errors="replace")[:RESPONSE_BODY_KEEP]
    if time.monotonic() - started > limit:
        return Outcome(ok=False, status=status, body=text, error=f"No complete answer within {limit:g} s.")
    if 200 <= status < 300:
        return Outcome(ok=True, status=status, body=text)
    if 300 <= status < 400:
        return Outcome(ok=False, status=status, body=text,
                       error=f"Redirect ({status}) not followed: webhooks must answer 2xx at the registered URL.")
    return Outcome(ok=False, status=status, body=text, error=f"HTTP {status}.")
