import ipaddress
from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from carts.api.serializers import CartItemAddInSerializer
from config.fields import MAX_ORDER_LINES, CountryField, IdField, MoneyField, NormalizedEmailField
from customers.api.address import AddressSerializer


class DirectItemInSerializer(CartItemAddInSerializer):
    """A line of a direct create: the cart's own line shape (product_id or sku, quantity)."""


class DirectShippingInSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=32)
    location_id = IdField(required=False, allow_null=True)


@extend_schema_field({"type": "object", "maxProperties": 20, "additionalProperties": {"type": "string", "maxLength": 500},
                     "description": "Up to 20 keys (each ≤ 40 characters), string values ≤ 500 characters"})
class MetadataField(serializers.DictField):
    """Kept exactly as given: string values only (a number or null would come back changed)."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if len(value) > 20:
            raise serializers.ValidationError("At most 20 keys.", code="max_length")
        for key, item in value.items():
            if len(key) > 40:
                raise serializers.ValidationError(f"Key {key[:40]!r}… is longer than 40 characters.", code="max_length")
            if not isinstance(item, str):
                raise serializers.ValidationError(f"Value of {key!r} must be a string.", code="invalid")
            if len(item) > 500:
                raise serializers.ValidationError(f"Value of {key!r} is longer than 500 characters.", code="max_length")
        return dict(value)


class IpAddressField(serializers.CharField):
    """An IPv4 or IPv6 address, kept as given. Python's parser rather than Django's, which refuses
    some valid IPv6 forms of 40–45 characters; a zone index (`fe80::1%eth0`) is no client's address."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 45)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            if "%" in value:
                raise ValueError(value)
            ipaddress.ip_address(value)
        except ValueError:
            raise serializers.ValidationError("Enter a valid IPv4 or IPv6 address.", code="invalid") from None
        return value


class DirectOrderInSerializer(serializers.Serializer):
    email = NormalizedEmailField(max_length=256)
    customer_id = IdField(required=False, allow_null=True)
    items = DirectItemInSerializer(many=True, required=False,  # type: ignore[call-arg]  # to the ListSerializer
                                   max_length=MAX_ORDER_LINES)
    cost = MoneyField(required=False, allow_null=True, min_value=Decimal("0.01"), max_value=Decimal("1000000"),
                      help_text="A product-less order for this amount; when given, items is ignored")
    description = serializers.CharField(max_length=255, required=False, allow_blank=True)
    payment_method = serializers.CharField(max_length=64, required=False, default="paylink")
    coupon_code = serializers.CharField(max_length=32, required=False, allow_blank=True)
    affiliate_code = serializers.CharField(max_length=256, required=False, allow_blank=True)
    return_url = serializers.URLField(max_length=2048, required=False, allow_blank=True)
    metadata = MetadataField(required=False, default=dict)
    ip = IpAddressField(required=False, allow_blank=True)
    user_agent = serializers.CharField(max_length=512, required=False, allow_blank=True)
    country = CountryField(required=False, allow_blank=True)
    send_receipt = serializers.BooleanField(required=False, default=True)
    currency = serializers.CharField(min_length=3, max_length=3, required=False)
    billing_address = AddressSerializer(required=False, allow_null=True)
    shipping_address = AddressSerializer(required=False, allow_null=True)
    shipping_method = DirectShippingInSerializer(required=False, allow_null=True)

    def validate(self, attrs):
        if attrs.get("cost") is None and not attrs.get("items"):
            message = "Give items (a product order) or cost (a product-less order)."
            raise serializers.ValidationError({"items": [message], "cost": [message]})
        return attrs
