from typing import Any

from rest_framework import serializers

from catalog.models import Currency, InventorySource, Product, TaxCategory, TaxRate
from catalog.selectors import saleable_of
from config.addresses import AddressSerializer
from config.fields import CountryField, IdField, MoneyField
from config.serializers import WholeSerializer


class InventoryLevelSerializer(WholeSerializer):
    inventory_source_id = IdField(source="source_id")
    qty = serializers.IntegerField(min_value=0, max_value=1_000_000_000)


class ProductSerializer(serializers.ModelSerializer):
    price = MoneyField(min_value=0)
    weight = serializers.DecimalField(max_digits=10, decimal_places=3, min_value=0, required=False)
    tax_category_id = IdField(required=False, allow_null=True)
    parent_id = IdField(required=False, allow_null=True)
    saleable_qty = serializers.SerializerMethodField(help_text="null for virtual products (not stocked)")
    inventories = InventoryLevelSerializer(many=True, required=False)

    class Meta:
        model = Product
        fields = ["id", "sku", "name", "type", "price", "status", "weight", "tax_category_id", "parent_id",
                  "saleable_qty", "inventories", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs: dict[str, dict[str, Any]] = {"sku": {"validators": []}}

    def get_saleable_qty(self, obj) -> int | None:
        return saleable_of(obj)


class InventorySourceSerializer(serializers.ModelSerializer):
    address = AddressSerializer(required=False, allow_null=True, names_optional=True)

    class Meta:
        model = InventorySource
        fields = ["id", "code", "name", "priority", "active", "pickup_enabled", "address"]
        extra_kwargs: dict[str, dict[str, Any]] = {"code": {"validators": []}}

    def validate(self, attrs):
        if attrs.get("pickup_enabled") and not attrs.get("address"):
            raise serializers.ValidationError({"address": ["A pickup location needs an address."]})
        if attrs.get("address") is None:
            attrs["address"] = {}
        return attrs

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not instance.address:
            data["address"] = None  # stored as {}: "no address"
        return data


class TaxRateSerializer(serializers.ModelSerializer):
    country = CountryField()
    zone = serializers.CharField(max_length=64, required=False, allow_blank=True, allow_null=True, default="")
    rate = serializers.DecimalField(max_digits=8, decimal_places=4, min_value=0, max_value=100)

    class Meta:
        model = TaxRate
        fields = ["country", "zone", "rate"]


class TaxCategorySerializer(serializers.ModelSerializer):
    rates = TaxRateSerializer(many=True, required=False)

    class Meta:
        model = TaxCategory
        fields = ["id", "code", "name", "rates"]
        extra_kwargs: dict[str, dict[str, Any]] = {"code": {"validators": []}}


class CurrencySerializer(serializers.ModelSerializer):
    class Meta:
        model = Currency
        fields = ["code", "name", "symbol", "rate", "enabled"]
