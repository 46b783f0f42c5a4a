"""The order list's page count from the status counters (SPEC §15): the unfiltered list, and the
list filtered only by status, archived or on_hold, reads its `count` from
sales.selectors.order_count_matching (one query over a few hundred counter rows) instead of a
COUNT(*) over the orders. Any other filter counts the rows as before."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.core.paginator import Paginator

from config.pagination import StandardPagination
from sales.api.filters import parse_statuses
from sales.selectors import order_count_matching

COUNTED_FILTERS = frozenset({"status", "archived", "on_hold"})
NOT_FILTERS = frozenset({"page", "page_size", "ordering", "format"})


class KnownCountPaginator(Paginator):
    def __init__(self, object_list: Any, per_page: int, *, count: int, **kwargs: Any):
        super().__init__(object_list, per_page, **kwargs)
        self.__dict__["count"] = count  # Paginator.count is a cached_property


def order_list_known_count(params) -> int | None:
    """The list's count from the counters when only counted filters are given, else None.
    Runs after the filterset validated the parameters."""
    given = {name for name in params if name not in NOT_FILTERS and str(params.get(name, "")).strip()}
    if not given <= COUNTED_FILTERS:
        return None
    status = params.get("status", "").strip()
    on_hold = params.get("on_hold", "").strip()
    return order_count_matching(statuses=parse_statuses(status) if status else None,
                                archived=params.get("archived", "").strip() == "true",
                                held=None if not on_hold else on_hold == "true")


class OrderListPagination(StandardPagination):
    def paginate_queryset(self, queryset, request, view=None):
        known = order_list_known_count(request.query_params)
        self.django_paginator_class = (Paginator if known is None  # type: ignore[assignment]
                                       else partial(KnownCountPaginator, count=known))
        return super().paginate_queryset(queryset, request, view)
