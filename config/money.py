"""Money helpers: Decimal only, ROUND_HALF_UP to the cent, splits that add up exactly."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def q2(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def split_pro_rata(total: Decimal, weights: Sequence[Decimal], *, capped: bool = False) -> list[Decimal]:
    """Split ``total`` over ``weights``; each part rounded, the last takes the remainder (SPEC §1).

    Rounding the earlier parts up can leave the last a remainder below zero (1.01 over subtotals
    40.96, 9.10, 4.64 and 0.01 is 0.76 + 0.17 + 0.09, leaving −0.01), and down, one above its own
    weight. With ``capped`` (a discount split over line subtotals: ``total`` ≤ Σ weights) every part
    stays within [0, its weight]: the cents the last part cannot take, or must give, move to or from
    the earlier parts, largest first, one cent each. Whenever the plain rule gives parts in range —
    every case but these — the result is the plain rule's."""
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
    if capped:
        _keep_in_range(parts, [q2(w) for w in weights])
    return parts


def _keep_in_range(parts: list[Decimal], caps: list[Decimal]) -> None:
    last = len(parts) - 1
    cent = Decimal("0.01")
    order = sorted(range(last), key=lambda i: (-caps[i], i))  # largest first, then earlier
    while parts[last] < 0 or parts[last] > caps[last]:
        give = parts[last] < 0  # the last part owes a cent to an earlier one, or has one too many
        moved = False
        for i in order:
            if (give and parts[i] > 0) or (not give and parts[i] < caps[i]):
                parts[i] += -cent if give else cent
                parts[last] += cent if give else -cent
                moved = True
                break
        if not moved:  # total outside [0, Σ caps]: nothing can hold it; leave the plain rule's parts
            return


def share(amount: Decimal, qty: int, qty_total: int) -> Decimal:
    """``amount`` × qty / qty_total, rounded half up (SPEC §1)."""
    if qty_total == 0:
        return ZERO
    return q2(amount * qty / qty_total)
