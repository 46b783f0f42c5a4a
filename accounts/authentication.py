from django.utils import timezone
from knox.auth import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed


def client_ip(request) -> str:
    """The address a login is throttled by (SPEC §2); the API login and the admin's login form alike."""
    meta = getattr(request, "META", {})
    return (meta.get("REMOTE_ADDR") or "unknown")[:45]


class BearerTokenAuthentication(TokenAuthentication):
    """Hashed, expiring tokens (django-rest-knox) sent as ``Authorization: Bearer <token>``."""

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except UnicodeDecodeError:
            raise AuthenticationFailed("Invalid token.") from None

    def _cleanup_token(self, auth_token) -> bool:
        # knox walks every token of the user on every request to purge expired ones; that grows
        # with the user's token count. Check only this token; `manage.py purge_expired_tokens`
        # (or any later login) cleans the rest.
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            return True
        return False
