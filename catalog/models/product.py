from django.db import models
from django.db.models import Q


class ProductType(models.TextChoices):
    SIMPLE = "simple", "Simple"
    VIRTUAL = "virtual", "Virtual (not shippable)"
    CONFIGURABLE = "configurable", "Configurable (has variants)"
    BOOKING = "booking", "Booking"


class ProductStatus(models.TextChoices):
    ENABLED = "enabled", "Enabled"
    DISABLED = "disabled", "Disabled"


class Product(models.Model):
    sku = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=255)
    type = models.CharField(max_length=16, choices=ProductType.choices, default=ProductType.SIMPLE)
    price = models.DecimalField(max_digits=14, decimal_places=2, help_text="Base currency, tax excluded")
    status = models.CharField(max_length=16, choices=ProductStatus.choices, default=ProductStatus.ENABLED)
    weight = models.DecimalField(max_digits=10, decimal_places=3, default=0)
    tax_category = models.ForeignKey("catalog.TaxCategory", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="products")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="variants",
                               help_text="The configurable product this simple product is a variant of")
    # Units held by open orders (the sum of their items' qty_to_ship). Moved only by
    # catalog.services.stock under a row lock on this product.
    qty_reserved = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["name"]), models.Index(fields=["type", "status"])]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} — {self.name}"

    @property
    def is_stocked(self) -> bool:
        return self.type != ProductType.VIRTUAL

    @property
    def is_shippable(self) -> bool:
        return self.type != ProductType.VIRTUAL
