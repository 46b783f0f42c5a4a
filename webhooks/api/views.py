"""Webhook endpoints, their deliveries, redeliver and ping (SPEC §13). Shape and translate only:
the rules are in webhooks.services."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.openapi import error_responses
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.selectors import deliveries_of, endpoint_get, endpoint_list_queryset
from webhooks.services.deliveries import delivery_redeliver, endpoint_ping
from webhooks.services.endpoints import endpoint_create, endpoint_delete, endpoint_update

from .filters import DeliveryFilter
from .serializers import (
    WebhookDeliverySerializer,
    WebhookEndpointCreatedSerializer,
    WebhookEndpointInSerializer,
    WebhookEndpointSerializer,
)

VIEW = ["webhooks.view_webhookendpoint"]
CHANGE = ["webhooks.change_webhookendpoint"]
CODES_400 = {400: ["webhook_url_not_allowed", "unknown_event_type"]}


class WebhookListView(generics.ListAPIView):
    queryset = WebhookEndpoint.objects.all()
    serializer_class = WebhookEndpointSerializer

    def get_queryset(self):
        return endpoint_list_queryset()

    @extend_schema(summary="List webhook endpoints", responses={200: WebhookEndpointSerializer(many=True)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(summary="Register a webhook endpoint (the response shows its secret, once)",
                   request=WebhookEndpointInSerializer,
                   responses={201: WebhookEndpointCreatedSerializer, **error_responses(400, codes=CODES_400)})
    def post(self, request):
        data = WebhookEndpointInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = endpoint_create(**data.validated_data)
        return Response(WebhookEndpointCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)


class WebhookDetailView(APIView):
    queryset = WebhookEndpoint.objects.all()  # model permissions: view / change / delete

    @extend_schema(summary="Get a webhook endpoint", responses={200: WebhookEndpointSerializer,
                                                                **error_responses(404)})
    def get(self, request, webhook_id: int):
        return Response(WebhookEndpointSerializer(endpoint_get(webhook_id)).data)

    @extend_schema(summary="Change a webhook endpoint (is_active true switches a disabled one back on)",
                   request=WebhookEndpointInSerializer,
                   responses={200: WebhookEndpointSerializer, **error_responses(400, 404, codes=CODES_400)})
    def patch(self, request, webhook_id: int):
        endpoint_get(webhook_id)  # 404 before the body's 400s
        data = WebhookEndpointInSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        endpoint = endpoint_update(endpoint_id=webhook_id, data=dict(data.validated_data))
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(summary="Remove a webhook endpoint and its deliveries", responses={204: None,
                                                                                       **error_responses(404)})
    def delete(self, request, webhook_id: int):
        endpoint_delete(endpoint_id=webhook_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(summary="An endpoint's deliveries, newest first",
               responses={200: WebhookDeliverySerializer(many=True), **error_responses(400, 404)})
class WebhookDeliveriesView(generics.ListAPIView):
    serializer_class = WebhookDeliverySerializer
    filterset_class = DeliveryFilter
    required_perms = {"GET": VIEW}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WebhookDelivery.objects.none()
        return deliveries_of(self.kwargs["webhook_id"])


class WebhookRedeliverView(APIView):
    required_perms = {"POST": CHANGE}

    @extend_schema(summary="Send a delivery again now (same id and body), whatever its status",
                   parameters=[OpenApiParameter("delivery_id", OpenApiTypes.UUID, OpenApiParameter.PATH,
                                                description="The delivery's id (its X-OrderDesk-Delivery)")],
                   request=None, responses={202: WebhookDeliverySerializer, **error_responses(404)})
    def post(self, request, webhook_id: int, delivery_id: str):
        delivery = delivery_redeliver(endpoint_id=webhook_id, delivery_id=delivery_id)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class WebhookPingView(APIView):
    required_perms = {"POST": CHANGE}

    @extend_schema(summary="Send a ping delivery (data: {}) to the endpoint now", request=None,
                   responses={202: WebhookDeliverySerializer, **error_responses(404)})
    def post(self, request, webhook_id: int):
        return Response(WebhookDeliverySerializer(endpoint_ping(endpoint_id=webhook_id)).data,
                        status=status.HTTP_202_ACCEPTED)
