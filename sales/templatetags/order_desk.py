"""Template filters of the Order Desk admin pages: ``{% load order_desk %}``.

- ``{{ value|od_datetime }}``: the one date-and-time format of the admin (sales/formatting.py).
- ``{{ user|od_person }}``: a user's name, else e-mail, else "—".
"""

from django import template

from sales.formatting import format_datetime, person

register = template.Library()


@register.filter
def od_datetime(value) -> str:
    return format_datetime(value) if value else "—"


@register.filter
def od_person(user) -> str:
    return person(user) or "—"
