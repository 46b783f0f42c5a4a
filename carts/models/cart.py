from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2, "default": 0}


class Cart(models.Model):
    """A draft cart: the building block of admin Create Order (SPEC §4)."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="carts")
    currency = models.CharField(max_length=3)
    exchange_rate = models.DecimalField(max_digits=18, decimal_places=8, default=1)
    billing_address = models.JSONField(null=True, blank=True)
    shipping_address = models.JSONField(null=True, blank=True)
    shipping_method = models.ForeignKey("carts.ShippingMethod", null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    pickup_location = models.ForeignKey("catalog.InventorySource", null=True, blank=True,
                                        on_delete=models.SET_NULL, related_name="+")
    payment_method = models.ForeignKey("carts.PaymentMethod", null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+")
    coupon = models.ForeignKey("carts.Coupon", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    subtotal = models.DecimalField(**MONEY)
    discount_total = models.DecimalField(**MONEY)
    tax_total = models.DecimalField(**MONEY)
    shipping_total = models.DecimalField(**MONEY)
    grand_total = models.DecimalField(**MONEY)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["customer", "is_active"])]

    def __str__(self) -> str:
        return f"Cart #{self.pk}"


class CartItem(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()
    price = models.DecimalField(**MONEY)
    subtotal = models.DecimalField(**MONEY)
    discount = models.DecimalField(**MONEY)
    tax_percent = models.DecimalField(max_digits=8, decimal_places=4, default=0)
    tax = models.DecimalField(**MONEY)
    total = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "product"], name="cartitem_cart_product_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="cartitem_quantity_gte_1"),
        ]
