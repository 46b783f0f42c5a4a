"""Money helpers: Decimal only, ROUND_HALF_UP to the cent, splits that add up exactly."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def q2(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def split_pro_rata(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split ``total`` over ``weights``; each part rounded, the last takes the remainder."""
    if not weights:
        return []
    weight_sum = sum(weights, Decimal(0))
    parts: list[Decimal] = []
    if weight_sum == 0:
        parts = [ZERO for _ in weights]
        parts[-1] = q2(total)
        return parts
    allocated = ZERO
    for w in weights[:-1]:
        part = q2(total * w / weight_sum)
        parts.append(part)
        allocated += part
    parts.append(q2(total) - allocated)
    return parts


def share(amount: Decimal, qty: int, qty_total: int) -> Decimal:
    """``amount`` × qty / qty_total, rounded half up (SPEC §1)."""
    if qty_total == 0:
        return ZERO
    return q2(amount * qty / qty_total)
