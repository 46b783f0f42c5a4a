"""Response headers the whole site shares."""

from __future__ import annotations

from django.utils.cache import add_never_cache_headers, patch_cache_control

NO_STORE_PREFIXES = ("/api/", "/checkout/")


class NoStoreMiddleware:
    """API answers and the hosted checkout page carry an order, a customer and a token-bearing
    link: no browser or proxy may keep a copy (SPEC §16: `Cache-Control: no-store`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(NO_STORE_PREFIXES):
            add_never_cache_headers(response)
            patch_cache_control(response, no_store=True, private=True)
        return response
