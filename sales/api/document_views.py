"""Store-wide documents (SPEC §6): Invoices, Shipments and Refunds lists and details, and the
invoice PDF.

Lists page like the order list (`{count, next, previous, results}`, `page`, `page_size` 50 /
max 250), newest first, and read a constant number of queries per page whatever its size:
the document row with its order, author (and, for shipments, inventory source) in one join,
plus one query for every line of the page. Each result has the shape of the document's
create response and detail, plus the order's `currency` and `customer_email` so that a
store-wide list says whose money it is.
"""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from config.openapi import error_responses
from sales.api.document_filters import InvoiceFilter, RefundFilter, ShipmentFilter
from sales.api.documents import InvoiceSerializer, RefundSerializer, ShipmentSerializer
from sales.api.filters import ID_SCHEMA, WHEN_SCHEMA
from sales.selectors import document_get, invoice_queryset, refund_queryset, shipment_queryset

INVOICE_VIEW = {"*": ["sales.view_invoice"]}
SHIPMENT_VIEW = {"*": ["sales.view_shipment"]}
REFUND_VIEW = {"*": ["sales.view_refund"]}


# The documents' own shapes (sales/api/documents.py) carry the order's currency and e-mail.
StoreInvoiceSerializer = InvoiceSerializer
StoreShipmentSerializer = ShipmentSerializer
StoreRefundSerializer = RefundSerializer


def _list_params(*, state: bool = False) -> list[OpenApiParameter]:
    when = {k: v for k, v in WHEN_SCHEMA.items() if k != "description"}
    params = [
        OpenApiParameter("order", ID_SCHEMA, description="Order id"),
        OpenApiParameter("order_number", str, description="Order number, exact"),
        OpenApiParameter("created_after", when, description="ISO 8601 date or date-time, inclusive "
                                                            "(a date means from the start of that day)"),
        OpenApiParameter("created_before", when, description="ISO 8601 date or date-time, inclusive "
                                                             "(a date means to the end of that day)"),
    ]
    if state:
        params.append(OpenApiParameter("state", str, enum=["open", "paid", "canceled"],
                                       description="Invoice state"))
    return params


def _path_id(name: str, what: str) -> list[OpenApiParameter]:
    return [OpenApiParameter(name, int, OpenApiParameter.PATH, description=f"{what} id")]


# ---------------------------------------------------------------- invoices

@extend_schema(summary="List invoices, store-wide (newest first)", parameters=_list_params(state=True),
               responses={200: StoreInvoiceSerializer(many=True), **error_responses(400, 404)})
class InvoiceListView(generics.ListAPIView):
    serializer_class = StoreInvoiceSerializer
    filterset_class = InvoiceFilter
    required_perms = INVOICE_VIEW

    def get_queryset(self):
        return invoice_queryset().order_by("-created_at", "-id")


class InvoiceDetailView(APIView):
    required_perms = INVOICE_VIEW

    @extend_schema(summary="Get an invoice", parameters=_path_id("invoice_id", "Invoice"),
                   responses={200: StoreInvoiceSerializer, **error_responses(404)})
    def get(self, request, invoice_id: int):
        return Response(StoreInvoiceSerializer(document_get(invoice_queryset(), invoice_id, "Invoice")).data)


class PdfRenderer(BaseRenderer):
    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class InvoicePdfView(APIView):
    """The invoice as a PDF file (`invoice-<number>.pdf`). Errors stay JSON."""

    required_perms = INVOICE_VIEW
    renderer_classes = [JSONRenderer, PdfRenderer]

    @extend_schema(
        summary="Download an invoice as PDF", parameters=_path_id("invoice_id", "Invoice"),
        responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY,
                                                              description="The invoice, laid out for printing"),
                   **{(st, "application/json"): r for st, r in error_responses(404).items()}},
    )
    def get(self, request, invoice_id: int):
        from sales.pdf import invoice_pdf

        invoice = document_get(invoice_queryset(), invoice_id, "Invoice")
        response = HttpResponse(invoice_pdf(invoice), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="invoice-{invoice.number}.pdf"'
        return response

    def handle_exception(self, exc):
        # An error is a JSON body whatever the client said it accepts.
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)


# ---------------------------------------------------------------- shipments

@extend_schema(summary="List shipments, store-wide (newest first)", parameters=_list_params(),
               responses={200: StoreShipmentSerializer(many=True), **error_responses(400, 404)})
class ShipmentListView(generics.ListAPIView):
    serializer_class = StoreShipmentSerializer
    filterset_class = ShipmentFilter
    required_perms = SHIPMENT_VIEW

    def get_queryset(self):
        return shipment_queryset().order_by("-created_at", "-id")


class ShipmentDetailView(APIView):
    required_perms = SHIPMENT_VIEW

    @extend_schema(summary="Get a shipment", parameters=_path_id("shipment_id", "Shipment"),
                   responses={200: StoreShipmentSerializer, **error_responses(404)})
    def get(self, request, shipment_id: int):
        return Response(StoreShipmentSerializer(document_get(shipment_queryset(), shipment_id, "Shipment")).data)


# ---------------------------------------------------------------- refunds

@extend_schema(summary="List refunds (credit memos), store-wide (newest first)", parameters=_list_params(),
               responses={200: StoreRefundSerializer(many=True), **error_responses(400, 404)})
class RefundListView(generics.ListAPIView):
    serializer_class = StoreRefundSerializer
    filterset_class = RefundFilter
    required_perms = REFUND_VIEW

    def get_queryset(self):
        return refund_queryset().order_by("-created_at", "-id")


class RefundDetailView(APIView):
    required_perms = REFUND_VIEW

    @extend_schema(summary="Get a refund", parameters=_path_id("refund_id", "Refund"),
                   responses={200: StoreRefundSerializer, **error_responses(404)})
    def get(self, request, refund_id: int):
        return Response(StoreRefundSerializer(document_get(refund_queryset(), refund_id, "Refund")).data)
