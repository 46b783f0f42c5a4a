"""Response headers the whole site shares."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBadRequest, HttpResponseBase, JsonResponse
from django.utils.cache import add_never_cache_headers, patch_cache_control

from config.errors import error_body

NO_STORE_PREFIXES = ("/api/", "/checkout/")


class NoStoreMiddleware:
    """API answers and the hosted checkout page carry an order, a customer and a token-bearing
    link: no browser or proxy may keep a copy (SPEC §16: `Cache-Control: no-store`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if request.path.startswith(NO_STORE_PREFIXES):
            add_never_cache_headers(response)
            patch_cache_control(response, no_store=True, private=True)
        return response


class RejectNulQueryMiddleware:
    """A query string carrying a NUL character is refused before any view reads it: PostgreSQL
    cannot compare text with NUL (a DataError, so a 500) and no filter or search needs one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        bad = next((name for name, values in request.GET.lists()
                    if "\x00" in name or any("\x00" in v for v in values)), None)
        if bad is None:
            return self.get_response(request)
        message = f"The query parameter {bad.replace(chr(0), '')!r} holds a NUL character."
        if request.path.startswith("/api/"):
            return JsonResponse(error_body("validation_error", message, [
                {"field": bad.replace("\x00", ""), "code": "invalid", "message": message}]), status=400)
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
