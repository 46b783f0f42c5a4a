from django.db import models
from django.db.models import Q


class TaxCategory(models.Model):
    code = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=255)

    class Meta:
        verbose_name_plural = "tax categories"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class TaxRate(models.Model):
    """A rate for a country, optionally narrowed to a zone (which then wins)."""

    category = models.ForeignKey(TaxCategory, on_delete=models.CASCADE, related_name="rates")
    country = models.CharField(max_length=2)
    zone = models.CharField(max_length=64, blank=True, default="")
    rate = models.DecimalField(max_digits=8, decimal_places=4, help_text="Percent, e.g. 20.0000")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["category", "country", "zone"], name="taxrate_unique"),
            models.CheckConstraint(condition=Q(rate__gte=0), name="taxrate_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.country}{'/' + self.zone if self.zone else ''} {self.rate}%"
