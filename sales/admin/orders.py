"""Sales → Orders: the change list, the order page, CSV export, reorder and the Create Order wizard.

The change list reads only the order row (number, status, customer e-mail and name, totals,
payment method, invoiced / shipped state are denormalised onto it), so a page is a fixed
handful of queries at any size: session, user, payment-method lookups for the filter, the
filtered count and the page itself (`show_full_result_count = False` drops the second,
unfiltered COUNT; sales/admin/pagination.py bounds the first, so no full-table COUNT).

The order page shows the order and its lifecycle buttons (Invoice, Ship, Refund, Cancel, Edit
items, Edit addresses and note, Add comment, Archive / Restore, Clear fraud, Hold / Release hold,
Reorder), each only when the order allows it and the user holds its permission; the actions' views
live in sales/admin/actions.py and sales/admin/editing.py. The page reads
a fixed number of queries whatever the number of lines and documents.
"""

from __future__ import annotations

import json
from datetime import datetime, time

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.exceptions import DisallowedModelAdminLookup
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from carts.models import PaymentMethod
from config.countries import country_name
from config.errors import DomainError
from sales.admin import mass_actions
from sales.admin.actions import OrderActions, action_buttons, order_flags
from sales.admin.editing import OrderEditViews
from sales.admin.history import event_sentence
from sales.admin.pagination import LargeTablePaginator
from sales.admin.waiting import WaitingFilter
from sales.admin.wizard import CART_PERM, PLACE_PERM, OrderWizard, step_url
from sales.exports import order_csv_response
from sales.formatting import format_datetime
from sales.models import (
    Channel,
    Invoice,
    Order,
    OrderComment,
    OrderEvent,
    OrderItem,
    OrderStatus,
    Payment,
    Refund,
    Shipment,
)
from sales.models.order import STATUS_TITLES
from sales.selectors import order_count_by_status
from sales.services.reorder import order_reorder

# ---------------------------------------------------------------------------- list filters


class StatusFilter(admin.SimpleListFilter):
    """By status, each with its count: how many orders the list would show with that status and
    every other filter and the search as they are (the admin's "facets", for this filter only).
    One GROUP BY status over the list's other conditions; by default (not archived) PostgreSQL
    answers it from the (archived_at, status) index."""

    title = "status"
    parameter_name = "status"

    def __init__(self, request, params, model, model_admin):
        self.request = request
        self.model_admin = model_admin
        super().__init__(request, params, model, model_admin)

    def lookups(self, request, model_admin):
        return [(str(s.value), STATUS_TITLES[s.value]) for s in OrderStatus]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(status=int(value))
        return queryset

    # Query parameters that do not narrow the list: with only these (and no search), the counts are
    # the status counters the services keep (sales.services.counters), not a GROUP BY over the table.
    UNFILTERED = frozenset({"status", "o", "p", "all"})

    def counts(self, changelist) -> dict[int, int]:
        if not changelist.query and set(self.request.GET) <= self.UNFILTERED:
            return {row["status_id"]: row["count"] for row in order_count_by_status()["statuses"]}
        queryset = changelist.root_queryset
        for spec in changelist.filter_specs:
            filtered = spec.queryset(self.request, queryset) if spec is not self else None
            if filtered is not None:
                queryset = filtered
        queryset, _ = self.model_admin.get_search_results(self.request, queryset, changelist.query)
        return dict(queryset.order_by().values_list("status").annotate(n=Count("*")))

    def choices(self, changelist):
        counts = self.counts(changelist)
        for n, choice in enumerate(super().choices(changelist)):
            if n == 0:
                choice["display"] = f"{choice['display']} ({sum(counts.values())})"
            else:
                value = int(self.lookup_choices[n - 1][0])
                choice["display"] = f"{choice['display']} ({counts.get(value, 0)})"
            yield choice


class CreatedRangeFilter(admin.ListFilter):
    """Created between two dates (inclusive, in the current time zone)."""

    title = "date range"
    template = "admin/sales/order/filter_date_range.html"
    params = ("created_from", "created_to")

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        for name in self.params:
            if name in params:
                self.used_parameters[name] = params.pop(name)[-1]
        self.bounds: dict[str, datetime] = {}
        for name in self.params:
            raw = str(self.used_parameters.get(name) or "").strip()
            if not raw:
                continue
            day = None
            try:
                day = parse_date(raw)
            except ValueError:
                day = None
            if day is None:
                messages.warning(request, f"{raw!r} is not a date (YYYY-MM-DD); that bound was ignored.")
                continue
            moment = datetime.combine(day, time.min if name == "created_from" else time.max)
            self.bounds[name] = timezone.make_aware(moment, timezone.get_current_timezone())

    def has_output(self):
        return True

    def expected_parameters(self):
        return list(self.params)

    def queryset(self, request, queryset):
        if "created_from" in self.bounds:
            queryset = queryset.filter(created_at__gte=self.bounds["created_from"])
        if "created_to" in self.bounds:
            queryset = queryset.filter(created_at__lte=self.bounds["created_to"])
        return queryset

    def choices(self, changelist):
        hidden = [(k, v) for k, values in changelist.filter_params.items() if k not in self.params
                  for v in values]
        yield {
            "from": self.used_parameters.get("created_from", ""),
            "to": self.used_parameters.get("created_to", ""),
            "hidden": hidden,
            "clear_url": changelist.get_query_string(remove=list(self.params)),
            "selected": bool(self.bounds),
        }


class PaymentMethodFilter(admin.SimpleListFilter):
    title = "payment method"
    parameter_name = "payment_method"

    def lookups(self, request, model_admin):
        return list(PaymentMethod.objects.order_by("sort_order", "id").values_list("code", "title"))

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(payment_method_code=self.value())
        return queryset


class ChannelFilter(admin.SimpleListFilter):
    title = "channel"
    parameter_name = "channel"

    def lookups(self, request, model_admin):
        choices = list(Channel.choices)
        # Imported orders may carry their own channel name; keep a filter on it visible.
        current = request.GET.get(self.parameter_name)
        if current and current not in Channel.values:
            choices.append((current, current))
        return choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(channel=self.value())
        return queryset


class ArchivedFilter(admin.SimpleListFilter):
    """Archived orders are hidden unless asked for, as in the API (SPEC §7.3)."""

    title = "archived"
    parameter_name = "archived"
    DEFAULT = "no"

    def lookups(self, request, model_admin):
        return [("no", "Not archived"), ("yes", "Archived only"), ("all", "All")]

    def choices(self, changelist):
        current = self.value() or self.DEFAULT
        for lookup, title in self.lookup_choices:
            yield {
                "selected": current == lookup,
                "query_string": (changelist.get_query_string(remove=[self.parameter_name]) if lookup == self.DEFAULT
                                 else changelist.get_query_string({self.parameter_name: lookup})),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or self.DEFAULT
        if value == "yes":
            return queryset.filter(archived_at__isnull=False)
        if value == "all":
            return queryset
        return queryset.filter(archived_at__isnull=True)


# ---------------------------------------------------------------------------- CSV export (sales/exports.py)

@admin.action(description="Export selected orders to CSV", permissions=["view"])
def export_csv(modeladmin, request, queryset):
    return order_csv_response(queryset)


# ---------------------------------------------------------------------------- the order admin


ITEMS_PER_PAGE = 100


def order_page_queryset():
    """Everything the order page shows, in a fixed number of queries whatever the size of the order."""
    return (Order.objects.select_related("customer", "pickup_location", "created_by", "held_by")
            .prefetch_related(
                Prefetch("items", queryset=OrderItem.objects.order_by("id")),
                Prefetch("invoices", queryset=Invoice.objects.select_related("created_by").order_by("id")),
                Prefetch("shipments", queryset=Shipment.objects.select_related("created_by", "inventory_source")
                         .order_by("id")),
                Prefetch("refunds", queryset=Refund.objects.select_related("created_by").order_by("id")),
                Prefetch("payments", queryset=Payment.objects.order_by("id")),
                Prefetch("comments", queryset=OrderComment.objects.select_related("author")
                         .order_by("-created_at", "-id")),
                Prefetch("events", queryset=OrderEvent.objects.select_related("actor").order_by("created_at", "id")),
            ))


ADDRESS_LINES = (("first_name", "last_name"), ("company",), ("line_1",), ("line_2",), ("city", "zone", "postcode"),
                 ("country",), ("phone",))


def address_lines(address: dict | None) -> list[str]:
    if not address:
        return []
    lines = []
    for keys in ADDRESS_LINES:
        text = " ".join(str(address.get(k) or "").strip() for k in keys).strip()
        if text:
            lines.append(text)
    return lines


CLIENT_LABELS = {"ip": "IP address", "user_agent": "User agent", "country": "Country",
                 "affiliate_code": "Affiliate code", "return_url": "Return URL"}


def client_rows(order: Order) -> list[tuple[str, str]]:
    """The buyer's details the order was created with (SPEC §7.1 `client`); empty when none were given."""
    client = order.client
    if not any(client.values()):
        return []
    rows = []
    for key, value in client.items():
        if key == "country" and value and country_name(value):
            value = f"{value} ({country_name(value)})"
        rows.append((CLIENT_LABELS[key], value or "—"))
    return rows


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("number", "created_display", "customer_display", "status_badge", "grand_total_display",
                    "payment_display", "invoiced_display", "shipped_display")
    list_display_links = ("number",)
    list_filter = (StatusFilter, "created_at", CreatedRangeFilter, PaymentMethodFilter, ChannelFilter, ArchivedFilter,
                   WaitingFilter)
    search_fields = ("number", "customer_email", "customer_name")
    search_help_text = "Order number, customer e-mail or name"
    ordering = ("-created_at", "-id")
    list_per_page = 50
    list_max_show_all = 200
    show_full_result_count = False
    paginator = LargeTablePaginator
    show_facets = admin.ShowFacets.NEVER
    # Mass actions (SPEC §14, sales/admin/mass_actions.py): each shown only to users holding its permission.
    actions = [*(mass_actions.admin_action(a) for a in mass_actions.MASS_ACTIONS), mass_actions.print_invoices,
               mass_actions.print_packing_slips, export_csv]
    change_list_template = "admin/sales/order/change_list.html"
    detail_template = "admin/sales/order/detail.html"

    class Media:
        css = {"all": ["sales/admin/orders.css"]}

    # ---- permissions: orders are created by the wizard and never deleted; the page is read-only for now

    def has_add_permission(self, request):
        return request.user.has_perm(CART_PERM) and request.user.has_perm(PLACE_PERM)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        for action in mass_actions.MASS_ACTIONS:
            if not request.user.has_perm(action.permission):
                actions.pop(f"mass_{action.key}", None)
        if not request.user.has_perm("sales.view_invoice"):
            actions.pop("print_invoices", None)
        return actions

    def get_queryset(self, request):
        # Large JSON columns are not shown in lists; the order page reads through order_page_queryset().
        return super().get_queryset(request).defer("billing_address", "shipping_address", "metadata", "extra",
                                                   "source_document")

    # ---- columns (all from the order row: no join, no per-row query)

    @admin.display(description=mark_safe('<input type="checkbox" id="action-toggle">'))
    def action_checkbox(self, obj: Order):
        # Same markup as Django's, without rendering a widget template for each of the 50 rows.
        return format_html('<input type="checkbox" name="{}" value="{}" class="action-select" '
                           'aria-label="Select this object for an action - {}">',
                           helpers.ACTION_CHECKBOX_NAME, obj.pk, str(obj))

    @admin.display(description="date", ordering="created_at")
    def created_display(self, obj: Order):
        return format_datetime(obj.created_at)

    @admin.display(description="customer", ordering="customer_name")
    def customer_display(self, obj: Order):
        if obj.customer_name:
            return format_html('{}<br><span class="order-muted">{}</span>', obj.customer_name, obj.customer_email)
        return obj.customer_email

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: Order):
        return format_html('<span class="order-status order-status--{}">{}</span>', obj.status_code,
                           obj.status_label)

    @admin.display(description="grand total", ordering="grand_total")
    def grand_total_display(self, obj: Order):
        return f"{obj.grand_total} {obj.currency}"

    @admin.display(description="payment", ordering="payment_method_code")
    def payment_display(self, obj: Order):
        return obj.payment_method_title or obj.payment_method_code

    @admin.display(description="invoiced", ordering="invoice_state")
    def invoiced_display(self, obj: Order):
        return _doc_state_badge(obj.invoice_state)

    @admin.display(description="shipped", ordering="shipment_state")
    def shipped_display(self, obj: Order):
        if obj.fulfillment_type == "none":
            return format_html('<span class="order-muted" title="{}">n/a</span>', "Nothing in this order ships")
        return _doc_state_badge(obj.shipment_state)

    # ---- URLs: wizard, export, reorder, lifecycle actions (before the default <object_id>/ patterns)

    def get_urls(self):
        wizard = OrderWizard(self)
        wrap = self.admin_site.admin_view
        custom = [
            path("create/", wrap(wizard.start_view), name="sales_order_create"),
            path("create/<int:cart_id>/<slug:step>/", wrap(wizard.step_view), name="sales_order_create_step"),
            path("export.csv", wrap(self.export_view), name="sales_order_export"),
            path("<int:order_id>/reorder/", wrap(self.reorder_view), name="sales_order_reorder"),
            path("<int:order_id>/packing-slip/", wrap(self.packing_slip_view), name="sales_order_packing_slip"),
            path("mass/<slug:token>/", wrap(self.mass_result_view), name="sales_order_mass_result"),
            *OrderActions(self).urls(),
            *OrderEditViews(OrderActions(self)).urls(),
        ]
        return custom + super().get_urls()

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        return HttpResponseRedirect(reverse("admin:sales_order_create"))

    def export_view(self, request):
        """CSV of the list as filtered on the change list (same query string), streamed."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
            queryset = changelist.get_queryset(request)
        except (IncorrectLookupParameters, DisallowedModelAdminLookup, ValidationError, ValueError) as exc:
            # The change list answers a bad filter with its error page; the export says which.
            messages.error(request, f"The export's filter is not valid ({exc}); nothing was exported.")
            return HttpResponseRedirect(reverse("admin:sales_order_changelist"))
        return order_csv_response(queryset)

    def mass_result_view(self, request, token: str):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return mass_actions.result_view(self, request, token)

    def packing_slip_view(self, request, order_id: int):
        """The order's packing slip: what is still to ship, or, when everything has shipped, its
        shipments' slips (sales/packing.py), as one PDF."""
        from sales.packing import slips_for_orders
        from sales.pdf import packing_slips_pdf

        if not self.has_view_permission(request):
            raise PermissionDenied
        slips, nothing = slips_for_orders([order_id])
        if not slips:
            if not nothing:
                raise Http404(f"Order {order_id} not found.")
            messages.info(request, f"Order #{nothing[0].number} has nothing to ship and no shipment: no packing slip.")
            return HttpResponseRedirect(reverse("admin:sales_order_change", args=[order_id]))
        response = HttpResponse(packing_slips_pdf(slips), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="packing-slip-{slips[0].order.number}.pdf"'
        return response

    def reorder_view(self, request, order_id: int):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not request.user.has_perm(CART_PERM):
            raise PermissionDenied
        try:
            result = order_reorder(order_id=order_id, actor=request.user)
        except DomainError as exc:
            if exc.status == 404:
                raise Http404(exc.message) from None
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("admin:sales_order_change", args=[order_id]))
        for skipped in result.skipped_items:
            messages.warning(request, f"Not copied: {skipped.name} ({skipped.sku or 'no SKU'}) × {skipped.quantity}"
                                      f" — {skipped.reason}")
        messages.success(request, f"Draft cart {result.cart.id} created from this order; check it and place it.")
        return HttpResponseRedirect(step_url(result.cart.id, "products"))

    # ---- the order page

    def change_view(self, request, object_id, form_url="", extra_context=None):
        try:
            pk = int(unquote(object_id))
        except ValueError:
            pk = None
        order = order_page_queryset().filter(pk=pk).first() if pk is not None else None
        if order is None:
            # Django's own "does not exist" redirect (a private ModelAdmin helper the stubs omit)
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)  # type: ignore[attr-defined]
        if not self.has_view_permission(request, order):
            raise PermissionDenied
        items = list(order.items.all())
        events = list(order.events.all())
        shipments = {s.id: s for s in order.shipments.all()}
        invoices = {i.id: i for i in order.invoices.all()}
        for event in events:
            event.sentence = event_sentence(event, order, request.user, shipments, invoices)
        can = order_flags(order, items)
        # The page shows 100 lines at a time (SPEC §16): a 1,000-line order stays a page, not megabytes.
        items_page = Paginator(items, ITEMS_PER_PAGE).get_page(request.GET.get("items_page"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "title": f"Order #{order.number}",
            "subtitle": None,
            "order": order,
            "items": items_page.object_list,
            "items_page": items_page,
            "invoices": list(order.invoices.all()),
            "shipments": list(order.shipments.all()),
            "refunds": list(order.refunds.all()),
            "payments": list(order.payments.all()),
            "comments": list(order.comments.all()),
            "events": events,
            "billing_lines": address_lines(order.billing_address),
            "shipping_lines": address_lines(order.shipping_address),
            "pickup_lines": address_lines(order.pickup_location.address) if order.pickup_location_id else [],
            "client_rows": client_rows(order),
            "metadata_rows": sorted((order.metadata or {}).items()) if isinstance(order.metadata, dict) else [],
            "can": can,
            "buttons": action_buttons(request.user, order, can),
            "can_reorder": request.user.has_perm(CART_PERM) and order.customer_id is not None,
            "has_packing_slip": any(i.qty_to_ship > 0 for i in items) or bool(order.shipments.all()),
            # An imported order keeps the whole document it came from (SPEC §7.2): shown as received.
            "source_document_json": (json.dumps(order.source_document, indent=2, ensure_ascii=False)
                                     if order.source_document else ""),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.detail_template, context)


def _doc_state_badge(state: str):
    label = {"none": "no", "partial": "partly", "full": "yes"}.get(state, state)
    return format_html('<span class="order-doc order-doc--{}">{}</span>', state, label)
