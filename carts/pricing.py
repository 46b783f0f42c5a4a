"""The one pricing function: lines + coupon + shipping + tax rates in, totals out; and the
two facts it is fed that carts and order edits share: what a rated shipping method charges
(``shipping_amount``) and which address decides tax (``tax_address``).

Pure (no ORM), so carts, placing, order edits and previews all compute the same figures.
Rules (SPEC §1, §3, §4): amounts rounded ROUND_HALF_UP per line; a percent coupon per
line; a fixed coupon split pro rata by line subtotal, the last line taking the
remainder, never more than the subtotal; tax = rate × (subtotal − discount) per line;
shipping untaxed; free_shipping zeroes the shipping amount.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from carts.models.methods import ShippingCalc
from catalog.services.pricing_inputs import convert
from config.money import ZERO, q2, split_pro_rata


@dataclass(frozen=True)
class PricingLine:
    price: Decimal
    quantity: int
    tax_percent: Decimal = ZERO


@dataclass(frozen=True)
class CouponTerms:
    discount_type: str  # "percent" | "fixed"
    value: Decimal  # percent, or an amount already in the cart's currency
    free_shipping: bool = False


@dataclass(frozen=True)
class LineTotals:
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal


@dataclass(frozen=True)
class Totals:
    lines: list[LineTotals]
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    shipping_total: Decimal
    grand_total: Decimal


def line_discounts(subtotals: list[Decimal], coupon: CouponTerms | None) -> list[Decimal]:
    if coupon is None or not subtotals:
        return [ZERO] * len(subtotals)
    if coupon.discount_type == "percent":
        pct = min(max(coupon.value, ZERO), Decimal(100))
        return [q2(s * pct / 100) for s in subtotals]
    whole = min(q2(coupon.value), sum(subtotals, ZERO))
    # pro rata, the last line taking the remainder, and no line's discount below 0 or above its subtotal
    return split_pro_rata(whole, subtotals, capped=True)


def compute_totals(lines: list[PricingLine], *, coupon: CouponTerms | None = None,
                   shipping_amount: Decimal = ZERO) -> Totals:
    subtotals = [q2(line.price * line.quantity) for line in lines]
    discounts = line_discounts(subtotals, coupon)
    out: list[LineTotals] = []
    for line, subtotal, discount in zip(lines, subtotals, discounts, strict=True):
        tax = q2((subtotal - discount) * line.tax_percent / 100)
        out.append(LineTotals(subtotal=subtotal, discount=discount, tax=tax, total=subtotal - discount + tax))
    shipping = ZERO if (coupon is not None and coupon.free_shipping) else q2(shipping_amount)
    subtotal = sum((x.subtotal for x in out), ZERO)
    discount_total = sum((x.discount for x in out), ZERO)
    tax_total = sum((x.tax for x in out), ZERO)
    return Totals(lines=out, subtotal=subtotal, discount_total=discount_total, tax_total=tax_total,
                  shipping_total=shipping, grand_total=subtotal - discount_total + tax_total + shipping)


def shipping_amount(*, amount: Decimal, calc: str, rate: Decimal, units: int) -> Decimal:
    """What a rated shipping method (``flatrate``) charges, in the cart's or the order's currency:
    its base-currency ``amount`` converted at ``rate`` (``convert``: ROUND_HALF_UP to cents),
    times the shippable ``units`` when it charges per unit (``calc`` ``per_unit``)."""
    converted = convert(amount, rate)
    return converted * units if calc == ShippingCalc.PER_UNIT else converted


def tax_address(*, billing: Mapping[str, Any] | None, shipping: Mapping[str, Any] | None,
                pickup: Mapping[str, Any] | None = None, ships: bool = True) -> dict[str, Any]:
    """The address whose country and zone decide the tax rates: the pickup location's when the
    goods are collected (``pickup`` is its address, ``{}`` for a location without one, ``None``
    when nothing is collected), else the shipping address when something ships, else the
    billing address. ``{}`` when there is none (no tax)."""
    if pickup is not None:
        return dict(pickup)
    if ships and shipping:
        return dict(shipping)
    return dict(billing or {})
