from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower

from config.addresses import ADDRESS_FIELDS

EMAIL_MAX_LENGTH = 256  # SPEC §7.1


def email_clean(value: str) -> str:
    """The e-mail as stored (trimmed, lower-case) for the admin's forms, whose length check ran on
    the typed value: lower-casing can lengthen it ('İ' becomes two characters)."""
    email = (value or "").strip().lower()
    if len(email) > EMAIL_MAX_LENGTH:
        raise ValidationError(f"At most {EMAIL_MAX_LENGTH} characters once lower-cased (it has {len(email)}).")
    return email


class Customer(models.Model):
    email = models.EmailField(max_length=EMAIL_MAX_LENGTH, unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    phone = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(Lower("email"), name="customer_email_ci_unique")]
        indexes = [models.Index(fields=["last_name", "first_name"])]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)


class CustomerAddress(models.Model):
    """A saved address in the customer's address book."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses")
    first_name = models.CharField(max_length=150)
    last_name = models.CharField(max_length=150)
    company = models.CharField(max_length=255, blank=True)
    phone = models.CharField(max_length=64, blank=True)
    line_1 = models.CharField(max_length=255)
    line_2 = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=128)
    zone = models.CharField(max_length=128, blank=True)
    postcode = models.CharField(max_length=32)
    country = models.CharField(max_length=2)
    is_default_billing = models.BooleanField(default=False)
    is_default_shipping = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "customer addresses"

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}, {self.line_1}, {self.city} {self.postcode} {self.country}"

    def as_dict(self) -> dict[str, str]:
        return {f: getattr(self, f) or "" for f in ADDRESS_FIELDS}
