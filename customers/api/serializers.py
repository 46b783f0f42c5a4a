from rest_framework import serializers

from config.fields import NormalizedEmailField
from customers.models import EMAIL_MAX_LENGTH, Customer, CustomerAddress

from .address import AddressSerializer


class CustomerAddressSerializer(AddressSerializer):
    id = serializers.IntegerField(read_only=True)
    is_default_billing = serializers.BooleanField(required=False, default=False)
    is_default_shipping = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs):
        base = super().validate(attrs)
        base["is_default_billing"] = attrs.get("is_default_billing", False)
        base["is_default_shipping"] = attrs.get("is_default_shipping", False)
        return base

    def to_representation(self, instance: CustomerAddress):
        return {"id": instance.id, **instance.as_dict(), "is_default_billing": instance.is_default_billing,
                "is_default_shipping": instance.is_default_shipping}


class CustomerSerializer(serializers.ModelSerializer):
    email = NormalizedEmailField(max_length=EMAIL_MAX_LENGTH)
    name = serializers.CharField(read_only=True)
    addresses = CustomerAddressSerializer(many=True, required=False,
                                          help_text="Saved addresses; on PATCH the list given replaces the book")

    class Meta:
        model = Customer
        fields = ["id", "email", "first_name", "last_name", "name", "phone", "addresses", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {"first_name": {"max_length": 150}, "last_name": {"max_length": 150}, "phone": {"max_length": 64}}


class CustomerSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField()
