from decimal import Decimal

from rest_framework import serializers

from config.fields import IdField, MoneyField, QuantityField
from customers.api.address import AddressSerializer


class DirectItemInSerializer(serializers.Serializer):
    product_id = IdField(required=False)
    sku = serializers.CharField(max_length=64, required=False)
    quantity = QuantityField()

    def validate(self, attrs):
        if "product_id" not in attrs and "sku" not in attrs:
            raise serializers.ValidationError({"product_id": ["Give product_id or sku."]})
        return attrs


class DirectShippingInSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=32)
    location_id = IdField(required=False, allow_null=True)


class MetadataField(serializers.DictField):
    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if len(value) > 20:
            raise serializers.ValidationError("At most 20 keys.")
        out = {}
        for key, item in value.items():
            if len(str(key)) > 40:
                raise serializers.ValidationError(f"Key {str(key)[:40]!r}… is longer than 40 characters.")
            if isinstance(item, (dict, list)):
                raise serializers.ValidationError(f"Value of {key!r} must be a string, number or boolean.")
            text = "" if item is None else str(item)
            if len(text) > 500:
                raise serializers.ValidationError(f"Value of {key!r} is longer than 500 characters.")
            out[str(key)] = text
        return out


class DirectOrderInSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=256)
    customer_id = IdField(required=False, allow_null=True)
    items = DirectItemInSerializer(many=True, required=False)
    cost = MoneyField(required=False, allow_null=True, min_value=Decimal("0.01"), max_value=Decimal("1000000"),
                      help_text="A product-less order for this amount; when given, items is ignored")
    description = serializers.CharField(max_length=255, required=False, allow_blank=True)
    payment_method = serializers.CharField(max_length=64, required=False, default="paylink")
    coupon_code = serializers.CharField(max_length=32, required=False, allow_blank=True)
    affiliate_code = serializers.CharField(max_length=256, required=False, allow_blank=True)
    return_url = serializers.URLField(max_length=2048, required=False, allow_blank=True)
    metadata = MetadataField(required=False, default=dict)
    ip = serializers.IPAddressField(required=False, allow_blank=True)
    user_agent = serializers.CharField(max_length=512, required=False, allow_blank=True)
    country = serializers.CharField(min_length=2, max_length=2, required=False, allow_blank=True)
    send_receipt = serializers.BooleanField(required=False, default=True)
    currency = serializers.CharField(min_length=3, max_length=3, required=False)
    billing_address = AddressSerializer(required=False, allow_null=True)
    shipping_address = AddressSerializer(required=False, allow_null=True)
    shipping_method = DirectShippingInSerializer(required=False, allow_null=True)

    def validate_country(self, value: str) -> str:
        if value and not value.isalpha():
            raise serializers.ValidationError("Use a two-letter ISO 3166-1 country code.")
        return value.upper()

    def validate(self, attrs):
        if attrs.get("cost") is None and not attrs.get("items"):
            message = "Give items (a product order) or cost (a product-less order)."
            raise serializers.ValidationError({"items": [message], "cost": [message]})
        return attrs
