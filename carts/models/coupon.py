from typing import Any

from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper


class DiscountType(models.TextChoices):
    PERCENT = "percent", "Percent of each line"
    FIXED = "fixed", "Fixed amount split over lines"


class Coupon(models.Model):
    code = models.CharField(max_length=32, unique=True, help_text="Case-insensitive; stored upper-case")
    discount_type = models.CharField(max_length=16, choices=DiscountType.choices, default=DiscountType.PERCENT)
    value = models.DecimalField(max_digits=14, decimal_places=2, default=0,
                                help_text="Percent (0–100) or a fixed amount in the base currency")
    free_shipping = models.BooleanField(default=False)
    min_subtotal = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    usage_limit = models.PositiveIntegerField(null=True, blank=True)
    usage_limit_per_customer = models.PositiveIntegerField(null=True, blank=True)
    times_used = models.PositiveIntegerField(default=0, editable=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(Upper("code"), name="coupon_code_ci_unique"),
            models.CheckConstraint(condition=Q(value__gte=0), name="coupon_value_gte_0"),
        ]

    def __str__(self) -> str:
        return self.code

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.code = (self.code or "").strip().upper()
        super().save(*args, **kwargs)


class CouponUsage(models.Model):
    """One use of a coupon by an order (given back when the order is canceled in full)."""

    coupon = models.ForeignKey(Coupon, on_delete=models.CASCADE, related_name="usages")
    customer = models.ForeignKey("customers.Customer", null=True, on_delete=models.SET_NULL, related_name="+")
    order_id = models.BigIntegerField(unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["coupon", "customer"])]
