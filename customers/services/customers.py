from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from customers.errors import CustomerEmailTaken
from customers.models import Customer, CustomerAddress


def _addresses_replace(customer: Customer, addresses: list[dict[str, Any]]) -> None:
    customer.addresses.all().delete()
    CustomerAddress.objects.bulk_create([CustomerAddress(customer=customer, **a) for a in addresses])


def customer_create(*, email: str, first_name: str = "", last_name: str = "", phone: str = "",
                    addresses: list[dict[str, Any]] | None = None) -> Customer:
    email = email.strip().lower()
    if Customer.objects.filter(email__iexact=email).exists():
        raise CustomerEmailTaken(f"A customer with e-mail {email} already exists.", field="email")
    try:
        with transaction.atomic():
            customer = Customer.objects.create(email=email, first_name=first_name, last_name=last_name, phone=phone)
            if addresses:
                _addresses_replace(customer, addresses)
    except IntegrityError:
        raise CustomerEmailTaken(f"A customer with e-mail {email} already exists.", field="email") from None
    return customer


def customer_update(*, customer: Customer, data: dict[str, Any]) -> Customer:
    addresses = data.pop("addresses", None)
    if "email" in data:
        email = data["email"].strip().lower()
        if Customer.objects.filter(email__iexact=email).exclude(id=customer.id).exists():
            raise CustomerEmailTaken(f"A customer with e-mail {email} already exists.", field="email")
        data["email"] = email
    with transaction.atomic():
        for key, value in data.items():
            setattr(customer, key, value)
        customer.save()
        if addresses is not None:
            _addresses_replace(customer, addresses)
    return customer


def customer_get_or_create_by_email(*, email: str, first_name: str = "", last_name: str = "") -> Customer:
    email = email.strip().lower()
    customer = Customer.objects.filter(email__iexact=email).first()
    if customer:
        return customer
    try:
        with transaction.atomic():
            return Customer.objects.create(email=email, first_name=first_name, last_name=last_name)
    except IntegrityError:
        return Customer.objects.get(email__iexact=email)
