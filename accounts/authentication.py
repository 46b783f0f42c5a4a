from knox.auth import TokenAuthentication


class BearerTokenAuthentication(TokenAuthentication):
    """Hashed, expiring tokens (django-rest-knox) sent as ``Authorization: Bearer <token>``."""

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except UnicodeDecodeError:
            from rest_framework.exceptions import AuthenticationFailed

            raise AuthenticationFailed("Invalid token.") from None
