"""Request serializers that refuse what they do not know.

On the actions that write an order (SPEC §1) an unknown body field is a 400
``validation_error`` whose ``errors[].code`` is ``unknown_field``: a misspelt ``itmes`` on an
invoice must never read as "no items given, invoice everything left". Nested serializers that
inherit it check their own level (``items.0.quantiy``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from config.error_codes import CommonErrorCode


class StrictSerializer(serializers.Serializer[Any]):
    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = [key for key in data if key not in self.fields or self.fields[key].read_only]
            if unknown:
                known = ", ".join(name for name, f in self.fields.items() if not f.read_only) or "none"
                raise serializers.ValidationError({
                    str(key): [ErrorDetail(f"Unknown field {key!r}; this body takes: {known}.", code=CommonErrorCode.UNKNOWN_FIELD)]
                    for key in unknown})
        return super().to_internal_value(data)


class WholeSerializer(serializers.Serializer[Any]):
    """An entry that is whole wherever it is read: its required fields stay required when it sits in
    a PATCH body (DRF reads nested serializers partially along with their root, so an address or
    a stock line with a field missing would pass and be stored, or fail later as a 500)."""

    def to_internal_value(self, data: Any) -> Any:
        if self.root is not self and getattr(self.root, "partial", False) and isinstance(data, Mapping):
            missing = {name: [ErrorDetail("This field is required.", code=CommonErrorCode.REQUIRED)]
                       for name, field in self.fields.items()
                       if field.required and not field.read_only and name not in data}
            if missing:
                raise serializers.ValidationError(missing)
        return super().to_internal_value(data)


__all__ = ["StrictSerializer", "WholeSerializer"]
