from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from carts.models import Coupon
from config.errors import Conflict


def _taken(code: str) -> Conflict:
    return Conflict(f"Coupon code {code} is already used.", code="coupon_code_taken", field="code")


def coupon_create(*, data: dict[str, Any]) -> Coupon:
    if Coupon.objects.filter(code__iexact=data["code"]).exists():
        raise _taken(data["code"])
    try:
        with transaction.atomic():
            return Coupon.objects.create(**data)
    except IntegrityError:
        raise _taken(data["code"]) from None


def coupon_update(*, coupon: Coupon, data: dict[str, Any]) -> Coupon:
    if "code" in data and Coupon.objects.filter(code__iexact=data["code"]).exclude(id=coupon.id).exists():
        raise _taken(data["code"])
    for key, value in data.items():
        setattr(coupon, key, value)
    coupon.save()
    return coupon
