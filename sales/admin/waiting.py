"""Sales → Orders, "Work waiting" filter: the orders the dashboard counts as waiting (SPEC §14),
so each of its figures links to the list of those orders. The conditions are the dashboard's own
(sales.dashboard.waiting_conditions); with the list's default Archived filter (not archived) the
list shows exactly the orders counted."""

from __future__ import annotations

from django.contrib import admin

from sales.dashboard import WAITING_TITLES, waiting_conditions


class WaitingFilter(admin.SimpleListFilter):
    title = "work waiting"
    parameter_name = "waiting"

    def lookups(self, request, model_admin):
        return list(WAITING_TITLES.items())

    def queryset(self, request, queryset):
        condition = waiting_conditions().get(self.value() or "")
        return queryset.filter(condition) if condition is not None else queryset
