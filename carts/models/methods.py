from django.db import models
from django.db.models import Q

# Payment methods captured by a gateway: staff can never invoice them; the capture does.
GATEWAY_PAYMENT_METHODS = frozenset({"paypal_standard", "paylink"})
# Every payment method's code (rows made by migration 0002; the admin cannot add or rename codes).
PAYMENT_METHOD_CODES = ("cashondelivery", "moneytransfer", "paypal_standard", "paylink")


class ShippingCalc(models.TextChoices):
    PER_ORDER = "per_order", "Per order"
    PER_UNIT = "per_unit", "Per unit"


class ShippingMethod(models.Model):
    """`flatrate`, `free` and `pickup` (codes fixed; titles, amounts and switches editable)."""

    code = models.CharField(max_length=32, unique=True)
    title = models.CharField(max_length=255)
    enabled = models.BooleanField(default=True)
    calc = models.CharField(max_length=16, choices=ShippingCalc.choices, default=ShippingCalc.PER_ORDER,
                            help_text="flatrate: charge per order or per shippable unit")
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=0, help_text="Base currency")
    free_threshold = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True,
                                         help_text="free: minimum cart subtotal (base currency); empty = always")
    sort_order = models.IntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="shipping_amount_gte_0")]

    def __str__(self) -> str:
        return self.title


class PaymentMethod(models.Model):
    code = models.CharField(max_length=32, unique=True)
    title = models.CharField(max_length=255)
    enabled = models.BooleanField(default=True)
    sort_order = models.IntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def captured_by_gateway(self) -> bool:
        return self.code in GATEWAY_PAYMENT_METHODS
