"""ISO 3166-1 alpha-2 country codes: the one check every country field uses (SPEC §3, §7.1).

The list comes from pycountry (the ISO 3166-1 data as published), so a code that does not
exist (`ZZ`, `UK`, `XK`) is refused everywhere alike: API serializers, admin forms, import.
"""

from __future__ import annotations

import pycountry

COUNTRY_CODES: frozenset[str] = frozenset(c.alpha_2 for c in pycountry.countries)

COUNTRY_HELP = "ISO 3166-1 alpha-2 country code (any case; stored upper-case), e.g. US"


def country_code_clean(value: str) -> str:
    """The code upper-cased, or ValueError with a message for the user."""
    code = (value or "").strip().upper()
    if code not in COUNTRY_CODES:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code (e.g. US, GB, DE).")
    return code


def country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code) if code else None
    return country.name if country else ""


__all__ = ["COUNTRY_CODES", "COUNTRY_HELP", "country_code_clean", "country_name"]
