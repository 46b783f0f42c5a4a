"""The accounts app's error codes (staff login, API tokens, Idempotency-Key); generic ones
(``permission_denied``, ``throttled``) are config.error_codes.CommonErrorCode."""

from __future__ import annotations

from enum import StrEnum


class AccountErrorCode(StrEnum):
    INVALID_CREDENTIALS = "invalid_credentials"
    USER_NOT_FOUND = "user_not_found"
    USER_NOT_STAFF = "user_not_staff"
    IDEMPOTENCY_KEY_IN_USE = "idempotency_key_in_use"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"


__all__ = ["AccountErrorCode"]
