"""The customers app's error codes."""

from __future__ import annotations

from enum import StrEnum


class CustomerErrorCode(StrEnum):
    CUSTOMER_NOT_FOUND = "customer_not_found"
    CUSTOMER_EMAIL_TAKEN = "customer_email_taken"


__all__ = ["CustomerErrorCode"]
