from django.db import models


class Currency(models.Model):
    code = models.CharField(max_length=3, primary_key=True, help_text="ISO 4217")
    name = models.CharField(max_length=64)
    symbol = models.CharField(max_length=8, blank=True)
    rate = models.DecimalField(max_digits=18, decimal_places=8, default=1,
                               help_text="Units of this currency per one unit of the base currency")
    enabled = models.BooleanField(default=True)

    class Meta:
        verbose_name_plural = "currencies"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code
