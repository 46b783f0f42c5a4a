"""`Idempotency-Key` on POST/PATCH/DELETE under /api/admin/ (SPEC §11).

The same key with the same body replays the first response (a success, or the action's own
refusal: 400, 404, 409) for 24 hours; with a different body → 422 idempotency_key_reused; while
the first request is still running a retry waits briefly for it, else gets 409
idempotency_key_in_use. Keys are scoped to the user, the method and the path with its query
string. Dry runs are never stored; 401, 403, 429 and 5xx are not stored, so the client may
retry once the cause is fixed. A multipart body compares by its fields and each file's SHA-256.

It lives in accounts, beside the stored answers (``IdempotencyRecord``) and the token
authentication it reads the user with: config knows no app.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import Resolver404, resolve
from django.utils import timezone
from rest_framework.request import Request

from accounts.authentication import BearerTokenAuthentication
from accounts.error_codes import AccountErrorCode
from accounts.models import IdempotencyRecord
from accounts.models.idempotency import TTL
from config.error_codes import CommonErrorCode
from config.errors import error_body
from config.request_checks import handles

WAIT_SECONDS = 5.0
METHODS = {"POST", "PATCH", "PUT", "DELETE"}


def _user_for(request: HttpRequest) -> Any:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header.lower().startswith("bearer "):
        try:
            result = BearerTokenAuthentication().authenticate(Request(request))
        except Exception:  # the view itself answers 401
            return None
        return result[0] if result else None
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _answers(request: HttpRequest) -> bool:
    """Whether the endpoint has this method and keeps keys: one that it does not have is a 405 (or
    a 404 for no endpoint), whatever Idempotency-Key says; a view marked
    ``idempotency_key_ignored`` (login: every login is a new token) runs as if no key were sent."""
    try:
        view = getattr(resolve(request.path_info).func, "cls", None)
    except Resolver404:
        return False
    return (view is not None and handles(view, request.method or "")
            and not getattr(view, "idempotency_key_ignored", False))


# The answers a retry replays (SPEC §11): successes and the action's own refusals. Never 401, 403,
# 429 or 5xx: a retry after the token, the permission, the rate or the server is fixed runs for real.
KEPT_REFUSALS = {400, 404, 409}


def _kept(response: HttpResponseBase) -> bool:
    status = response.status_code
    return not getattr(response, "streaming", False) and (200 <= status < 300 or status in KEPT_REFUSALS)


def request_digest(request: HttpRequest) -> str:
    """What the request says, as a SHA-256: its body; for multipart/form-data its fields and the
    SHA-256 of each file (SPEC §11). A retried upload has another boundary and may order its parts
    otherwise, and its files are read through Django's upload handlers (to disk past
    FILE_UPLOAD_MAX_MEMORY_SIZE), never held as one body in memory — so an upload larger than
    DATA_UPLOAD_MAX_MEMORY_SIZE is not refused for carrying an Idempotency-Key."""
    if request.content_type != "multipart/form-data":
        return hashlib.sha256(request.body or b"").hexdigest()
    files: dict[str, list[str]] = {}
    for name, uploads in request.FILES.lists():
        digests = []
        for upload in uploads:
            sha = hashlib.sha256()
            for chunk in upload.chunks():
                sha.update(chunk)
            upload.seek(0)  # the view reads it again
            digests.append(sha.hexdigest())
        files[name] = digests
    fields = {name: values for name, values in request.POST.lists()}
    canonical = json.dumps({"fields": fields, "files": files}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class IdempotencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        key = request.headers.get("Idempotency-Key")
        if (not key or request.method not in METHODS or not request.path.startswith("/api/admin/")
                or request.GET.get("dry_run", "").lower() in {"1", "true", "yes"} or not _answers(request)):
            return self.get_response(request)
        if len(key) > 255:
            return JsonResponse(error_body(CommonErrorCode.VALIDATION_ERROR, "Idempotency-Key is longer than 255 characters.",
                                           [{"field": "Idempotency-Key", "code": CommonErrorCode.MAX_LENGTH,
                                             "message": "At most 255 characters."}]), status=400)
        user = _user_for(request)
        if user is None:
            return self.get_response(request)
        try:
            digest = request_digest(request)
        except (MultiPartParserError, RequestDataTooBig, SuspiciousOperation):
            return self.get_response(request)  # the view refuses what cannot be read (400/413); nothing to keep
        path = request.get_full_path()
        scope = {"user": user, "key": key, "method": request.method, "path": path}
        IdempotencyRecord.objects.filter(**scope, created_at__lt=timezone.now() - TTL).delete()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(**scope, request_hash=digest)
        except IntegrityError:
            return self._replay(scope, digest)
        try:
            response = self.get_response(request)
        except Exception:
            record.delete()
            raise
        if not _kept(response):
            record.delete()
            return response
        record.finished = True
        record.status_code = response.status_code
        record.content_type = response.get("Content-Type", "")
        record.body = bytes(getattr(response, "content", b""))
        record.save(update_fields=["finished", "status_code", "content_type", "body"])
        return response

    def _replay(self, scope: dict[str, Any], digest: str) -> HttpResponseBase:
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            record = IdempotencyRecord.objects.filter(**scope).first()
            if record is None:
                return JsonResponse(error_body(AccountErrorCode.IDEMPOTENCY_KEY_IN_USE, "The first request with this "
                                               "Idempotency-Key failed; retry with the same key."), status=409)
            if record.request_hash != digest:
                return JsonResponse(error_body(AccountErrorCode.IDEMPOTENCY_KEY_REUSED, "This Idempotency-Key was used with a "
                                               "different request body."), status=422)
            if record.finished:
                response = HttpResponse(bytes(record.body or b""), status=record.status_code,
                                        content_type=record.content_type or "application/json")
                response["Idempotent-Replayed"] = "true"
                return response
            if time.monotonic() >= deadline:
                return JsonResponse(error_body(AccountErrorCode.IDEMPOTENCY_KEY_IN_USE, "A request with this Idempotency-Key is "
                                               "still running; retry shortly."), status=409)
            time.sleep(0.1)
