from django.db import models
from django.db.models import Q


class InventorySource(models.Model):
    """A warehouse or store holding stock; pickup-enabled ones are pickup locations."""

    code = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=255)
    priority = models.IntegerField(default=0)
    active = models.BooleanField(default=True)
    pickup_enabled = models.BooleanField(default=False)
    address = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["priority", "id"]

    def __str__(self) -> str:
        return self.name


class ProductInventory(models.Model):
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="inventories")
    source = models.ForeignKey(InventorySource, on_delete=models.CASCADE, related_name="inventories")
    qty = models.IntegerField(default=0)

    class Meta:
        verbose_name_plural = "product inventories"
        constraints = [
            models.UniqueConstraint(fields=["product", "source"], name="inventory_product_source_unique"),
            models.CheckConstraint(condition=Q(qty__gte=0), name="inventory_qty_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.source_id}: {self.qty}"
