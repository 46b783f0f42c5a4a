"""Shared serializer fields and path converters."""

from rest_framework import serializers

MAX_ID = 2**63 - 1
MAX_QTY = 1_000_000


class IdField(serializers.IntegerField):
    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


class QuantityField(serializers.IntegerField):
    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_QTY)
        super().__init__(**kwargs)


class MoneyField(serializers.DecimalField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(**kwargs)


class IdConverter:
    """Path ids: at most 18 digits, so a huge number is a 404, never a database overflow."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(value)


__all__ = ["IdConverter", "IdField", "MoneyField", "QuantityField"]
