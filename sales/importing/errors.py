"""The import's own refusals (SPEC §7.2), with their stable codes from ``sales.error_codes``."""

from __future__ import annotations

from typing import Any

from config.errors import Conflict, DomainError, InvalidInput, _flatten
from sales.error_codes import SalesErrorCode


class DuplicateReference(Conflict):
    code = SalesErrorCode.DUPLICATE_REFERENCE
    default_message = "An order with this reference has already been imported."


class TotalsMismatch(InvalidInput):
    code = SalesErrorCode.TOTALS_MISMATCH
    default_message = "The document's totals do not match its items."


class ShippingMethodNotFound(InvalidInput):
    code = SalesErrorCode.SHIPPING_METHOD_NOT_FOUND
    default_message = "Shipping method not found."


class PaymentMethodNotFound(InvalidInput):
    code = SalesErrorCode.PAYMENT_METHOD_NOT_FOUND
    default_message = "Payment method not found."


# The shape is the callers' (the API's OrderImportSerializer, import_orders' compiled validator,
# sales.api.importing.document_validate): they pass the validated data in, so the import never
# imports the API.


def validation_error(detail: Any) -> InvalidInput:
    """A shape error's detail as one InvalidInput with every invalid field's dotted path
    (``items.0.price.amount``), as the API answers."""
    errors = _flatten(detail)
    first = errors[0] if errors else None
    message = "Invalid input."
    if first:
        message = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
    return InvalidInput(message, errors=errors)


def json_no_constants(name: str) -> Any:
    """``parse_constant`` for reading uploads: NaN and Infinity are not JSON (Python accepts them)."""
    raise ValueError(f"{name} is not valid JSON")


def error_describe(error: DomainError) -> str:
    """A refused document in one line, as `import_orders` prints it and an import job reports it:
    the message, or each field's message when several fields are wrong."""
    fields = [e for e in error.errors if e.get("field")]
    if len(fields) <= 1:
        return error.message
    return "; ".join(f"{e['field']}: {e['message']}" for e in fields)


__all__ = ["DuplicateReference", "PaymentMethodNotFound", "ShippingMethodNotFound", "TotalsMismatch",
           "error_describe", "json_no_constants", "validation_error"]
