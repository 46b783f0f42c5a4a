"""Catalog facts that pricing needs: currency rates and tax rates."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings

from catalog.errors import CurrencyNotSupported
from catalog.models import Currency, TaxRate
from config.money import q2


def currency_get_enabled(code: str | None) -> Currency:
    code = (code or settings.BASE_CURRENCY).upper()
    currency = Currency.objects.filter(code=code, enabled=True).first()
    if currency is None:
        raise CurrencyNotSupported(f"Currency {code} is not enabled.", field="currency")
    return currency


def convert(amount: Decimal, rate: Decimal) -> Decimal:
    """Base-currency amount to another currency: ROUND_HALF_UP(amount × rate, 2)."""
    return q2(amount * rate)


def tax_rate_map(category_ids: set[int], *, country: str | None, zone: str | None) -> dict[int, Decimal]:
    """Rate % per tax category for an address; a zone-specific rate wins over the country-wide one."""
    if not category_ids or not country:
        return {}
    country_wide: dict[int, Decimal] = {}
    zoned: dict[int, Decimal] = {}
    zone_norm = (zone or "").strip().lower()
    for r in TaxRate.objects.filter(category_id__in=category_ids, country=country.upper()):
        if not r.zone:
            country_wide[r.category_id] = r.rate
        elif zone_norm and r.zone.strip().lower() == zone_norm:
            zoned[r.category_id] = r.rate
    return {**country_wide, **zoned}
