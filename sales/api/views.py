from dataclasses import asdict

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from carts.api.serializers import CartSerializer
from carts.selectors import cart_get_detail
from config.openapi import error_responses
from sales.models import Order
from sales.selectors import order_count_by_status, order_get_detail, order_list_queryset
from sales.services.placing import order_place
from sales.services.reorder import order_reorder

from .filters import OrderFilter
from .serializers import OrderCountSerializer, OrderDetailSerializer, OrderListSerializer, SkippedItemSerializer

ORDER_VIEW = {"GET": ["sales.view_order"]}


def order_response(order_id: int, code: int = status.HTTP_200_OK) -> Response:
    return Response(OrderDetailSerializer(order_get_detail(order_id)).data, status=code)


@extend_schema(summary="List orders (newest first; archived hidden unless archived=true)",
               responses={200: OrderListSerializer(many=True), **error_responses(400)})
class OrderListView(generics.ListAPIView):
    queryset = Order.objects.all()
    serializer_class = OrderListSerializer
    filterset_class = OrderFilter
    required_perms = ORDER_VIEW

    def get_queryset(self):
        return order_list_queryset()


class OrderDetailView(APIView):
    required_perms = ORDER_VIEW

    @extend_schema(summary="Order detail", responses={200: OrderDetailSerializer, **error_responses(404)})
    def get(self, request, order_id: int):
        return order_response(order_id)


class OrderCountView(APIView):
    required_perms = ORDER_VIEW

    @extend_schema(summary="Count orders by status (archived left out)", responses={200: OrderCountSerializer})
    def get(self, request):
        return Response(order_count_by_status())


class OrderPlaceView(APIView):
    required_perms = {"POST": ["sales.place_order"]}

    @extend_schema(
        summary="Place a draft cart as an order", request=None,
        responses={201: OrderDetailSerializer, **error_responses(404, 409, codes={409: [
            "cart_inactive", "cart_empty", "address_required", "shipping_method_required",
            "shipping_method_not_available", "payment_method_required", "payment_method_not_available",
            "product_out_of_stock", "product_disabled", "product_type_not_allowed", "coupon_not_applicable"]})},
    )
    def post(self, request, cart_id: int):
        order = order_place(cart_id=cart_id, actor=request.user)
        return order_response(order.id, status.HTTP_201_CREATED)


class OrderReorderView(APIView):
    required_perms = {"POST": ["carts.change_cart"]}

    @extend_schema(
        summary="Start a new draft cart from an order's lines", request=None,
        responses={201: inline_serializer("ReorderResponse", fields={
            "cart": CartSerializer(), "skipped_items": SkippedItemSerializer(many=True),
            **{name: f for name, f in CartSerializer().fields.items()}}),
            **error_responses(404, 409, codes={400: ["currency_not_supported"], 409: ["order_has_no_customer"]})},
        parameters=[OpenApiParameter("order_id", int, OpenApiParameter.PATH)],
    )
    def post(self, request, order_id: int):
        result = order_reorder(order_id=order_id, actor=request.user)
        cart = CartSerializer(cart_get_detail(result.cart.id)).data
        body = {**cart, "cart": cart, "skipped_items": [asdict(x) for x in result.skipped_items]}
        return Response(body, status=status.HTTP_201_CREATED)
