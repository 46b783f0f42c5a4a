from rest_framework import serializers

from carts.models import Cart, Coupon, DiscountType, PaymentMethod, ShippingMethod
from config.fields import IdField, MoneyField, QuantityField
from customers.api.address import AddressSerializer
from customers.api.serializers import CustomerSummarySerializer


class CartItemOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    product_id = serializers.IntegerField()
    sku = serializers.CharField(source="product.sku")
    name = serializers.CharField(source="product.name")
    quantity = serializers.IntegerField()
    price = MoneyField()
    subtotal = MoneyField()
    discount = MoneyField()
    tax_percent = serializers.DecimalField(max_digits=8, decimal_places=4)
    tax = MoneyField()
    total = MoneyField()


class CartShippingOutSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    amount = MoneyField()
    location_id = serializers.IntegerField(allow_null=True)


class CartPaymentOutSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()


class CartSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    customer = CustomerSummarySerializer()
    currency = serializers.CharField()
    items = CartItemOutSerializer(many=True)
    billing_address = AddressSerializer(allow_null=True)
    shipping_address = AddressSerializer(allow_null=True)
    shipping_method = serializers.SerializerMethodField()
    payment_method = serializers.SerializerMethodField()
    coupon_code = serializers.SerializerMethodField()
    subtotal = MoneyField()
    discount_total = MoneyField()
    tax_total = MoneyField()
    shipping_total = MoneyField()
    grand_total = MoneyField()
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_shipping_method(self, cart: Cart) -> CartShippingOutSerializer(allow_null=True):  # type: ignore[valid-type]
        method = cart.shipping_method
        if method is None:
            return None
        return {"code": method.code, "title": method.title,
                "amount": f"{cart.shipping_total:.2f}", "location_id": cart.pickup_location_id}

    def get_payment_method(self, cart: Cart) -> CartPaymentOutSerializer(allow_null=True):  # type: ignore[valid-type]
        method = cart.payment_method
        if method is None:
            return None
        return {"code": method.code, "title": method.title}

    def get_coupon_code(self, cart: Cart) -> str | None:
        return cart.coupon.code if cart.coupon is not None else None

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["items"] = CartItemOutSerializer(instance.items.all(), many=True).data
        data["billing_address"] = instance.billing_address
        data["shipping_address"] = instance.shipping_address
        return data


class DraftCartInSerializer(serializers.Serializer):
    currency = serializers.CharField(max_length=3, min_length=3, required=False,
                                     help_text="ISO 4217; default the base currency")


class CartItemAddInSerializer(serializers.Serializer):
    product_id = IdField(required=False)
    sku = serializers.CharField(max_length=64, required=False)
    quantity = QuantityField()

    def validate(self, attrs):
        if "product_id" not in attrs and "sku" not in attrs:
            raise serializers.ValidationError({"product_id": ["Give product_id or sku."]})
        return attrs


class CartItemUpdateInSerializer(serializers.Serializer):
    quantity = QuantityField()


class CartAddressesInSerializer(serializers.Serializer):
    billing = AddressSerializer()
    shipping = AddressSerializer(required=False, allow_null=True)
    shipping_same_as_billing = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs):
        if attrs.get("shipping_same_as_billing") and attrs.get("shipping"):
            raise serializers.ValidationError({"shipping": ["Give shipping or shipping_same_as_billing, not both."]})
        return attrs


class CartShippingSetInSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=32)
    location_id = IdField(required=False, allow_null=True)


class CodeInSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=64)


class ShippingLocationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    city = serializers.CharField()
    country = serializers.CharField()


class ShippingOptionSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    amount = MoneyField()
    locations = ShippingLocationSerializer(many=True, required=False)

    def to_representation(self, option):
        data = {"code": option.code, "title": option.title, "amount": f"{option.amount:.2f}"}
        if option.code == "pickup":
            data["locations"] = [{"id": loc.id, "name": loc.name, "city": (loc.address or {}).get("city", ""),
                                  "country": (loc.address or {}).get("country", "")} for loc in option.locations]
        return data


class ShippingMethodSerializer(serializers.ModelSerializer):
    class Meta:
        model = ShippingMethod
        fields = ["id", "code", "title", "enabled", "calc", "amount", "free_threshold"]


class PaymentMethodSerializer(serializers.ModelSerializer):
    class Meta:
        model = PaymentMethod
        fields = ["id", "code", "title", "enabled"]


MAX_USAGE_LIMIT = 2_000_000_000


class CouponSerializer(serializers.ModelSerializer):
    code = serializers.CharField(max_length=32)
    discount_type = serializers.ChoiceField(choices=DiscountType.choices)
    value = MoneyField(min_value=0)
    min_subtotal = MoneyField(min_value=0, required=False, allow_null=True)

    class Meta:
        model = Coupon
        fields = ["id", "code", "discount_type", "value", "free_shipping", "min_subtotal", "starts_at", "ends_at",
                  "usage_limit", "usage_limit_per_customer", "times_used", "is_active", "created_at"]
        read_only_fields = ["id", "times_used", "created_at"]
        # The columns hold 2,147,483,647; the API takes up to two thousand million.
        extra_kwargs = {"usage_limit": {"max_value": MAX_USAGE_LIMIT}, "usage_limit_per_customer": {"max_value": MAX_USAGE_LIMIT}}

    def validate_code(self, value: str) -> str:
        value = value.strip().upper()
        if not value:
            raise serializers.ValidationError("The code cannot be blank.")
        if len(value) > 32:  # upper-casing can lengthen it ('ß' becomes 'SS'); the column holds 32
            raise serializers.ValidationError("At most 32 characters once upper-cased.", code="max_length")
        return value

    def validate(self, attrs):
        dtype = attrs.get("discount_type", getattr(self.instance, "discount_type", None))
        value = attrs.get("value", getattr(self.instance, "value", None))
        if dtype == DiscountType.PERCENT and value is not None and value > 100:
            raise serializers.ValidationError({"value": ["A percent discount is at most 100."]})
        starts = attrs.get("starts_at", getattr(self.instance, "starts_at", None))
        ends = attrs.get("ends_at", getattr(self.instance, "ends_at", None))
        if starts and ends and ends < starts:
            raise serializers.ValidationError({"ends_at": ["ends_at is before starts_at."]})
        return attrs
