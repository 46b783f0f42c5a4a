"""The one address shape used everywhere (carts, orders, import, customers' address books,
pickup locations): its fields and its API serializer (SPEC §3).

It lives in config, below every app, because the catalog's inventory sources carry an address
too and the catalog sits below customers in the import order; customers re-exports it.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from config.fields import CountryField
from config.serializers import StrictSerializer, WholeSerializer

ADDRESS_FIELDS = ("first_name", "last_name", "company", "phone", "line_1", "line_2", "city", "zone", "postcode",
                  "country")


class AddressSerializer(WholeSerializer):
    """The one address shape (SPEC §3). Output always has every field."""

    first_name = serializers.CharField(max_length=150)
    last_name = serializers.CharField(max_length=150)
    company = serializers.CharField(max_length=255, required=False, allow_blank=True, allow_null=True, default="")
    phone = serializers.CharField(max_length=64, required=False, allow_blank=True, allow_null=True, default="")
    line_1 = serializers.CharField(max_length=255)
    line_2 = serializers.CharField(max_length=255, required=False, allow_blank=True, allow_null=True, default="")
    city = serializers.CharField(max_length=128)
    zone = serializers.CharField(max_length=128, required=False, allow_blank=True, allow_null=True, default="")
    postcode = serializers.CharField(max_length=32)
    country = CountryField()

    def __init__(self, *args: Any, names_optional: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if names_optional:
            for name in ("first_name", "last_name"):
                field = self.fields[name]
                field.required = False
                if isinstance(field, serializers.CharField):
                    field.allow_blank = True

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        return {f: (attrs.get(f) or "") for f in ADDRESS_FIELDS}

    def to_representation(self, instance: Any) -> dict[str, Any]:
        # Stored addresses are dicts (JSONField) that may lack optional keys (or be empty,
        # as an inventory source without an address is): every field, "" when absent.
        if isinstance(instance, dict):
            return {f: instance.get(f) or "" for f in ADDRESS_FIELDS}
        return dict(super().to_representation(instance))


class StrictAddressSerializer(StrictSerializer, AddressSerializer):
    """The address where a body refuses unknown fields (an order's details, SPEC §12)."""


__all__ = ["ADDRESS_FIELDS", "AddressSerializer", "StrictAddressSerializer"]
