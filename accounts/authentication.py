from django.utils import timezone
from knox.auth import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed


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
