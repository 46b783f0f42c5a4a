from django.db import models


class Sequence(models.Model):
    """One row per document type; numbers are taken under a row lock, so they are gap-free."""

    name = models.CharField(max_length=32, primary_key=True)
    last_value = models.BigIntegerField(default=0)
    start = models.BigIntegerField(default=100000000)

    def __str__(self) -> str:
        return f"{self.name}: {self.last_value}"
