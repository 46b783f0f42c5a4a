from rest_framework import serializers

from config.fields import CountryField
from customers.models import ADDRESS_FIELDS


class AddressSerializer(serializers.Serializer):
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

    def __init__(self, *args, names_optional: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if names_optional:
            for name in ("first_name", "last_name"):
                self.fields[name].required = False
                self.fields[name].allow_blank = True

    def validate(self, attrs):
        return {f: (attrs.get(f) or "") for f in ADDRESS_FIELDS}

    def to_representation(self, instance):
        # Stored addresses are dicts (JSONField) that may lack optional keys (or be empty,
        # as an inventory source without an address is): every field, "" when absent.
        if isinstance(instance, dict):
            return {f: instance.get(f) or "" for f in ADDRESS_FIELDS}
        return super().to_representation(instance)
