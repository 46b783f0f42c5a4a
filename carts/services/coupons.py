from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from carts.errors import CouponCodeTaken
from carts.models import Coupon


def _code_used(code: str, *, exclude_id: int | None = None) -> bool:
    """Case-insensitive in every alphabet (SQLite's ``iexact`` folds ASCII only; codes are stored upper-cased)."""
    qs = Coupon.objects.filter(Q(code=code.strip().upper()) | Q(code__iexact=code.strip()))
    if exclude_id is not None:
        qs = qs.exclude(id=exclude_id)
    return qs.exists()


def _taken(code: str) -> CouponCodeTaken:
    return CouponCodeTaken(f"Coupon code {code} is already used.", field="code")


def coupon_create(*, data: dict[str, Any]) -> Coupon:
    if _code_used(data["code"]):
        raise _taken(data["code"])
    try:
        with transaction.atomic():
            return Coupon.objects.create(**data)
    except IntegrityError:
        raise _taken(data["code"]) from None


def coupon_update(*, coupon: Coupon, data: dict[str, Any]) -> Coupon:
    if "code" in data and _code_used(data["code"], exclude_id=coupon.id):
        raise _taken(data["code"])
    for key, value in data.items():
        setattr(coupon, key, value)
    coupon.save()
    return coupon
