"""`Idempotency-Key` on POST/PATCH/DELETE under /api/admin/ (SPEC §11).

The same key with the same body replays the first response (success or 4xx refusal) for 24
hours; with a different body → 422 idempotency_key_reused; while the first request is still
running a retry waits briefly for it, else gets 409 idempotency_key_in_use. Keys are scoped
to the user, the method and the path with its query string. Dry runs are never stored; 5xx
responses are not stored, so the client may retry.
"""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone

from config.errors import error_body

TTL = timedelta(hours=24)
WAIT_SECONDS = 5.0
METHODS = {"POST", "PATCH", "PUT", "DELETE"}


def _user_for(request):
    from rest_framework.request import Request

    from accounts.authentication import BearerTokenAuthentication

    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header.lower().startswith("bearer "):
        try:
            result = BearerTokenAuthentication().authenticate(Request(request))
        except Exception:  # the view itself answers 401
            return None
        return result[0] if result else None
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.headers.get("Idempotency-Key")
        if (not key or request.method not in METHODS or not request.path.startswith("/api/admin/")
                or request.GET.get("dry_run", "").lower() in {"1", "true", "yes"}):
            return self.get_response(request)
        if len(key) > 255:
            return JsonResponse(error_body("validation_error", "Idempotency-Key is longer than 255 characters.",
                                           [{"field": "Idempotency-Key", "code": "max_length",
                                             "message": "At most 255 characters."}]), status=400)
        user = _user_for(request)
        if user is None:
            return self.get_response(request)
        from accounts.models import IdempotencyRecord

        digest = hashlib.sha256(request.body or b"").hexdigest()
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
        if response.status_code >= 500 or getattr(response, "streaming", False):
            record.delete()
            return response
        record.finished = True
        record.status_code = response.status_code
        record.content_type = response.get("Content-Type", "")
        record.body = bytes(response.content)
        record.save(update_fields=["finished", "status_code", "content_type", "body"])
        return response

    def _replay(self, scope, digest):
        from accounts.models import IdempotencyRecord

        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            record = IdempotencyRecord.objects.filter(**scope).first()
            if record is None:
                return JsonResponse(error_body("idempotency_key_in_use", "The first request with this "
                                               "Idempotency-Key failed; retry with the same key."), status=409)
            if record.request_hash != digest:
                return JsonResponse(error_body("idempotency_key_reused", "This Idempotency-Key was used with a "
                                               "different request body."), status=422)
            if record.finished:
                response = HttpResponse(bytes(record.body or b""), status=record.status_code,
                                        content_type=record.content_type or "application/json")
                response["Idempotent-Replayed"] = "true"
                return response
            if time.monotonic() >= deadline:
                return JsonResponse(error_body("idempotency_key_in_use", "A request with this Idempotency-Key is "
                                               "still running; retry shortly."), status=409)
            time.sleep(0.1)
