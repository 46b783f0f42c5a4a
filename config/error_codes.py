"""The codes any part of the API may answer, whichever app it reaches (one enum per app:
each app's ``error_codes.py`` holds its own; Saleor's ``error_codes.py`` is the model).

``StrEnum``: a member is the ``str`` it stands for (``==``, JSON, ``str()`` and f-strings give
the wire value), so the codes clients see never change."""

from __future__ import annotations

from enum import StrEnum


class CommonErrorCode(StrEnum):
    # Top-level codes (the body's ``code``).
    DOMAIN_ERROR = "domain_error"
    VALIDATION_ERROR = "validation_error"
    NOT_FOUND = "not_found"
    NOT_AUTHENTICATED = "not_authenticated"
    PERMISSION_DENIED = "permission_denied"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    THROTTLED = "throttled"
    PARSE_ERROR = "parse_error"
    UNKNOWN_PARAMETER = "unknown_parameter"
    REQUEST_TOO_LARGE = "request_too_large"
    BAD_REQUEST = "bad_request"
    SERVER_ERROR = "server_error"
    ERROR = "error"  # an API exception that names no code of its own
    # Field-level codes (``errors[].code``) the shared fields and serializers add to DRF's own.
    INVALID = "invalid"
    REQUIRED = "required"
    MAX_LENGTH = "max_length"
    UNKNOWN_FIELD = "unknown_field"


__all__ = ["CommonErrorCode"]
