"""Sales → Invoices, Shipments, Refunds: store-wide document lists and read-only detail pages
(SPEC §6, §8), and the invoice PDF.

Documents are written only by the order actions (sales/admin/actions.py, the API, imports),
so these admins add, change and delete nothing. A list page reads a fixed number of queries
whatever its size: the page of documents joined to their order, author (and, for shipments,
inventory source) in one query, the filtered COUNT, and the lookups of the filters (no
full-table COUNT: ``show_full_result_count = False``). The order's large JSON columns are
deferred. Search takes a document number or an order number (prefix, case-insensitive).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from sales.admin.orders import CreatedRangeFilter
from sales.formatting import format_datetime, person
from sales.models import Invoice, Refund, Shipment
from sales.selectors import invoice_queryset, refund_queryset, shipment_queryset

_ORDER_HEAVY = tuple(f"order__{name}" for name in ("billing_address", "shipping_address", "metadata", "extra",
                                                     "source_document"))


class InvoiceStateFilter(admin.SimpleListFilter):
    """Fixed choices (no DISTINCT over the invoice table to find them)."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", "Open"), ("paid", "Paid"), ("canceled", "Canceled")]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(state=self.value())
        return queryset


class DocumentAdmin(admin.ModelAdmin):
    """Shared by the three document admins: columns, search, read-only detail page."""

    kind = "document"
    # a selector returning the document with its lines (constant queries); each document admin sets it
    detail_queryset: Callable[[], QuerySet[Any]]
    search_fields = ("^number", "^order__number")
    search_help_text = "Document number or order number (the start of it is enough)"
    ordering = ("-created_at", "-id")
    list_per_page = 50
    list_max_show_all = 200
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    actions = None
    list_select_related: ClassVar[tuple[str, ...]] = ("order", "created_by")
    detail_template = "admin/sales/document_detail.html"

    class Media:
        css = {"all": ["sales/admin/orders.css"]}

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*self.list_select_related).defer(*_ORDER_HEAVY)

    # ---- columns (from the joined rows: no per-row query)

    @admin.display(description="number", ordering="number")
    def number_display(self, obj):
        return obj.number

    @admin.display(description="order", ordering="order__number")
    def order_link(self, obj):
        return format_html('<a href="{}">#{}</a>', reverse("admin:sales_order_change", args=[obj.order_id]),
                           obj.order.number)

    @admin.display(description="date", ordering="created_at")
    def created_display(self, obj):
        return format_datetime(obj.created_at)

    @admin.display(description="customer e-mail", ordering="order__customer_email")
    def customer_email(self, obj):
        return obj.order.customer_email

    @admin.display(description="grand total", ordering="grand_total")
    def grand_total_display(self, obj):
        return f"{obj.grand_total} {obj.order.currency}"

    @admin.display(description="created by", ordering="created_by__email")
    def created_by_display(self, obj):
        return person(obj.created_by) or "—"

    # ---- the read-only detail page

    def change_view(self, request, object_id, form_url="", extra_context=None):
        try:
            pk = int(unquote(object_id))
        except ValueError:
            pk = None
        doc = self.detail_queryset().defer(*_ORDER_HEAVY[2:]).filter(pk=pk).first() if pk is not None else None
        if doc is None:
            # Django's own "does not exist" redirect (a private ModelAdmin helper the stubs omit)
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)  # type: ignore[attr-defined]
        if not self.has_view_permission(request, doc):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "title": f"{str(self.opts.verbose_name).capitalize()} #{doc.number}",
            "subtitle": None,
            "kind": self.kind,
            "doc": doc,
            "order": doc.order,
            "lines": list(doc.items.all()),
            "can_view_order": request.user.has_perm("sales.view_order"),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.detail_template, context)


@admin.register(Invoice)
class InvoiceAdmin(DocumentAdmin):
    kind = "invoice"
    detail_queryset = staticmethod(invoice_queryset)
    list_display = ("number_display", "order_link", "created_display", "customer_email", "state_display",
                    "grand_total_display", "created_by_display")
    list_display_links = ("number_display",)
    list_filter = ("created_at", CreatedRangeFilter, InvoiceStateFilter)

    @admin.display(description="state", ordering="state")
    def state_display(self, obj):
        return format_html('<span class="order-doc order-doc--{}">{}</span>',
                           "full" if obj.state == "paid" else "none", obj.state)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [path("<int:invoice_id>/pdf/", wrap(self.pdf_view), name="sales_invoice_pdf"), *super().get_urls()]

    def pdf_view(self, request, invoice_id: int):
        """The invoice as a PDF (the same document as GET /api/admin/invoices/{id}/pdf)."""
        from sales.pdf import invoice_pdf

        if not self.has_view_permission(request):
            raise PermissionDenied
        invoice = invoice_queryset().filter(id=invoice_id).first()
        if invoice is None:
            raise Http404(f"Invoice {invoice_id} not found.")
        response = HttpResponse(invoice_pdf(invoice), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="invoice-{invoice.number}.pdf"'
        return response


@admin.register(Shipment)
class ShipmentAdmin(DocumentAdmin):
    kind = "shipment"
    detail_queryset = staticmethod(shipment_queryset)
    list_display = ("number_display", "order_link", "created_display", "customer_email", "total_qty",
                    "source_display", "tracking_display", "created_by_display")
    list_display_links = ("number_display",)
    list_filter = ("created_at", CreatedRangeFilter, "inventory_source")
    list_select_related = ("order", "created_by", "inventory_source")

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [path("<int:shipment_id>/packing-slip/", wrap(self.packing_slip_view),
                     name="sales_shipment_packing_slip"), *super().get_urls()]

    def packing_slip_view(self, request, shipment_id: int):
        """The shipment's packing slip (sales/packing.py): its lines and quantities, the address
        and the source it left from; no prices."""
        from sales.packing import shipment_slip
        from sales.pdf import packing_slips_pdf

        if not self.has_view_permission(request):
            raise PermissionDenied
        shipment = shipment_queryset().select_related("order__pickup_location").defer(*_ORDER_HEAVY[2:]) \
            .filter(id=shipment_id).first()
        if shipment is None:
            raise Http404(f"Shipment {shipment_id} not found.")
        response = HttpResponse(packing_slips_pdf([shipment_slip(shipment)]), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="packing-slip-{shipment.number}.pdf"'
        return response

    @admin.display(description="source", ordering="inventory_source__name")
    def source_display(self, obj):
        return obj.inventory_source.name

    @admin.display(description="carrier / tracking")
    def tracking_display(self, obj):
        parts = [p for p in (obj.carrier_title, obj.track_number) if p]
        return " · ".join(parts) or "—"


@admin.register(Refund)
class RefundAdmin(DocumentAdmin):
    kind = "refund"
    detail_queryset = staticmethod(refund_queryset)
    list_display = ("number_display", "order_link", "created_display", "customer_email", "adjustments_display",
                    "grand_total_display", "created_by_display")
    list_display_links = ("number_display",)
    list_filter = ("created_at", CreatedRangeFilter, "return_to_stock")

    @admin.display(description="adjustments")
    def adjustments_display(self, obj):
        if not obj.adjustment_refund and not obj.adjustment_fee:
            return "—"
        return f"+{obj.adjustment_refund} / −{obj.adjustment_fee}"
