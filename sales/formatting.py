"""How the admin pages write dates, money and people: one format each, used by the Python
columns and, through the ``order_desk`` template filters, by the templates.

Dates and times are always ``YYYY-MM-DD HH:MM`` in the current time zone (the lists' format,
now also the order page's, the documents' and the history's), so a date reads the same on
every admin page and sorts as text.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone
from django.utils.formats import date_format

DATETIME_FORMAT = "Y-m-d H:i"
DATE_FORMAT = "Y-m-d"  # a day on its own (the dashboard's days): the date part of DATETIME_FORMAT


def format_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_format(value, DATETIME_FORMAT)


def format_date(value: date | None) -> str:
    """A day as the admin writes it: the date part of format_datetime ("2026-12-07")."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value)[:10]
    return date_format(value, DATE_FORMAT)


def format_money(amount: Decimal | str | int | None, currency: str = "") -> str:
    """12.5 → "12.50", with the currency code after it when given."""
    if amount is None or amount == "":
        return ""
    text = f"{Decimal(str(amount)):.2f}"
    return f"{text} {currency}" if currency else text


def person(user) -> str:
    """A user as staff know them: their name, else their e-mail; "" for none."""
    if user is None:
        return ""
    return (getattr(user, "name", "") or "").strip() or getattr(user, "email", "") or str(user)
