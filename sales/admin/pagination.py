"""A change-list paginator that never counts a large table in full.

Up to EXACT_LIMIT matching rows the count is exact (a bounded count: at most EXACT_LIMIT + 1
index entries are read). Beyond that, on PostgreSQL, the planner's row estimate for the same
filtered query is used (no scan at all), so the Sales → Orders list costs the same at 100,000
or 10,000,000 orders; on other databases the count stays exact. The list then shows an
approximate total and page count, which is what large admin lists (Magento's grid, Saleor's
dashboard) do too; a page past the real end is simply empty.
"""

from __future__ import annotations

import json
from typing import Any, cast

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property


class LargeTablePaginator(Paginator):
    EXACT_LIMIT = 10_000

    @cached_property
    def count(self) -> int:
        queryset = cast(QuerySet[Any], self.object_list).order_by()
        bounded = queryset[: self.EXACT_LIMIT + 1].count()
        if bounded <= self.EXACT_LIMIT:
            return bounded
        if connections[queryset.db].vendor != "postgresql":
            return queryset.count()
        return max(self._estimate(queryset), self.EXACT_LIMIT + 1)

    @staticmethod
    def _estimate(queryset) -> int:
        try:
            plan = json.loads(queryset.explain(format="json"))
            return int(plan[0]["Plan"]["Plan Rows"])
        except (ValueError, KeyError, IndexError, TypeError):
            return queryset.count()
