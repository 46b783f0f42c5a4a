"""Invoices, shipments and refunds: each keeps its own lines (what it billed, sent or returned)."""

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2, "default": 0}  # typed: the stubs check each kwarg


class DocumentBase(models.Model):
    order = models.ForeignKey("sales.Order", on_delete=models.CASCADE, related_name="%(class)ss")
    number = models.CharField(max_length=32, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    subtotal = models.DecimalField(**MONEY)
    tax_total = models.DecimalField(**MONEY)
    discount_total = models.DecimalField(**MONEY)
    shipping_total = models.DecimalField(**MONEY)
    grand_total = models.DecimalField(**MONEY)

    class Meta:
        abstract = True
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"#{self.number}"


class DocumentItemBase(models.Model):
    order_item = models.ForeignKey("sales.OrderItem", on_delete=models.CASCADE, related_name="+")
    sku = models.CharField(max_length=64, null=True, blank=True)
    name = models.CharField(max_length=255)
    quantity = models.PositiveIntegerField()
    price = models.DecimalField(**MONEY)
    subtotal = models.DecimalField(**MONEY)
    tax_amount = models.DecimalField(**MONEY)
    discount_amount = models.DecimalField(**MONEY)
    total = models.DecimalField(**MONEY)

    class Meta:
        abstract = True
        ordering = ["id"]


class Invoice(DocumentBase):
    state = models.CharField(max_length=16, default="paid")

    class Meta(DocumentBase.Meta):
        indexes = [models.Index(fields=["state", "created_at"])]


class InvoiceItem(DocumentItemBase):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="items")

    class Meta(DocumentItemBase.Meta):
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="invoiceitem_qty_gte_1")]


class Shipment(DocumentBase):
    state = models.CharField(max_length=16, default="shipped")
    carrier_title = models.CharField(max_length=255, blank=True)
    track_number = models.CharField(max_length=255, blank=True)
    inventory_source = models.ForeignKey("catalog.InventorySource", on_delete=models.PROTECT, related_name="+")
    total_qty = models.PositiveIntegerField(default=0)


class ShipmentItem(DocumentItemBase):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="items")

    class Meta(DocumentItemBase.Meta):
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="shipmentitem_qty_gte_1")]


class Refund(DocumentBase):
    state = models.CharField(max_length=16, default="refunded")
    adjustment_refund = models.DecimalField(**MONEY)
    adjustment_fee = models.DecimalField(**MONEY)
    return_to_stock = models.BooleanField(default=False)


class RefundItem(DocumentItemBase):
    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="items")

    class Meta(DocumentItemBase.Meta):
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="refunditem_qty_gte_1")]
