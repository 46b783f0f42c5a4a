"""Order shapes (SPEC §5). Output-only serializers: they translate, they decide nothing."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.api.serializers import UserSummarySerializer
from carts.api.serializers import CartSerializer
from config.fields import MoneyField
from customers.api.address import AddressSerializer
from customers.api.serializers import CustomerSummarySerializer
from sales import status as status_rules
from sales.models import Order, OrderItem
from sales.services.placing import checkout_url_for


def _customer(order: Order):
    if order.customer_id is None:
        return None
    customer = order.customer
    assert customer is not None  # customer_id is set
    return {"id": order.customer_id, "email": customer.email, "name": customer.name}


class OrderItemSerializer(serializers.ModelSerializer):
    qty_to_invoice = serializers.IntegerField(read_only=True)
    qty_to_ship = serializers.IntegerField(read_only=True)
    qty_to_refund = serializers.IntegerField(read_only=True)
    qty_to_cancel = serializers.IntegerField(read_only=True)

    class Meta:
        model = OrderItem
        fields = ["id", "product_id", "sku", "name", "type", "is_shippable", "qty_ordered", "qty_invoiced",
                  "qty_shipped", "qty_refunded", "qty_returned", "qty_canceled", "qty_to_invoice", "qty_to_ship",
                  "qty_to_refund", "qty_to_cancel", "price", "subtotal", "tax_percent", "tax_amount", "discount_amount", "total"]


class CanSerializer(serializers.Serializer):
    invoice = serializers.BooleanField()
    ship = serializers.BooleanField()
    refund = serializers.BooleanField()
    cancel = serializers.BooleanField()
    edit = serializers.BooleanField()
    hold = serializers.BooleanField()
    release_hold = serializers.BooleanField()


class HoldSerializer(serializers.Serializer):
    """An order's hold (SPEC §12)."""

    reason = serializers.CharField()
    held_at = serializers.DateTimeField()
    held_by = UserSummarySerializer(allow_null=True)


class DocumentSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    grand_total = MoneyField(required=False)
    total_qty = serializers.IntegerField(required=False)
    created_at = serializers.DateTimeField()


class PaymentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    method = serializers.CharField()
    amount = MoneyField()
    state = serializers.CharField()
    reference = serializers.CharField()
    created_at = serializers.DateTimeField()


class ShippingMethodOutSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    amount = MoneyField()


class PaymentMethodOutSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()


class ClientSerializer(serializers.Serializer):
    """What a direct create was told about the buyer (SPEC §7.1); null when not given, all null
    for orders made another way (an import's `ip` excepted)."""

    ip = serializers.CharField(allow_null=True)
    user_agent = serializers.CharField(allow_null=True)
    country = serializers.CharField(allow_null=True, help_text="ISO 3166-1 alpha-2, upper-case")
    affiliate_code = serializers.CharField(allow_null=True)
    return_url = serializers.URLField(allow_null=True)


class PickupLocationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    address = AddressSerializer(names_optional=True)


_DATETIME = serializers.DateTimeField()
_RATE = serializers.DecimalField(max_digits=18, decimal_places=8)


def _money(value) -> str:
    return f"{value:.2f}"


def order_row(o: Order) -> dict:
    """An order as the list shows it: the same keys and values as OrderListSerializer's fields
    (tests/sales/test_order_list_row.py checks both), built in one pass from the order row."""
    due = o.grand_total - o.total_invoiced - o.total_canceled
    return {
        "id": o.id, "number": o.number, "reference": o.reference, "status": o.status_code, "status_id": o.status,
        "status_label": o.status_label, "channel": o.channel, "customer": _customer(o),
        "customer_email": o.customer_email, "currency": o.currency, "base_currency": o.base_currency,
        "exchange_rate": _RATE.to_representation(o.exchange_rate), "fulfillment_type": o.fulfillment_type,
        "shipping_method": ({"code": o.shipping_method_code, "title": o.shipping_method_title,
                             "amount": _money(o.shipping_total)} if o.shipping_method_code else None),
        "payment_method": ({"code": o.payment_method_code, "title": o.payment_method_title}
                           if o.payment_method_code else None),
        "coupon_code": o.coupon_code or None, "subtotal": _money(o.subtotal),
        "discount_total": _money(o.discount_total), "tax_total": _money(o.tax_total),
        "shipping_total": _money(o.shipping_total), "grand_total": _money(o.grand_total),
        "total_invoiced": _money(o.total_invoiced), "total_refunded": _money(o.total_refunded),
        "total_canceled": _money(o.total_canceled), "total_due": _money(due), "invoice_state": o.invoice_state,
        "shipment_state": o.shipment_state, "created_at": _DATETIME.to_representation(o.created_at),
        "updated_at": _DATETIME.to_representation(o.updated_at),
        "archived_at": _DATETIME.to_representation(o.archived_at) if o.archived_at else None,
    }


class OrderListSerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()
    status_id = serializers.IntegerField(source="status")
    status_label = serializers.CharField(read_only=True)
    customer = serializers.SerializerMethodField()
    payment_method = serializers.SerializerMethodField()
    shipping_method = serializers.SerializerMethodField()
    total_due = MoneyField(read_only=True)
    coupon_code = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = ["id", "number", "reference", "status", "status_id", "status_label", "channel", "customer",
                  "customer_email", "currency", "base_currency", "exchange_rate", "fulfillment_type",
                  "shipping_method", "payment_method", "coupon_code", "subtotal", "discount_total", "tax_total",
                  "shipping_total", "grand_total", "total_invoiced", "total_refunded", "total_canceled", "total_due",
                  "invoice_state", "shipment_state", "created_at", "updated_at", "archived_at"]

    def to_representation(self, instance):
        # The list's 50 rows skip DRF's field-by-field walk (SPEC §15: ~0.3 ms a row); the
        # declared fields above stay the schema, and a test compares both outputs.
        return order_row(instance)

    def get_status(self, order) -> str:
        return order.status_code

    def get_customer(self, order) -> CustomerSummarySerializer(allow_null=True):  # type: ignore[valid-type]
        return _customer(order)

    def get_payment_method(self, order) -> PaymentMethodOutSerializer(allow_null=True):  # type: ignore[valid-type]
        if not order.payment_method_code:
            return None
        return {"code": order.payment_method_code, "title": order.payment_method_title}

    def get_shipping_method(self, order) -> ShippingMethodOutSerializer(allow_null=True):  # type: ignore[valid-type]
        if not order.shipping_method_code:
            return None
        return {"code": order.shipping_method_code, "title": order.shipping_method_title,
                "amount": f"{order.shipping_total:.2f}"}

    def get_coupon_code(self, order) -> str | None:
        return order.coupon_code or None


class OrderDetailSerializer(OrderListSerializer):
    items = OrderItemSerializer(many=True, read_only=True)
    billing_address = AddressSerializer(allow_null=True, read_only=True)
    shipping_address = AddressSerializer(allow_null=True, read_only=True)
    pickup_location = serializers.SerializerMethodField()
    can = serializers.SerializerMethodField()
    hold = serializers.SerializerMethodField(help_text="The order's hold; null when it is not on hold")
    invoices = serializers.SerializerMethodField()
    shipments = serializers.SerializerMethodField()
    refunds = serializers.SerializerMethodField()
    payments = PaymentSerializer(many=True, read_only=True)
    checkout_url = serializers.SerializerMethodField()
    client = serializers.SerializerMethodField()
    created_by = serializers.SerializerMethodField(help_text="The staff user who placed, created or imported "
                                                             "it; null when none is recorded")

    class Meta(OrderListSerializer.Meta):
        fields = [*OrderListSerializer.Meta.fields, "items", "billing_address", "shipping_address",
                  "pickup_location", "can", "hold", "staff_note", "invoices", "shipments", "refunds", "payments",
                  "metadata", "client", "checkout_url", "created_by"]

    def to_representation(self, instance):
        data = serializers.ModelSerializer.to_representation(self, instance)  # every field, the DRF way
        data["billing_address"] = instance.billing_address
        data["shipping_address"] = instance.shipping_address
        return data

    def get_created_by(self, order) -> UserSummarySerializer(allow_null=True):  # type: ignore[valid-type]
        return UserSummarySerializer(order.created_by).data if order.created_by_id else None

    def get_pickup_location(self, order) -> PickupLocationSerializer(allow_null=True):  # type: ignore[valid-type]
        loc = order.pickup_location
        if loc is None:
            return None
        return {"id": loc.id, "code": loc.code, "name": loc.name, "address": loc.address}

    @extend_schema_field(CanSerializer)
    def get_can(self, order) -> dict[str, bool]:
        flags = status_rules.order_can(order, order.items.all())
        return {"invoice": flags.invoice, "ship": flags.ship, "refund": flags.refund, "cancel": flags.cancel,
                "edit": flags.edit, "hold": flags.hold, "release_hold": flags.release_hold}

    def get_hold(self, order) -> HoldSerializer(allow_null=True):  # type: ignore[valid-type]
        if order.held_at is None:
            return None
        return {"reason": order.hold_reason, "held_at": serializers.DateTimeField().to_representation(order.held_at),
                "held_by": UserSummarySerializer(order.held_by).data if order.held_by_id else None}

    def get_invoices(self, order) -> DocumentSummarySerializer(many=True):  # type: ignore[valid-type]
        return [{"id": d.id, "number": d.number, "grand_total": f"{d.grand_total:.2f}", "created_at": d.created_at}
                for d in order.invoices.all()]

    def get_shipments(self, order) -> DocumentSummarySerializer(many=True):  # type: ignore[valid-type]
        return [{"id": d.id, "number": d.number, "total_qty": d.total_qty, "created_at": d.created_at}
                for d in order.shipments.all()]

    def get_refunds(self, order) -> DocumentSummarySerializer(many=True):  # type: ignore[valid-type]
        return [{"id": d.id, "number": d.number, "grand_total": f"{d.grand_total:.2f}", "created_at": d.created_at}
                for d in order.refunds.all()]

    @extend_schema_field(ClientSerializer)
    def get_client(self, order) -> dict[str, str | None]:
        return order.client

    def get_checkout_url(self, order) -> str | None:
        return checkout_url_for(order)


class OrderCountSerializer(serializers.Serializer):
    class StatusCount(serializers.Serializer):
        status_id = serializers.IntegerField()
        status = serializers.CharField()
        count = serializers.IntegerField()

    count = serializers.IntegerField()
    statuses = StatusCount(many=True)


class SkippedItemSerializer(serializers.Serializer):
    order_item_id = serializers.IntegerField()
    sku = serializers.CharField(allow_null=True)
    name = serializers.CharField()
    quantity = serializers.IntegerField()
    code = serializers.CharField()
    reason = serializers.CharField()


class ReorderResponseSerializer(CartSerializer):
    """The new draft cart (its fields at the top level and under `cart`) plus the skipped lines."""

    cart = CartSerializer()
    skipped_items = SkippedItemSerializer(many=True)


class DryRunTotalsSerializer(serializers.Serializer):
    subtotal = MoneyField()
    discount_total = MoneyField()
    tax_total = MoneyField()
    shipping_total = MoneyField()
    grand_total = MoneyField()
    total_invoiced = MoneyField()
    total_refunded = MoneyField()
    total_canceled = MoneyField()
    total_due = MoneyField()


class StockMoveSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    sku = serializers.CharField(allow_null=True)
    inventory_source_id = serializers.IntegerField(allow_null=True)
    reserved = serializers.IntegerField(help_text="Signed change of the product's reserved quantity")
    on_hand = serializers.IntegerField(help_text="Signed change of the source's on-hand quantity")


class DryRunSerializer(serializers.Serializer):
    """The answer of `?dry_run=true` (SPEC §11): what the action would do; nothing was written."""

    dry_run = serializers.BooleanField()
    status_after = serializers.CharField()
    totals = DryRunTotalsSerializer()
    document = serializers.JSONField(allow_null=True,
                                     help_text="The invoice, shipment or refund as it would be (id and number "
                                               "null); null for actions that create no document")
    stock_moves = StockMoveSerializer(many=True)
