from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from carts.models import Coupon, PaymentMethod, ShippingMethod
from carts.selectors import cart_get_detail
from carts.services import carts as cart_services
from carts.services.coupons import coupon_create, coupon_update
from config.openapi import error_responses

from .serializers import (
    CartAddressesInSerializer,
    CartItemAddInSerializer,
    CartItemUpdateInSerializer,
    CartPaymentOutSerializer,
    CartSerializer,
    CartShippingSetInSerializer,
    CodeInSerializer,
    CouponSerializer,
    DraftCartInSerializer,
    PaymentMethodSerializer,
    ShippingMethodSerializer,
    ShippingOptionSerializer,
)

CART_CHANGE = {"GET": ["carts.view_cart"], "*": ["carts.change_cart"]}
CART_409 = ["cart_inactive"]


def cart_response(cart_id: int, code: int = status.HTTP_200_OK) -> Response:
    return Response(CartSerializer(cart_get_detail(cart_id)).data, status=code)


class DraftCartCreateView(APIView):
    required_perms = CART_CHANGE

    @extend_schema(summary="Start a draft cart for a customer", request=DraftCartInSerializer,
                   responses={201: CartSerializer, **error_responses(400, 404, codes={400: ["currency_not_supported"]})})
    def post(self, request, customer_id: int):
        # An empty body means "all defaults"; a body that is not an object (null, [], 0) is a 400.
        data = DraftCartInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cart = cart_services.cart_create(customer_id=customer_id, currency=data.validated_data.get("currency"),
                                         actor=request.user)
        return cart_response(cart.id, status.HTTP_201_CREATED)


class CartDetailView(APIView):
    required_perms = CART_CHANGE

    @extend_schema(summary="Get a draft cart", responses={200: CartSerializer, **error_responses(404)})
    def get(self, request, cart_id: int):
        return cart_response(cart_id)


class CartItemsView(APIView):
    required_perms = CART_CHANGE

    @extend_schema(
        summary="Add an item (the same product again adds to its line)", request=CartItemAddInSerializer,
        responses={201: CartSerializer, **error_responses(
            400, 404, 409, codes={400: ["product_not_found", "variant_required"],
                                  409: ["product_out_of_stock", "product_disabled", "product_type_not_allowed",
                                        *CART_409]})},
    )
    def post(self, request, cart_id: int):
        data = CartItemAddInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cart_services.cart_item_add(cart_id=cart_id, **data.validated_data)
        return cart_response(cart_id, status.HTTP_201_CREATED)


class CartItemView(APIView):
    required_perms = CART_CHANGE

    @extend_schema(summary="Change an item's quantity", request=CartItemUpdateInSerializer,
                   responses={200: CartSerializer, **error_responses(
                       400, 404, 409, codes={409: ["product_out_of_stock", "product_disabled", *CART_409]})})
    def patch(self, request, cart_id: int, item_id: int):
        data = CartItemUpdateInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cart_services.cart_item_update(cart_id=cart_id, item_id=item_id, quantity=data.validated_data["quantity"])
        return cart_response(cart_id)

    @extend_schema(summary="Remove an item", responses={200: CartSerializer,
                                                        **error_responses(404, 409, codes={409: CART_409})})
    def delete(self, request, cart_id: int, item_id: int):
        cart_services.cart_item_remove(cart_id=cart_id, item_id=item_id)
        return cart_response(cart_id)


class CartAddressesView(APIView):
    required_perms = CART_CHANGE

    @extend_schema(summary="Save billing and shipping addresses", request=CartAddressesInSerializer,
                   responses={200: CartSerializer, **error_responses(400, 404, 409, codes={409: CART_409})})
    def post(self, request, cart_id: int):
        data = CartAddressesInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        cart_services.cart_addresses_set(cart_id=cart_id, billing=v["billing"], shipping=v.get("shipping"),
                                         shipping_same_as_billing=v["shipping_same_as_billing"])
        return cart_response(cart_id)


class CartShippingMethodsView(APIView):
    required_perms = CART_CHANGE

    @extend_schema(summary="Shipping methods available to the cart now",
                   responses={200: ShippingOptionSerializer(many=True), **error_responses(404)})
    def get(self, request, cart_id: int):
        options = cart_services.cart_shipping_options(cart_id=cart_id)
        return Response(ShippingOptionSerializer(options, many=True).data)

    @extend_schema(summary="Set the shipping method (pickup needs location_id)", request=CartShippingSetInSerializer,
                   responses={200: CartSerializer, **error_responses(
                       400, 404, 409, codes={400: ["inventory_source_not_found"],
                                             409: ["shipping_method_not_available", *CART_409]})})
    def post(self, request, cart_id: int):
        data = CartShippingSetInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cart_services.cart_shipping_method_set(cart_id=cart_id, code=data.validated_data["code"],
                                               location_id=data.validated_data.get("location_id"))
        return cart_response(cart_id)


class CartPaymentMethodsView(APIView):
    required_perms = CART_CHANGE

    @extend_schema(summary="Payment methods available", responses={200: CartPaymentOutSerializer(many=True),
                                                                    **error_responses(404)})
    def get(self, request, cart_id: int):
        cart_get_detail(cart_id)
        return Response([{"code": m.code, "title": m.title} for m in cart_services.cart_payment_options()])

    @extend_schema(summary="Set the payment method", request=CodeInSerializer,
                   responses={200: CartSerializer, **error_responses(
                       400, 404, 409, codes={409: ["payment_method_not_available", *CART_409]})})
    def post(self, request, cart_id: int):
        data = CodeInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cart_services.cart_payment_method_set(cart_id=cart_id, code=data.validated_data["code"])
        return cart_response(cart_id)


class CartCouponView(APIView):
    required_perms = CART_CHANGE

    @extend_schema(summary="Apply a coupon", request=CodeInSerializer,
                   responses={200: CartSerializer, **error_responses(
                       400, 404, 409, codes={409: ["coupon_not_applicable", *CART_409]})})
    def post(self, request, cart_id: int):
        data = CodeInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cart_services.cart_coupon_apply(cart_id=cart_id, code=data.validated_data["code"])
        return cart_response(cart_id)

    @extend_schema(summary="Remove the coupon", responses={200: CartSerializer,
                                                           **error_responses(404, 409, codes={409: CART_409})})
    def delete(self, request, cart_id: int):
        cart_services.cart_coupon_remove(cart_id=cart_id)
        return cart_response(cart_id)


@extend_schema(summary="Configured shipping methods")
class ShippingMethodListView(generics.ListAPIView):
    queryset = ShippingMethod.objects.all()
    serializer_class = ShippingMethodSerializer
    pagination_class = None


@extend_schema(summary="Configured payment methods")
class PaymentMethodListView(generics.ListAPIView):
    queryset = PaymentMethod.objects.all()
    serializer_class = PaymentMethodSerializer
    pagination_class = None


@extend_schema_view(
    get=extend_schema(summary="List coupons"),
    post=extend_schema(summary="Create a coupon",
                       responses={201: CouponSerializer, **error_responses(400, 409, codes={409: ["coupon_code_taken"]})}),
)
class CouponListView(generics.ListCreateAPIView):
    queryset = Coupon.objects.all().order_by("id")
    serializer_class = CouponSerializer

    def perform_create(self, serializer):
        serializer.instance = coupon_create(data=dict(serializer.validated_data))


@extend_schema_view(
    get=extend_schema(summary="Get a coupon", responses={200: CouponSerializer, **error_responses(404)}),
    patch=extend_schema(summary="Change a coupon",
                        responses={200: CouponSerializer,
                                   **error_responses(400, 404, 409, codes={409: ["coupon_code_taken"]})}),
)
class CouponDetailView(generics.RetrieveUpdateAPIView):
    queryset = Coupon.objects.all()
    serializer_class = CouponSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def perform_update(self, serializer):
        serializer.instance = coupon_update(coupon=serializer.instance, data=dict(serializer.validated_data))
