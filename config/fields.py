"""Shared serializer fields and path converters."""

from typing import Any

from rest_framework import serializers

from config.countries import COUNTRY_HELP, country_code_clean
from config.error_codes import CommonErrorCode

MAX_ID = 2**63 - 1
MAX_QTY = 1_000_000
# SPEC §16: an order (and the cart it comes from) holds at most this many lines, however it is made.
MAX_ORDER_LINES = 1_000


class IdField(serializers.IntegerField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


class QuantityField(serializers.IntegerField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_QTY)
        super().__init__(**kwargs)


class MoneyField(serializers.DecimalField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(**kwargs)


class CountryField(serializers.CharField):
    """An ISO 3166-1 alpha-2 code that exists, in any case; the value is upper-case."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_length", 2)
        kwargs.setdefault("max_length", 2)
        kwargs.setdefault("help_text", COUNTRY_HELP)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        try:
            return country_code_clean(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc), code=CommonErrorCode.INVALID) from None


class NormalizedEmailField(serializers.EmailField):
    """An e-mail as it is stored (trimmed, lower-case). The length limit applies to that value:
    lower-casing can lengthen a string ('İ' becomes two characters), and a value the API
    accepts must fit its column."""

    def to_internal_value(self, data: Any) -> str:
        return super().to_internal_value(data).lower()


class LowerCaseCharField(serializers.CharField):
    """Text compared lower-case (a login e-mail): the length limit applies to the lower-cased value."""

    def to_internal_value(self, data: Any) -> str:
        return super().to_internal_value(data).lower()


class IdConverter:
    """Path ids: at most 18 digits, so a huge number is a 404, never a database overflow."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: Any) -> str:
        return str(value)


__all__ = ["CountryField", "IdConverter", "IdField", "LowerCaseCharField", "MoneyField", "NormalizedEmailField",
           "QuantityField"]
