"""Document shapes (SPEC §5) and the lifecycle request bodies."""

from decimal import Decimal

from rest_framework import serializers

from accounts.api.serializers import UserSummarySerializer
from config.addresses import StrictAddressSerializer
from config.fields import MAX_ORDER_LINES, IdField, MoneyField, QuantityField
from config.serializers import StrictSerializer


class LineQtyInSerializer(StrictSerializer):
    order_item_id = IdField()
    quantity = QuantityField()


def _no_duplicates(items):
    seen = set()
    for n, line in enumerate(items or []):
        if line["order_item_id"] in seen:
            raise serializers.ValidationError({f"items.{n}.order_item_id": ["The same order item appears twice."]})
        seen.add(line["order_item_id"])


class InvoiceInSerializer(StrictSerializer):
    items = LineQtyInSerializer(many=True, required=False, help_text="Omit to invoice everything left")

    def validate(self, attrs):
        _no_duplicates(attrs.get("items"))
        return attrs


class ShipmentInSerializer(StrictSerializer):
    # Required: the service answers a missing (or null) one with 400 inventory_source_not_found.
    schema_required = ("inventory_source_id",)

    inventory_source_id = IdField(required=False, allow_null=True)
    carrier_title = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    track_number = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    items = LineQtyInSerializer(many=True, required=False, help_text="Omit to ship everything left")

    def validate(self, attrs):
        _no_duplicates(attrs.get("items"))
        return attrs


class RefundInSerializer(StrictSerializer):
    items = LineQtyInSerializer(many=True, required=False, default=list)
    shipping_amount = MoneyField(min_value=0, required=False, default=Decimal("0.00"))
    adjustment_refund = MoneyField(min_value=0, required=False, default=Decimal("0.00"))
    adjustment_fee = MoneyField(min_value=0, required=False, default=Decimal("0.00"))
    return_to_stock = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs):
        _no_duplicates(attrs.get("items"))
        return attrs


class CancelInSerializer(StrictSerializer):
    """Cancel takes no fields: an empty body (or {}) cancels everything left to cancel."""


class HoldInSerializer(StrictSerializer):
    reason = serializers.CharField(min_length=1, max_length=255, help_text="Why the order is held (1–255 characters)")


class ReleaseHoldInSerializer(StrictSerializer):
    """Release hold takes no fields: the body is empty or {}."""


class CommentInSerializer(serializers.Serializer):
    comment = serializers.CharField(min_length=1, max_length=5000)
    customer_notified = serializers.BooleanField(required=False, default=False)


class DocumentItemSerializer(serializers.Serializer):
    order_item_id = serializers.IntegerField()
    sku = serializers.CharField(allow_null=True)
    name = serializers.CharField()
    quantity = serializers.IntegerField()
    price = MoneyField()
    subtotal = MoneyField()
    tax_amount = MoneyField()
    discount_amount = MoneyField()
    total = MoneyField()


class DocumentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    order_id = serializers.IntegerField()
    order_number = serializers.CharField(source="order.number")
    currency = serializers.CharField(source="order.currency", help_text="The order's currency (ISO 4217)")
    customer_email = serializers.CharField(source="order.customer_email")
    state = serializers.CharField()
    created_at = serializers.DateTimeField()
    created_by = UserSummarySerializer(allow_null=True)
    items = DocumentItemSerializer(many=True, source="items.all")
    subtotal = MoneyField()
    tax_total = MoneyField()
    discount_total = MoneyField()
    shipping_total = MoneyField()
    grand_total = MoneyField()


class InvoiceSerializer(DocumentSerializer):
    pass


class InventorySourceRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class ShipmentSerializer(DocumentSerializer):
    carrier_title = serializers.CharField()
    track_number = serializers.CharField()
    inventory_source = InventorySourceRefSerializer()
    total_qty = serializers.IntegerField()


class RefundSerializer(DocumentSerializer):
    adjustment_refund = MoneyField()
    adjustment_fee = MoneyField()
    return_to_stock = serializers.BooleanField()


class RefundPreviewSerializer(serializers.Serializer):
    """The totals a refund would record (same code as the refund itself)."""

    subtotal = MoneyField()
    tax_total = MoneyField()
    discount_total = MoneyField()
    shipping_total = MoneyField()
    adjustment_refund = MoneyField()
    adjustment_fee = MoneyField()
    grand_total = MoneyField()
    items = DocumentItemSerializer(many=True)

    @staticmethod
    def from_plan(plan) -> dict:
        lines = [{"order_item_id": x.order_item_id, "sku": x.sku, "name": x.name, "quantity": x.quantity,
                  "price": x.price, "subtotal": x.subtotal, "tax_amount": x.tax_amount,
                  "discount_amount": x.discount_amount, "total": x.total} for x in plan.lines]
        return RefundPreviewSerializer({**plan.totals, "items": lines}).data


class CommentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    comment = serializers.CharField()
    customer_notified = serializers.BooleanField()
    author = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_author(self, obj) -> UserSummarySerializer(allow_null=True):  # type: ignore[valid-type]
        if obj.author_id:
            return UserSummarySerializer(obj.author).data
        if obj.author_name:
            return {"id": None, "email": None, "name": obj.author_name}
        return None


class EventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.CharField()
    actor = UserSummarySerializer(allow_null=True)
    created_at = serializers.DateTimeField()
    data = serializers.JSONField()  # type: ignore[assignment]  # the event's `data`; shadows Serializer.data


class EditLineInSerializer(StrictSerializer):
    id = IdField(required=False, help_text="An existing line; omit to add a product")
    product_id = IdField(required=False)
    sku = serializers.CharField(max_length=64, required=False)
    quantity = serializers.IntegerField(min_value=0, max_value=1_000_000, help_text="0 removes the line")

    def validate(self, attrs):
        if "id" not in attrs:
            if "product_id" not in attrs and "sku" not in attrs:
                raise serializers.ValidationError({"product_id": ["A new line needs product_id or sku."]})
            if attrs["quantity"] < 1:
                raise serializers.ValidationError({"quantity": ["A new line needs a quantity of at least 1."]})
        return attrs


class OrderEditInSerializer(StrictSerializer):
    """PATCH /orders/{id}: lines (SPEC §7.3, §12) and/or the order's details (§12); at least one."""

    items = EditLineInSerializer(many=True, allow_empty=False, max_length=MAX_ORDER_LINES,  # type: ignore[call-arg]
                                 required=False)  # many=True passes max_length to the ListSerializer
    billing_address = StrictAddressSerializer(required=False)
    shipping_address = StrictAddressSerializer(required=False)
    staff_note = serializers.CharField(max_length=5000, required=False, allow_blank=True, trim_whitespace=False,
                                       help_text="Staff's own note on the order; never shown to the customer")

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError(
                {"items": ["Give at least one of items, billing_address, shipping_address, staff_note."]})
        seen = set()
        for n, line in enumerate(attrs.get("items", [])):
            if "id" in line:
                if line["id"] in seen:
                    raise serializers.ValidationError({f"items.{n}.id": ["The same line appears twice."]})
                seen.add(line["id"])
        return attrs
