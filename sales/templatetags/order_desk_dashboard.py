"""The dashboard on the admin index (SPEC §14): ``{% load order_desk_dashboard %}{% order_desk_dashboard %}``.

Shown only to users who may view orders (``sales.view_order``); for anyone else it renders
nothing and reads nothing. The figures come from sales/dashboard.py; this only words them and
links them to the order list: each status to the list filtered by it, each kind of work waiting
to the list's "Work waiting" filter (sales/admin/waiting.py); the list, like the counts, leaves
archived orders out by default.
"""

from __future__ import annotations

from django import template
from django.urls import NoReverseMatch, reverse

from sales.dashboard import DAYS, WAITING_TITLES, dashboard_figures
from sales.formatting import format_date, format_money
from sales.models.order import STATUS_TITLES

register = template.Library()

DASHBOARD_PERMISSION = "sales.view_order"


def _url(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


@register.inclusion_tag("admin/sales/dashboard.html", takes_context=True)
def order_desk_dashboard(context) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.has_perm(DASHBOARD_PERMISSION):
        return {"show": False}
    figures = dashboard_figures()
    currency = figures.currency
    orders_url = _url("admin:sales_order_changelist")
    can_see_products = user.has_perm("catalog.view_product")
    statuses = [{"id": row["status_id"], "code": row["status"], "title": STATUS_TITLES[row["status_id"]],
                 "count": row["count"], "url": f"{orders_url}?status={row['status_id']}"}
                for row in figures.status_counts["statuses"]]
    waiting = [{"key": key, "title": title, "count": dict(figures.waiting)[key], "url": f"{orders_url}?waiting={key}"}
               for key, title in WAITING_TITLES.items()]
    days = [{"day": format_date(day), "amount": format_money(amount), "shown": format_money(amount, currency)}
            for day, amount in figures.revenue_by_day]
    top = [{**row, "revenue_shown": format_money(row["revenue"], currency),
            "url": _url("admin:catalog_product_change", row["product_id"]) if can_see_products else ""}
           for row in figures.top_products]
    return {
        "show": True,
        "days_count": DAYS,
        "start": format_date(figures.start),
        "today": format_date(figures.today),
        "currency": currency,
        "revenue_total": format_money(figures.revenue_total, currency),
        "orders_placed": figures.orders_placed,
        "average_order_value": format_money(figures.average_order_value, currency),
        "statuses": statuses,
        "status_total": figures.status_counts["count"],
        "orders_url": orders_url,
        "waiting": waiting,
        "days": days,
        "chart": {"labels": [d["day"] for d in days], "amounts": [d["amount"] for d in days], "currency": currency},
        "top_products": top,
    }
