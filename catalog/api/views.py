from django.db.models import Q
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.response import Response

from catalog.models import Currency, InventorySource, Product, ProductStatus, ProductType, TaxCategory
from catalog.selectors import products_with_stock
from catalog.services import products as product_services
from config.openapi import error_responses

from .serializers import CurrencySerializer, InventorySourceSerializer, ProductSerializer, TaxCategorySerializer


class ProductFilter(filters.FilterSet):
    search = filters.CharFilter(method="filter_search", help_text="Name or SKU contains (case-insensitive)")
    sku = filters.CharFilter(field_name="sku")
    type = filters.ChoiceFilter(choices=ProductType.choices)
    status = filters.ChoiceFilter(choices=ProductStatus.choices)

    class Meta:
        model = Product
        fields = ["sku", "type", "status"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(sku__icontains=value))


WRITE_ERRORS = error_responses(400, 409, codes={400: ["tax_category_not_found", "product_not_found",
                                                      "inventory_source_not_found"], 409: ["sku_taken"]})


@extend_schema_view(
    get=extend_schema(summary="List products", responses={200: ProductSerializer(many=True), **error_responses(400)}),
    post=extend_schema(summary="Create a product (optionally with stock per source)",
                       responses={201: ProductSerializer, **WRITE_ERRORS}),
)
class ProductListView(generics.ListCreateAPIView):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    filterset_class = ProductFilter

    def get_queryset(self):
        return products_with_stock().order_by("id")

    def create(self, request, *args, **kwargs):
        ser = self.get_serializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        inventories = data.pop("inventories", None)
        product = product_services.product_create(data=data, inventories=inventories)
        return Response(self.get_serializer(products_with_stock().get(id=product.id)).data,
                        status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(summary="Get a product", responses={200: ProductSerializer, **error_responses(404)}),
    patch=extend_schema(summary="Change a product or its stock", responses={200: ProductSerializer, **WRITE_ERRORS,
                                                                          **error_responses(404)}),
)
class ProductDetailView(generics.RetrieveUpdateAPIView):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        return products_with_stock()

    def update(self, request, *args, **kwargs):
        product = self.get_object()
        ser = self.get_serializer(product, data=request.data, partial=True)
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        inventories = data.pop("inventories", None)
        product_services.product_update(product=product, data=data, inventories=inventories)
        return Response(self.get_serializer(products_with_stock().get(id=product.id)).data)


@extend_schema_view(
    get=extend_schema(summary="List inventory sources"),
    post=extend_schema(summary="Create an inventory source",
                       responses={201: InventorySourceSerializer, **error_responses(400, 409, codes={409: ["code_taken"]})}),
)
class InventorySourceListView(generics.ListCreateAPIView):
    queryset = InventorySource.objects.all().order_by("priority", "id")
    serializer_class = InventorySourceSerializer

    def perform_create(self, serializer):
        serializer.instance = product_services.inventory_source_create(data=dict(serializer.validated_data))


@extend_schema_view(
    get=extend_schema(summary="List tax categories with their rates"),
    post=extend_schema(summary="Create a tax category with rates",
                       responses={201: TaxCategorySerializer, **error_responses(400, 409, codes={409: ["code_taken", "duplicate_rate"]})}),
)
class TaxCategoryListView(generics.ListCreateAPIView):
    queryset = TaxCategory.objects.prefetch_related("rates").order_by("id")
    serializer_class = TaxCategorySerializer

    def perform_create(self, serializer):
        data = serializer.validated_data
        category = product_services.tax_category_create(code=data["code"], name=data["name"],
                                                        rates=data.get("rates", []))
        serializer.instance = TaxCategory.objects.prefetch_related("rates").get(id=category.id)


@extend_schema(summary="List currencies (rate = units per one unit of the base currency)")
class CurrencyListView(generics.ListAPIView):
    queryset = Currency.objects.all().order_by("code")
    serializer_class = CurrencySerializer
    pagination_class = None
