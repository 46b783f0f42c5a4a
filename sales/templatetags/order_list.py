"""``{% order_result_list cl %}``: the Sales → Orders change list's rows, rendered once per row.

Django's own ``{% result_list %}`` renders each of the 50 × 9 cells through ``items_for_result``
(a ``lookup_field``, a ``display_for_value`` and a ``format_html`` per cell: about 65 % of the
page's time at 100,000 orders, SPEC §15). Every column of this list is already a plain field
of the order row (denormalised), so a row is one string built from the OrderAdmin's own column
methods, with the markup Django would have written: ``<td class="action-checkbox">``, the
linked ``<th class="field-number">`` keeping the list's filters, ``<td class="field-…">``.
Headers, hidden fields and the table come from Django's template as usual. Popups (raw-id
pickers) and editable lists fall back to Django's rendering.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.admin.templatetags.admin_list import result_headers, result_hidden_fields, results
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.urls import reverse
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


def _rows(cl: Any) -> list[list[SafeString]]:
    admin = cl.model_admin
    change = reverse(f"admin:{cl.opts.app_label}_{cl.opts.model_name}_change", args=[0])
    link = add_preserved_filters({"preserved_filters": cl.preserved_filters, "opts": cl.opts}, change)
    prefix, _, suffix = link.partition("/0/")
    suffix = "/" + suffix
    cells = []
    for name in cl.list_display:
        if name == "action_checkbox":
            cells.append((name, admin.action_checkbox, '<td class="action-checkbox">'))
        elif name in cl.list_display_links:
            cells.append((name, None, f'<th class="field-{name}">'))
        else:
            cells.append((name, getattr(admin, name), f'<td class="field-{name}">'))
    rows = []
    for obj in cl.result_list:
        parts: list[str] = []
        for name, method, opening in cells:
            if method is None:  # the linked column: a model field
                parts.append(format_html('{}<a href="{}/{}{}">{}</a></th>', mark_safe(opening), prefix, obj.pk, suffix,
                                         getattr(obj, name)))
            else:
                parts.append(opening + conditional_escape(method(obj)) + "</td>")
        rows.append([mark_safe("".join(parts))])
    return rows


@register.inclusion_tag("admin/change_list_results.html")
def order_result_list(cl: Any) -> dict[str, Any]:
    headers = list(result_headers(cl))
    fast = not cl.is_popup and cl.formset is None
    return {
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": _rows(cl) if fast else list(results(cl)),
    }
