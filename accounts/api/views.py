from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import client_ip
from accounts.services import auth
from config.openapi import error_responses
from config.request_checks import RequestChecks

from .serializers import LoginResponseSerializer, LoginSerializer, UserSummarySerializer


class LoginView(APIView):
    authentication_classes: list = []
    idempotency_key_ignored = True  # SPEC §11: a retried login is a new login (a replay would hand out a stored token)
    permission_classes = [AllowAny, RequestChecks]

    @extend_schema(
        request=LoginSerializer,
        responses={200: LoginResponseSerializer, **error_responses(400, 401, 403, 429,
                   codes={401: ["invalid_credentials"], 403: ["permission_denied"], 429: ["throttled"]})},
        auth=[],
        summary="Log in with e-mail and password; returns a Bearer token",
    )
    def post(self, request):
        data = LoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        issued = auth.login(email=data.validated_data["email"], password=data.validated_data["password"],
                            ip_address=client_ip(request))
        return Response({"token": issued.token, "expiry": issued.expiry,
                         "user": UserSummarySerializer(issued.user).data})


class LogoutView(APIView):
    required_perms: dict = {"POST": []}

    @extend_schema(request=None, responses={204: None, **error_responses(401)}, summary="Revoke this token")
    def post(self, request):
        if request.auth is not None and hasattr(request.auth, "digest"):
            auth.logout(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)
