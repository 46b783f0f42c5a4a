"""One domain error type and the one place that turns errors into HTTP responses.

Services raise ``DomainError`` subclasses (each with a stable ``code`` and an HTTP
``status``); API views never build error responses themselves. Every error under
``/api/`` has the body ``{"code", "message", "errors": [{"field", "code", "message"}]}``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response

from config.error_codes import CommonErrorCode


class DomainError(Exception):
    """A business rule refused the action. Subclasses fix ``code`` and ``status``."""

    code: str = CommonErrorCode.DOMAIN_ERROR
    status: int = status.HTTP_409_CONFLICT
    default_message: str = "The action is not allowed."

    def __init__(self, message: str | None = None, *, field: str | None = None, code: str | None = None,
                 status: int | None = None, errors: list[dict[str, str]] | None = None,
                 headers: dict[str, str] | None = None):
        self.headers = headers or {}
        if code:
            self.code = code
        if status:
            self.status = status
        self.message = message or self.default_message
        self.field = field
        self.errors = errors if errors is not None else (
            [{"field": field, "code": self.code, "message": self.message}] if field else []
        )
        super().__init__(self.message)

    def as_body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "errors": self.errors}


class Conflict(DomainError):
    """409: the current state forbids the action."""

    status = status.HTTP_409_CONFLICT


class InvalidInput(DomainError):
    """400: the request names something that does not exist or is malformed."""

    code: str = CommonErrorCode.VALIDATION_ERROR
    status = status.HTTP_400_BAD_REQUEST


class NotFound(DomainError):
    code: str = CommonErrorCode.NOT_FOUND
    status = status.HTTP_404_NOT_FOUND
    default_message = "Not found."


def error_body(code: str, message: str, errors: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "errors": errors or []}


def _flatten(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    """Turn DRF's nested ValidationError detail into dotted-path field errors."""
    out: list[dict[str, str]] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if key == "non_field_errors":
                path = prefix
            out.extend(_flatten(value, path))
    elif isinstance(detail, list):
        if all(isinstance(d, (exceptions.ErrorDetail, str)) for d in detail):
            for d in detail:
                out.append({"field": prefix, "code": getattr(d, "code", None) or CommonErrorCode.INVALID, "message": str(d)})
        else:
            for i, value in enumerate(detail):
                if value:
                    out.extend(_flatten(value, f"{prefix}.{i}" if prefix else str(i)))
    else:
        out.append({"field": prefix, "code": getattr(detail, "code", None) or CommonErrorCode.INVALID, "message": str(detail)})
    return out


_GENERIC_CODES = {
    exceptions.NotAuthenticated: CommonErrorCode.NOT_AUTHENTICATED,
    exceptions.AuthenticationFailed: CommonErrorCode.NOT_AUTHENTICATED,
    exceptions.PermissionDenied: CommonErrorCode.PERMISSION_DENIED,
    exceptions.NotFound: CommonErrorCode.NOT_FOUND,
    exceptions.MethodNotAllowed: CommonErrorCode.METHOD_NOT_ALLOWED,
    exceptions.NotAcceptable: CommonErrorCode.NOT_ACCEPTABLE,
    exceptions.UnsupportedMediaType: CommonErrorCode.UNSUPPORTED_MEDIA_TYPE,
    exceptions.Throttled: CommonErrorCode.THROTTLED,
    exceptions.ParseError: CommonErrorCode.PARSE_ERROR,
}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        response = Response(exc.as_body(), status=exc.status, headers=exc.headers)
        if exc.status == 401:
            response["WWW-Authenticate"] = "Bearer"
        return response
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        first = errors[0] if errors else None
        message = "Invalid input."
        if first:
            message = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
        return Response(error_body(CommonErrorCode.VALIDATION_ERROR, message, errors), status=400)
    if isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code: str = next((c for cls, c in _GENERIC_CODES.items() if isinstance(exc, cls)),
                         codes if isinstance(codes, str) else CommonErrorCode.ERROR)
        detail = exc.detail
        message = str(detail) if not isinstance(detail, (dict, list)) else "Request failed."
        status_code = exc.status_code
        headers: dict[str, str] = {}
        if code == CommonErrorCode.NOT_AUTHENTICATED:
            status_code = 401
            headers["WWW-Authenticate"] = "Bearer"
        wait: float | None = getattr(exc, "wait", None) if isinstance(exc, exceptions.Throttled) else None
        if wait is not None:
            headers["Retry-After"] = str(int(wait) + (0 if float(wait).is_integer() else 1))
        return Response(error_body(code, message), status=status_code, headers=headers)
    return None


@csrf_exempt
def api_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 handler: JSON under /api/, Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(CommonErrorCode.NOT_FOUND, f"No endpoint at {request.path}."), status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def api_bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """400 handler (a request Django refuses before any view: body over DATA_UPLOAD_MAX_MEMORY_SIZE,
    too many fields, a disallowed host): JSON under /api/, Django's page elsewhere. A body over the
    limit is 413 (SPEC §1), the rest 400."""
    if request.path.startswith("/api/"):
        from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent

        if isinstance(exception, (RequestDataTooBig, TooManyFieldsSent)):
            return JsonResponse(error_body(CommonErrorCode.REQUEST_TOO_LARGE, "The request body is too large."), status=413)
        return JsonResponse(error_body(CommonErrorCode.BAD_REQUEST, "The request could not be read."), status=400)
    from django.views.defaults import bad_request

    return bad_request(request, exception)


def api_server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(CommonErrorCode.SERVER_ERROR, "Internal error; nothing was changed."), status=500)
    from django.views.defaults import server_error

    return server_error(request)
