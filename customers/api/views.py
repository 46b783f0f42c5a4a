from django.db.models import Q
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.response import Response

from config.openapi import error_responses
from customers.models import Customer
from customers.services.customers import customer_create, customer_update

from .serializers import CustomerSerializer


class CustomerFilter(filters.FilterSet):
    search = filters.CharFilter(method="filter_search", help_text="E-mail or name contains (case-insensitive)")
    email = filters.CharFilter(field_name="email", lookup_expr="iexact")

    class Meta:
        model = Customer
        fields = ["email"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(email__icontains=value) | Q(first_name__icontains=value)
                               | Q(last_name__icontains=value))


@extend_schema_view(
    get=extend_schema(summary="List customers"),
    post=extend_schema(summary="Create a customer (with saved addresses)",
                       responses={201: CustomerSerializer,
                                  **error_responses(400, 409, codes={409: ["customer_email_taken"]})}),
)
class CustomerListView(generics.ListCreateAPIView):
    queryset = Customer.objects.prefetch_related("addresses").order_by("id")
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter

    def create(self, request, *args, **kwargs):
        ser = self.get_serializer(data=request.data)
        ser.is_valid(raise_exception=True)
        customer = customer_create(**ser.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(id=customer.id)).data,
                        status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(summary="Get a customer", responses={200: CustomerSerializer, **error_responses(404)}),
    patch=extend_schema(summary="Change a customer",
                        responses={200: CustomerSerializer,
                                   **error_responses(400, 404, 409, codes={409: ["customer_email_taken"]})}),
)
class CustomerDetailView(generics.RetrieveUpdateAPIView):
    queryset = Customer.objects.prefetch_related("addresses")
    serializer_class = CustomerSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def update(self, request, *args, **kwargs):
        customer = self.get_object()
        ser = self.get_serializer(customer, data=request.data, partial=True)
        ser.is_valid(raise_exception=True)
        customer_update(customer=customer, data=dict(ser.validated_data))
        return Response(self.get_serializer(self.get_queryset().get(id=customer.id)).data)
