from dataclasses import asdict

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema, inline_serializer
from rest_framework import generics, status
from rest_framework import serializers as s
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from carts.api.serializers import CartSerializer
from carts.models import CartItem
from carts.selectors import cart_get_detail
from catalog.models import Product
from config.errors import InvalidInput
from config.openapi import error_responses
from sales.api.documents import (
    CancelInSerializer,
    CommentInSerializer,
    CommentSerializer,
    EventSerializer,
    HoldInSerializer,
    InvoiceInSerializer,
    InvoiceSerializer,
    OrderEditInSerializer,
    RefundInSerializer,
    RefundPreviewSerializer,
    RefundSerializer,
    ReleaseHoldInSerializer,
    ShipmentInSerializer,
    ShipmentSerializer,
)
from sales.error_codes import SalesErrorCode
from sales.exports import order_csv_response
from sales.models import Order, OrderComment, OrderEvent, OrderItem
from sales.selectors import (
    document_get,
    invoice_queryset,
    order_count_by_status,
    order_get_detail,
    order_list_queryset,
    order_must_exist,
    refund_queryset,
    shipment_queryset,
)
from sales.services.archiving import order_archive, order_restore, orders_archive_matching, orders_restore_matching
from sales.services.canceling import order_cancel
from sales.services.comments import comment_add
from sales.services.common import LineQty
from sales.services.direct import DirectItem, DirectOrderRequest, order_create_direct
from sales.services.dry_run import dry_run_execute
from sales.services.editing import EditLine, order_edit
from sales.services.fraud import order_clear_fraud
from sales.services.holding import order_hold, order_release_hold
from sales.services.invoicing import invoice_create
from sales.services.placing import order_place
from sales.services.refunding import RefundRequest, refund_create, refund_preview
from sales.services.reorder import order_reorder
from sales.services.shipping import shipment_create

from .direct import DirectOrderInSerializer
from .filters import OrderFilter, filter_parameters
from .pagination import OrderListPagination
from .serializers import (
    DryRunSerializer,
    OrderCountSerializer,
    OrderDetailSerializer,
    OrderListSerializer,
    ReorderResponseSerializer,
)

ORDER_VIEW = {"GET": ["sales.view_order"]}
BULK_FILTERS = [name for name in OrderFilter.base_filters if name != "ordering"]
BULK_PARAMS = [*filter_parameters(OrderFilter, exclude={"ordering"}),
               OpenApiParameter("confirm", str, OpenApiParameter.QUERY, enum=["all"],
                                description="all: act on every order when no filter is given")]


DRY_RUN_PARAM = OpenApiParameter("dry_run", bool, OpenApiParameter.QUERY,
                                 description="Run every check and answer what would happen; write nothing")


# Actions answering 200 with the order answer 200 with DryRunSerializer under ?dry_run=true: one or the other.
ORDER_OR_DRY_RUN = PolymorphicProxySerializer(component_name="OrderOrDryRun",
                                              serializers=[OrderDetailSerializer, DryRunSerializer],
                                              resource_type_field_name=None)


def is_dry_run(request) -> bool:
    # The value is exactly true or false (config.request_checks refuses anything else).
    return request.query_params.get("dry_run") == "true"


def _order_totals(order_id: int) -> dict:
    order = order_get_detail(order_id)
    data = OrderDetailSerializer(order).data
    keys = ("subtotal", "discount_total", "tax_total", "shipping_total", "grand_total", "total_invoiced",
            "total_refunded", "total_canceled", "total_due")
    return {"status_after": data["status"], "totals": {k: data[k] for k in keys}, "order": data}


def dry_run_response(request, *, order_id: int | None, product_ids, action, document_serializer=None) -> Response:
    def render(result):
        oid = order_id if order_id is not None else result.id
        body = _order_totals(oid)
        body.pop("order")
        doc = None
        if document_serializer is not None:
            doc = dict(document_serializer(result).data)
            doc["id"] = None
            doc["number"] = None
        body["document"] = doc
        return body

    return Response(dry_run_execute(product_ids=product_ids, action=action, render=render))


def _order_product_ids(order_id: int) -> list[int]:
    return list(OrderItem.objects.filter(order_id=order_id).values_list("product_id", flat=True))



def order_response(order_id: int, code: int = status.HTTP_200_OK) -> Response:
    return Response(OrderDetailSerializer(order_get_detail(order_id)).data, status=code)


@extend_schema(summary="List orders (newest first; archived hidden unless archived=true)",
               responses={200: OrderListSerializer(many=True), **error_responses(400)})
class OrderListView(generics.ListAPIView):
    queryset = Order.objects.all()
    serializer_class = OrderListSerializer
    filterset_class = OrderFilter
    pagination_class = OrderListPagination  # count from the status counters when it can
    required_perms = {**ORDER_VIEW, "DELETE": ["sales.archive_order"], "POST": ["sales.place_order"]}

    def get_queryset(self):
        return order_list_queryset()

    @extend_schema(
        operation_id="orders_create_direct",
        summary="Create an order in one call (line items or a product-less cost); paylink orders get a checkout_url",
        request=DirectOrderInSerializer,
        responses={201: OrderDetailSerializer, **error_responses(400, 409, codes={
            400: ["customer_not_found", "product_not_found", "variant_required", "currency_not_supported",
                  "inventory_source_not_found"],
            409: ["product_out_of_stock", "product_disabled", "product_type_not_allowed", "coupon_not_applicable",
                  "payment_method_not_available", "shipping_method_not_available"]})},
    )
    def post(self, request):
        data = DirectOrderInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        extra = {k: v.pop(k) for k in ("affiliate_code", "return_url", "ip", "user_agent", "country") if v.get(k)}
        items = [DirectItem(**x) for x in v.pop("items", None) or []]
        order = order_create_direct(request=DirectOrderRequest(items=items, extra=extra, **{
            k: v[k] for k in ("email", "cost", "description", "customer_id", "payment_method", "coupon_code",
                              "billing_address", "shipping_address", "shipping_method", "currency", "metadata",
                              "send_receipt") if k in v}), actor=request.user)
        return order_response(order.id, status.HTTP_201_CREATED)

    @extend_schema(operation_id="orders_archive_matching",
                   summary="Archive every order matching the list filters (no filter needs ?confirm=all)",
                   parameters=BULK_PARAMS,
                   responses={200: inline_serializer("ArchivedCount", {"archived": s.IntegerField()}),
                              **error_responses(400, codes={400: ["confirmation_required", "unknown_parameter"]})})
    def delete(self, request):
        queryset = bulk_matching(request, queryset=self.get_queryset())
        return Response({"archived": orders_archive_matching(queryset=queryset, actor=request.user)})


def bulk_matching(request, *, queryset, archived_default: str | None = None):
    """The orders a bulk archive / restore acts on: the list filters given, or every order with
    ?confirm=all. Only a list filter other than `archived`, with a non-empty value, counts as a
    filter, so `?archived=true` or `?email=` alone never means "everything" (SPEC §7.3)."""
    params = request.query_params
    given = [name for name in BULK_FILTERS if name != "archived" and params.get(name, "").strip()]
    if not given and params.get("confirm") != "all":
        raise InvalidInput("Acting on every order needs ?confirm=all (or give list filters).",
                           code=SalesErrorCode.CONFIRMATION_REQUIRED, field="confirm")
    data = params.copy()
    data.pop("confirm", None)
    if archived_default is not None and not data.get("archived"):
        data["archived"] = archived_default
    filterset = OrderFilter(data, queryset=queryset, request=request)
    if not filterset.is_valid():
        raise ValidationError(filterset.errors)
    return filterset.qs


class OrderBulkRestoreView(APIView):
    required_perms = {"POST": ["sales.archive_order"]}

    @extend_schema(operation_id="orders_restore_matching",
                   summary="Restore the archived orders among those matching the list filters "
                           "(no filter needs ?confirm=all)",
                   request=None, parameters=BULK_PARAMS,
                   responses={200: inline_serializer("RestoredCount", {"restored": s.IntegerField()}),
                              **error_responses(400, codes={400: ["confirmation_required", "unknown_parameter"]})})
    def post(self, request):
        # The default that hides archived orders does not apply: ?email=x restores x's archived orders.
        queryset = bulk_matching(request, queryset=Order.objects.all(), archived_default="true")
        return Response({"restored": orders_restore_matching(queryset=queryset, actor=request.user)})


class OrderExportView(APIView):
    required_perms = ORDER_VIEW

    @extend_schema(summary="Stream the filtered order list as CSV (same filters as the list; constant memory)",
                   parameters=filter_parameters(OrderFilter),
                   responses={(200, "text/csv"): OpenApiTypes.STR, **error_responses(400)})
    def get(self, request):
        filterset = OrderFilter(request.query_params, queryset=Order.objects.all(), request=request)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        return order_csv_response(filterset.qs)


class OrderDetailView(APIView):
    required_perms = {**ORDER_VIEW, "DELETE": ["sales.archive_order"], "PATCH": ["sales.edit_order"]}

    @extend_schema(
        summary="Edit lines (no id adds a product; id sets its quantity; 0 removes or cancels it), addresses "
                "and staff note",
        description="Pending orders change lines in place and are repriced (coupon cleared). Processing orders "
                    "(not paid by a gateway) keep every existing line's amounts: more units become a new line, "
                    "fewer are canceled as Cancel does; the grand total grows by new lines and total_due is the "
                    "balance. Addresses and staff_note change without repricing. All or nothing.",
        request=OrderEditInSerializer, parameters=[DRY_RUN_PARAM],
        responses={200: ORDER_OR_DRY_RUN, **error_responses(400, 404, 409, codes={
            400: ["order_item_not_found", "product_not_found", "order_cannot_be_empty", "variant_required"],
            409: ["order_not_editable", "order_on_hold", "quantity_below_minimum", "product_out_of_stock",
                  "product_disabled", "product_type_not_allowed"]})},
    )
    def patch(self, request, order_id: int):
        data = OrderEditInSerializer(data=request.data)
        order_must_exist(order_id)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        lines = [EditLine(**line) for line in values.pop("items", [])]

        def act():
            return order_edit(order_id=order_id, lines=lines, details=values, actor=request.user)

        if is_dry_run(request):
            product_ids = _order_product_ids(order_id) + [x.product_id for x in lines if x.product_id]
            if any(x.sku for x in lines):
                product_ids += list(Product.objects.filter(sku__in=[x.sku for x in lines if x.sku])
                                    .values_list("id", flat=True))
            return dry_run_response(request, order_id=order_id, product_ids=product_ids, action=act)
        act()
        return order_response(order_id)

    @extend_schema(summary="Order detail", responses={200: OrderDetailSerializer, **error_responses(404)})
    def get(self, request, order_id: int):
        return order_response(order_id)

    @extend_schema(operation_id="orders_archive", summary="Archive the order (also when already archived)", responses={204: None,
                                                                                       **error_responses(404)})
    def delete(self, request, order_id: int):
        order_archive(order_id=order_id, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class OrderRestoreView(APIView):
    required_perms = {"POST": ["sales.archive_order"]}

    @extend_schema(summary="Bring an archived order back", request=None,
                   responses={200: OrderDetailSerializer, **error_responses(404)})
    def post(self, request, order_id: int):
        order_restore(order_id=order_id, actor=request.user)
        return order_response(order_id)


class OrderCountView(APIView):
    required_perms = ORDER_VIEW

    @extend_schema(summary="Count orders by status (archived left out)", responses={200: OrderCountSerializer})
    def get(self, request):
        return Response(order_count_by_status())


class OrderPlaceView(APIView):
    required_perms = {"POST": ["sales.place_order"]}

    @extend_schema(
        summary="Place a draft cart as an order", request=None, parameters=[DRY_RUN_PARAM],
        responses={201: OrderDetailSerializer, 200: DryRunSerializer, **error_responses(404, 409, codes={409: [
            "cart_inactive", "cart_empty", "address_required", "shipping_method_required",
            "shipping_method_not_available", "payment_method_required", "payment_method_not_available",
            "product_out_of_stock", "product_disabled", "product_type_not_allowed", "coupon_not_applicable"]})},
    )
    def post(self, request, cart_id: int):
        def act():
            return order_place(cart_id=cart_id, actor=request.user)

        if is_dry_run(request):
            product_ids = CartItem.objects.filter(cart_id=cart_id).values_list("product_id", flat=True)
            return dry_run_response(request, order_id=None, product_ids=list(product_ids), action=act)
        order = act()
        return order_response(order.id, status.HTTP_201_CREATED)


class OrderReorderView(APIView):
    required_perms = {"POST": ["carts.change_cart"]}

    @extend_schema(
        summary="Start a new draft cart from an order's lines", request=None,
        responses={201: ReorderResponseSerializer,
            **error_responses(404, 409, codes={400: ["currency_not_supported"], 409: ["order_has_no_customer"]})},
        parameters=[OpenApiParameter("order_id", int, OpenApiParameter.PATH)],
    )
    def post(self, request, order_id: int):
        result = order_reorder(order_id=order_id, actor=request.user)
        cart = CartSerializer(cart_get_detail(result.cart.id)).data
        body = {**cart, "cart": cart, "skipped_items": [asdict(x) for x in result.skipped_items]}
        return Response(body, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------- lifecycle

def document_created(request, *, order_id: int, act, serializer_class, queryset, what: str) -> Response:
    """Run a document-creating action (or its dry run) and answer with the document."""
    def render(doc):
        return serializer_class(document_get(queryset(), doc.id, what))

    if is_dry_run(request):
        return dry_run_response(request, order_id=order_id, product_ids=_order_product_ids(order_id), action=act,
                                document_serializer=render)
    return Response(render(act()).data, status=status.HTTP_201_CREATED)


def _lines(data) -> list[LineQty] | None:
    items = data.get("items")
    if items is None:
        return None
    return [LineQty(order_item_id=x["order_item_id"], quantity=x["quantity"]) for x in items]


STATE_ERRORS = {404: ["not_found"]}


class OrderInvoicesView(APIView):
    required_perms = {"POST": ["sales.add_invoice"]}

    @extend_schema(
        summary="Create an invoice (no items = everything left to invoice)", request=InvoiceInSerializer, parameters=[DRY_RUN_PARAM],
        responses={201: InvoiceSerializer, 200: DryRunSerializer, **error_responses(400, 404, 409, codes={
            400: ["order_item_not_found"],
            409: ["order_not_invoiceable", "payment_method_not_invoiceable", "order_on_hold",
                  "quantity_exceeds_remaining"]})},
    )
    def post(self, request, order_id: int):
        data = InvoiceInSerializer(data=request.data)
        order_must_exist(order_id)
        data.is_valid(raise_exception=True)

        def act():
            return invoice_create(order_id=order_id, items=_lines(data.validated_data), actor=request.user)

        return document_created(request, order_id=order_id, act=act, serializer_class=InvoiceSerializer,
                                queryset=invoice_queryset, what="Invoice")


class OrderShipmentsView(APIView):
    required_perms = {"POST": ["sales.add_shipment"]}

    @extend_schema(
        summary="Create a shipment from one inventory source (no items = everything left to ship)",
        request=ShipmentInSerializer, parameters=[DRY_RUN_PARAM],
        responses={201: ShipmentSerializer, 200: DryRunSerializer, **error_responses(400, 404, 409, codes={
            400: ["inventory_source_not_found", "order_item_not_found", "item_not_shippable"],
            409: ["order_not_shippable", "order_on_hold", "quantity_exceeds_remaining", "insufficient_stock"]})},
    )
    def post(self, request, order_id: int):
        data = ShipmentInSerializer(data=request.data)
        order_must_exist(order_id)
        data.is_valid(raise_exception=True)
        v = data.validated_data

        def act():
            return shipment_create(order_id=order_id, inventory_source_id=v.get("inventory_source_id"),
                                   items=_lines(v), carrier_title=v["carrier_title"], track_number=v["track_number"],
                                   actor=request.user)

        return document_created(request, order_id=order_id, act=act, serializer_class=ShipmentSerializer,
                                queryset=shipment_queryset, what="Shipment")


def _refund_request(v) -> RefundRequest:
    return RefundRequest(items=_lines(v) or [], shipping_amount=v["shipping_amount"],
                         adjustment_refund=v["adjustment_refund"], adjustment_fee=v["adjustment_fee"],
                         return_to_stock=v["return_to_stock"])


REFUND_ERRORS = error_responses(400, 404, 409, codes={
    400: ["order_item_not_found"], 409: ["order_not_refundable", "refund_exceeds_refundable", "refund_empty"]})


class OrderRefundsView(APIView):
    required_perms = {"POST": ["sales.add_refund"]}

    @extend_schema(summary="Create a refund", request=RefundInSerializer, parameters=[DRY_RUN_PARAM],
                   responses={201: RefundSerializer, 200: DryRunSerializer, **REFUND_ERRORS})
    def post(self, request, order_id: int):
        data = RefundInSerializer(data=request.data)
        order_must_exist(order_id)
        data.is_valid(raise_exception=True)

        def act():
            return refund_create(order_id=order_id, request=_refund_request(data.validated_data), actor=request.user)

        return document_created(request, order_id=order_id, act=act, serializer_class=RefundSerializer,
                                queryset=refund_queryset, what="Refund")


class OrderRefundPreviewView(APIView):
    required_perms = {"POST": ["sales.add_refund"]}

    @extend_schema(summary="Refund preview: the totals the same refund would record; writes nothing",
                   request=RefundInSerializer, responses={200: RefundPreviewSerializer, **REFUND_ERRORS})
    def post(self, request, order_id: int):
        data = RefundInSerializer(data=request.data)
        order_must_exist(order_id)
        data.is_valid(raise_exception=True)
        plan = refund_preview(order_id=order_id, request=_refund_request(data.validated_data))
        return Response(RefundPreviewSerializer.from_plan(plan))


class OrderCancelView(APIView):
    required_perms = {"POST": ["sales.cancel_order"]}

    @extend_schema(summary="Cancel everything not yet invoiced or shipped (the body, if any, is {})",
                   request=CancelInSerializer, parameters=[DRY_RUN_PARAM],
                   responses={200: ORDER_OR_DRY_RUN,
                              **error_responses(400, 404, 409, codes={409: ["order_not_cancelable"]})})
    def post(self, request, order_id: int):
        data = CancelInSerializer(data=request.data)
        order_must_exist(order_id)
        data.is_valid(raise_exception=True)

        def act():
            return order_cancel(order_id=order_id, actor=request.user)

        if is_dry_run(request):
            return dry_run_response(request, order_id=order_id, product_ids=_order_product_ids(order_id), action=act)
        act()
        return order_response(order_id)


class OrderClearFraudView(APIView):
    required_perms = {"POST": ["sales.clear_fraud"]}

    @extend_schema(summary="Clear the fraud flag", request=None,
                   responses={200: OrderDetailSerializer, **error_responses(404, 409, codes={409: ["order_not_fraud"]})})
    def post(self, request, order_id: int):
        order_clear_fraud(order_id=order_id, actor=request.user)
        return order_response(order_id)


class OrderHoldView(APIView):
    required_perms = {"POST": ["sales.hold_order"]}

    @extend_schema(summary="Put the order on hold: invoice, shipment and item edits are refused until released",
                   request=HoldInSerializer,
                   responses={200: OrderDetailSerializer,
                              **error_responses(400, 404, 409, codes={409: ["order_not_holdable", "order_on_hold"]})})
    def post(self, request, order_id: int):
        data = HoldInSerializer(data=request.data)
        order_must_exist(order_id)
        data.is_valid(raise_exception=True)
        order_hold(order_id=order_id, reason=data.validated_data["reason"], actor=request.user)
        return order_response(order_id)


class OrderReleaseHoldView(APIView):
    required_perms = {"POST": ["sales.hold_order"]}

    @extend_schema(summary="Release the order's hold (the body, if any, is {})", request=ReleaseHoldInSerializer,
                   responses={200: OrderDetailSerializer,
                              **error_responses(400, 404, 409, codes={409: ["order_not_on_hold"]})})
    def post(self, request, order_id: int):
        data = ReleaseHoldInSerializer(data=request.data)
        order_must_exist(order_id)
        data.is_valid(raise_exception=True)
        order_release_hold(order_id=order_id, actor=request.user)
        return order_response(order_id)


class OrderCommentsView(APIView):
    def required_perms(self, request):
        return ["sales.view_order"] if request.method == "GET" else ["sales.add_ordercomment"]

    @extend_schema(summary="List comments, newest first", responses={200: CommentSerializer(many=True),
                                                                      **error_responses(404)})
    def get(self, request, order_id: int):
        order_must_exist(order_id)
        comments = OrderComment.objects.filter(order_id=order_id).select_related("author").order_by("-created_at", "-id")
        return Response(CommentSerializer(comments, many=True).data)

    @extend_schema(summary="Add a comment (customer_notified e-mails the customer)", request=CommentInSerializer,
                   responses={201: CommentSerializer, **error_responses(400, 404)})
    def post(self, request, order_id: int):
        data = CommentInSerializer(data=request.data)
        order_must_exist(order_id)
        data.is_valid(raise_exception=True)
        note = comment_add(order_id=order_id, actor=request.user, **data.validated_data)
        return Response(CommentSerializer(note).data, status=status.HTTP_201_CREATED)


class OrderHistoryView(APIView):
    required_perms = ORDER_VIEW

    @extend_schema(summary="Order history, oldest first", responses={200: EventSerializer(many=True),
                                                                     **error_responses(404)})
    def get(self, request, order_id: int):
        order_must_exist(order_id)
        events = OrderEvent.objects.filter(order_id=order_id).select_related("actor").order_by("created_at", "id")
        return Response(EventSerializer(events, many=True).data)
