from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from sales import status as status_rules
from sales.models.counters import NOT_LOADED, bucket_loaded

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2, "default": 0}  # typed: the stubs check each kwarg


class OrderStatus(models.IntegerChoices):
    """Stable numeric ids (used by import, SPEC §5)."""

    PENDING = 1, "pending"
    PENDING_PAYMENT = 2, "pending_payment"
    PROCESSING = 3, "processing"
    COMPLETED = 4, "completed"
    CANCELED = 5, "canceled"
    CLOSED = 6, "closed"
    FRAUD = 7, "fraud"

    @property
    def code(self) -> str:
        return self.label


STATUS_TITLES = {1: "Pending", 2: "Pending payment", 3: "Processing", 4: "Completed", 5: "Canceled", 6: "Closed",
                 7: "Suspected fraud"}


class Channel(models.TextChoices):
    ADMIN = "admin", "Admin"
    API = "api", "API"
    IMPORT = "import", "Import"


class FulfillmentType(models.TextChoices):
    SHIPPING = "shipping", "Shipping"
    PICKUP = "pickup", "Pickup"
    NONE = "none", "Nothing ships"


class DocState(models.TextChoices):
    NONE = "none", "None"
    PARTIAL = "partial", "Partly"
    FULL = "full", "Fully"


# The buyer's details a direct create keeps (in Order.extra) and the order detail shows as `client`.
CLIENT_FIELDS = ("ip", "user_agent", "country", "affiliate_code", "return_url")


class Order(models.Model):
    """An order. Keeps what lists show on its own row so a list page joins nothing."""

    number = models.CharField(max_length=32, unique=True)
    reference = models.CharField(max_length=255, null=True, blank=True, unique=True)
    status = models.PositiveSmallIntegerField(choices=OrderStatus.choices, default=OrderStatus.PENDING)
    channel = models.CharField(max_length=64, default=Channel.ADMIN)
    customer = models.ForeignKey("customers.Customer", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="orders")
    customer_email = models.EmailField(max_length=256)
    customer_name = models.CharField(max_length=255, blank=True)
    currency = models.CharField(max_length=3)
    base_currency = models.CharField(max_length=3)
    exchange_rate = models.DecimalField(max_digits=18, decimal_places=8, default=1)
    billing_address = models.JSONField(null=True, blank=True)
    shipping_address = models.JSONField(null=True, blank=True)
    fulfillment_type = models.CharField(max_length=16, choices=FulfillmentType.choices, default=FulfillmentType.NONE)
    pickup_location = models.ForeignKey("catalog.InventorySource", null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="+")
    shipping_method_code = models.CharField(max_length=32, blank=True)
    shipping_method_title = models.CharField(max_length=255, blank=True)
    payment_method_code = models.CharField(max_length=64, blank=True)
    payment_method_title = models.CharField(max_length=255, blank=True)
    coupon = models.ForeignKey("carts.Coupon", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    coupon_code = models.CharField(max_length=32, blank=True)
    subtotal = models.DecimalField(**MONEY)
    discount_total = models.DecimalField(**MONEY)
    tax_total = models.DecimalField(**MONEY)
    shipping_total = models.DecimalField(**MONEY)
    grand_total = models.DecimalField(**MONEY)
    total_invoiced = models.DecimalField(**MONEY)
    total_refunded = models.DecimalField(**MONEY)
    total_canceled = models.DecimalField(**MONEY)
    shipping_invoiced = models.DecimalField(**MONEY)
    shipping_refunded = models.DecimalField(**MONEY)
    invoice_state = models.CharField(max_length=8, choices=DocState.choices, default=DocState.NONE)
    shipment_state = models.CharField(max_length=8, choices=DocState.choices, default=DocState.NONE)
    payment_captured = models.BooleanField(default=False)
    metadata = models.JSONField(default=dict, blank=True)
    extra = models.JSONField(default=dict, blank=True, help_text="Direct-create fields: affiliate, ip, user agent…")
    source_document = models.JSONField(null=True, blank=True, help_text="The imported document, kept whole")
    cart = models.OneToOneField("carts.Cart", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="order")
    checkout_token = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    # A hold (SPEC §12): set by sales.services.holding, cleared by its release or when the order
    # becomes canceled, closed or completed (sales.services.common.order_refresh_state).
    hold_reason = models.CharField(max_length=255, blank=True, default="", db_default="")  # db_default: raw bulk writers
    held_at = models.DateTimeField(null=True, blank=True)
    held_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    # Staff's own note on the order (SPEC §12), never shown to the customer.
    staff_note = models.TextField(max_length=5000, blank=True, default="", db_default="")
    # What is left to do, from the lines (sales.services.counters.work_left): 1 = something to invoice,
    # 2 = something to ship. NULL = the order is not in the status counters yet (a row a bulk writer
    # has just inserted, until it calls sales.services.counters.orders_added). Kept by the services.
    work_left = models.PositiveSmallIntegerField(null=True, blank=True, default=None)
    _counted_as: object = NOT_LOADED  # the bucket as read (from_db); sales.services.counters moves it

    class Meta:
        ordering = ["-id"]
        permissions = [
            ("place_order", "Can place orders"),
            ("cancel_order", "Can cancel orders"),
            ("edit_order", "Can edit order lines"),
            ("import_order", "Can import orders"),
            ("archive_order", "Can archive orders"),
            ("clear_fraud", "Can clear the fraud flag"),
            ("hold_order", "Can hold and release orders"),
        ]
        indexes = [
            models.Index(fields=["created_at", "id"], name="order_created_id_idx"),
            models.Index(fields=["status", "created_at"], name="order_status_created_idx"),
            models.Index(fields=["customer_email"], name="order_email_idx"),
            models.Index(fields=["payment_method_code", "created_at"], name="order_payment_idx"),
            models.Index(fields=["channel", "created_at"], name="order_channel_idx"),
            models.Index(fields=["grand_total"], name="order_grand_total_idx"),
            models.Index(fields=["archived_at", "status"], name="order_archived_status_idx"),
            models.Index(fields=["customer_name"], name="order_customer_name_idx"),
            models.Index(fields=["updated_at", "id"], name="order_updated_id_idx"),
            models.Index(fields=["held_at"], name="order_held_idx", condition=Q(held_at__isnull=False)),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(total_invoiced__gte=0) & Q(total_refunded__gte=0)
                                   & Q(total_refunded__lte=F("total_invoiced")), name="order_totals_consistent"),
        ]

    def __str__(self) -> str:
        return f"#{self.number}"

    @classmethod
    def from_db(cls, db, field_names, values):  # type: ignore[override]  # Django's own signature, unannotated
        """Remember the counter bucket the row is counted in as loaded, so the services move it
        from there (sales.services.counters.order_counted) without reading the row again."""
        instance = super().from_db(db, field_names, values)
        instance._counted_as = bucket_loaded(instance, field_names)
        return instance

    @property
    def status_code(self) -> str:
        return OrderStatus(self.status).label

    @property
    def status_label(self) -> str:
        return STATUS_TITLES[self.status]

    @property
    def client(self) -> dict[str, str | None]:
        """What the request said about the buyer (direct create, SPEC §7.1; an import's `ip`),
        kept in `extra`: every key, null when not given."""
        extra = self.extra or {}
        return {key: extra.get(key) or None for key in CLIENT_FIELDS}

    @property
    def total_due(self):
        return self.grand_total - self.total_invoiced - self.total_canceled

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def is_held(self) -> bool:
        return self.held_at is not None


class OrderItem(models.Model):
    """A line and its quantity ledger. Counters move only under the order's row lock."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey("catalog.Product", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    sku = models.CharField(max_length=64, null=True, blank=True)
    name = models.CharField(max_length=255)
    type = models.CharField(max_length=16, default="simple")
    is_shippable = models.BooleanField(default=True)
    # Custom / imported lines with buy_items=false neither reserve nor take stock.
    is_stocked = models.BooleanField(default=True)
    qty_ordered = models.PositiveIntegerField()
    qty_invoiced = models.PositiveIntegerField(default=0)
    qty_shipped = models.PositiveIntegerField(default=0)
    qty_refunded = models.PositiveIntegerField(default=0)
    # Refunded units that had been shipped (a return); refunded units beyond these were never sent.
    qty_returned = models.PositiveIntegerField(default=0)
    qty_canceled = models.PositiveIntegerField(default=0)
    price = models.DecimalField(**MONEY)
    subtotal = models.DecimalField(**MONEY)
    tax_percent = models.DecimalField(max_digits=8, decimal_places=4, default=0)
    tax_amount = models.DecimalField(**MONEY)
    discount_amount = models.DecimalField(**MONEY)
    total = models.DecimalField(**MONEY)
    # What documents have taken of the line's amounts so far, so the last one takes the rest.
    subtotal_invoiced = models.DecimalField(**MONEY)
    tax_invoiced = models.DecimalField(**MONEY)
    discount_invoiced = models.DecimalField(**MONEY)
    subtotal_canceled = models.DecimalField(**MONEY)
    tax_canceled = models.DecimalField(**MONEY)
    discount_canceled = models.DecimalField(**MONEY)
    subtotal_refunded = models.DecimalField(**MONEY)
    tax_refunded = models.DecimalField(**MONEY)
    discount_refunded = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(qty_ordered__gte=1), name="item_qty_ordered_gte_1"),
            models.CheckConstraint(condition=Q(qty_invoiced__gte=0) & Q(qty_shipped__gte=0) & Q(qty_refunded__gte=0)
                                   & Q(qty_canceled__gte=0), name="item_counters_gte_0"),
            models.CheckConstraint(condition=Q(qty_invoiced__lte=F("qty_ordered") - F("qty_canceled")),
                                   name="item_invoiced_plus_canceled_lte_ordered"),
            models.CheckConstraint(condition=Q(qty_shipped__lte=F("qty_ordered") - F("qty_canceled")),
                                   name="item_shipped_plus_canceled_lte_ordered"),
            models.CheckConstraint(condition=Q(qty_refunded__lte=F("qty_invoiced")),
                                   name="item_refunded_lte_invoiced"),
            models.CheckConstraint(condition=Q(qty_returned__gte=0) & Q(qty_returned__lte=F("qty_shipped"))
                                   & Q(qty_returned__lte=F("qty_refunded")), name="item_returned_lte_shipped_refunded"),
            models.CheckConstraint(condition=Q(qty_shipped__lte=F("qty_ordered") - F("qty_canceled") - F("qty_refunded")
                                                 + F("qty_returned")),
                                   name="item_shipped_unsent_refunds_canceled_lte_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.sku or '-'} × {self.qty_ordered}"

    # The quantities still to act on are sales.status's rules (one owner); these read them.
    @property
    def qty_to_invoice(self) -> int:
        return status_rules.qty_to_invoice(self)

    @property
    def qty_to_ship(self) -> int:
        return status_rules.qty_to_ship(self)

    @property
    def qty_to_refund(self) -> int:
        return status_rules.qty_to_refund(self)

    @property
    def qty_to_cancel(self) -> int:
        return status_rules.qty_to_cancel(self)


class Payment(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="payments")
    method = models.CharField(max_length=64)
    amount = models.DecimalField(**MONEY)
    state = models.CharField(max_length=32, default="captured")
    reference = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
