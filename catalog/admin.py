"""Catalog in the admin: products with stock per source, inventory sources, tax, currencies.

Lists read a constant number of queries: the saleable quantity is annotated onto the
product rows (Σ qty at active sources − reserved), never computed per row.

A product and its stock per source are written by the catalog's services, as the API writes
them: the form asks ``product_check_type_and_parent`` (variants are simple; a configurable
product with variants stays configurable), ``product_create`` / ``product_update`` save the
product and ``inventory_set`` the stock rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from django import forms
from django.contrib import admin
from django.db.models import Count, ExpressionWrapper, F, IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import format_html

from catalog.models import Currency, InventorySource, Product, ProductInventory, ProductType, TaxCategory, TaxRate
from catalog.services import products as product_services
from catalog.services.stock import inventory_set
from config.addresses import ADDRESS_FIELDS
from config.countries import country_code_clean
from config.errors import DomainError


class StockAnnotations(TypedDict):
    on_hand: int
    saleable: int


if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    ProductWithStock = WithAnnotations[Product, StockAnnotations]


def on_hand_subquery() -> Subquery:
    rows = (ProductInventory.objects.filter(product=OuterRef("pk"), source__active=True)
            .order_by().values("product").annotate(t=Sum("qty")).values("t"))
    return Subquery(rows, output_field=IntegerField())


class ProductInventoryInline(admin.TabularInline):
    model = ProductInventory
    fields = ("source", "qty")
    extra = 0
    verbose_name = "stock at a source"
    verbose_name_plural = "stock per inventory source"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("source")

    def get_extra(self, request, obj=None, **kwargs):
        return 1 if obj is None else 0

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "qty" and isinstance(field, forms.IntegerField):
            field.min_value = 0
            field.widget.attrs["min"] = 0
        return field


class ProductAdminForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = ("sku", "name", "type", "status", "price", "weight", "tax_category", "parent")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        parent = self.fields.get("parent")
        if isinstance(parent, forms.ModelChoiceField):
            # A variant's parent is a configurable product.
            parent.queryset = Product.objects.filter(type=ProductType.CONFIGURABLE)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        # The catalog's rule, on the product as stored (the instance is overlaid only after clean).
        change: dict[str, Any] = {}
        if "type" in data:
            change["type"] = data["type"]
        if "parent" in data:
            change["parent_id"] = data["parent"].id if data["parent"] else None
        try:
            product_services.product_check_type_and_parent(self.instance if self.instance.pk else None, change)
        except DomainError as exc:
            self.add_error("parent" if exc.field == "parent_id" else "type", exc.message)
        return data

    def service_data(self) -> dict[str, Any]:
        """The changed fields as the catalog's services take them (foreign keys as ``*_id``)."""
        names = self.changed_data if self.instance.pk else list(self.Meta.fields)
        return {f"{name}_id" if name in ("tax_category", "parent") else name:
                getattr(self.instance, f"{name}_id") if name in ("tax_category", "parent") else self.cleaned_data[name]
                for name in names if name in self.cleaned_data}


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductAdminForm
    list_display = ("sku", "name", "type", "price", "status", "saleable_qty", "on_hand_qty", "qty_reserved",
                    "tax_category")
    list_display_links = ("sku", "name")
    list_filter = ("type", "status", "tax_category")
    search_fields = ("sku", "name")
    list_select_related = ("tax_category",)
    list_per_page = 50
    ordering = ("sku",)
    inlines = [ProductInventoryInline]
    readonly_fields = ("qty_reserved", "created_at", "updated_at")
    # A variant's parent is picked as you type (the admin's autocomplete over sku / name), among
    # configurable products only (get_search_results below; the form checks it again).
    autocomplete_fields = ("parent",)
    fieldsets = (
        (None, {"fields": ("sku", "name", "type", "status", "price", "weight", "tax_category", "parent")}),
        ("Stock", {"fields": ("qty_reserved",),
                   "description": "Reserved units are held by open orders (their quantity still to ship). "
                                  "Saleable = stock at active sources − reserved."}),
        ("Dates", {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if (request.path == reverse("admin:autocomplete") and request.GET.get("app_label") == "catalog"
                and request.GET.get("model_name") == "product" and request.GET.get("field_name") == "parent"):
            queryset = queryset.filter(type=ProductType.CONFIGURABLE)
        return queryset, may_have_duplicates

    def get_queryset(self, request):
        on_hand = Coalesce(on_hand_subquery(), Value(0))
        return (super().get_queryset(request)
                .annotate(on_hand=on_hand,
                          saleable=ExpressionWrapper(on_hand - F("qty_reserved"), output_field=IntegerField())))

    def save_model(self, request, obj, form, change):
        """Through the catalog's services (never ``obj.save()``): rules checked, then written."""
        data = form.service_data()
        if change:
            product_services.product_update(product=Product.objects.get(pk=obj.pk), data=data)
            return
        created = product_services.product_create(data=data)
        # The admin goes on with its own instance (inlines, the log entry, the redirect).
        obj.pk, obj.created_at, obj.updated_at = created.pk, created.created_at, created.updated_at
        obj._state.adding, obj._state.db = False, created._state.db

    def save_formset(self, request, form, formset, change):
        if formset.model is not ProductInventory:
            return super().save_formset(request, form, formset, change)
        # commit=False writes nothing; it lists the new, changed and deleted rows (the change message reads them).
        formset.save(commit=False)
        levels = {row.source_id: row.qty for row in [*formset.new_objects, *(o for o, _ in formset.changed_objects)]}
        # A row deleted, or moved to another source, leaves the source it was stored at.
        removed = {f.initial["source"] for f in formset.initial_forms
                   if f in formset.deleted_forms or "source" in f.changed_data}
        inventory_set(product=form.instance, levels=levels, removed=removed)

    @admin.display(description="saleable", ordering="saleable")
    def saleable_qty(self, obj: ProductWithStock) -> Any:
        if obj.type == ProductType.VIRTUAL:
            return "∞"
        if obj.type == ProductType.CONFIGURABLE:
            return "—"
        saleable = max(0, obj.saleable)
        if saleable == 0:
            return format_html('<span style="color:var(--error-fg)">{}</span>', saleable)
        return saleable

    @admin.display(description="on hand", ordering="on_hand")
    def on_hand_qty(self, obj: ProductWithStock) -> Any:
        return "—" if obj.type == ProductType.VIRTUAL else obj.on_hand


class InventorySourceForm(forms.ModelForm):
    """The address JSON edited as the usual address fields (names optional for a location)."""

    address_company = forms.CharField(max_length=255, required=False, label="Company")
    address_first_name = forms.CharField(max_length=150, required=False, label="Contact first name")
    address_last_name = forms.CharField(max_length=150, required=False, label="Contact last name")
    address_phone = forms.CharField(max_length=64, required=False, label="Phone")
    address_line_1 = forms.CharField(max_length=255, required=False, label="Address line 1")
    address_line_2 = forms.CharField(max_length=255, required=False, label="Address line 2")
    address_city = forms.CharField(max_length=128, required=False, label="City")
    address_zone = forms.CharField(max_length=128, required=False, label="Zone / state")
    address_postcode = forms.CharField(max_length=32, required=False, label="Postcode")
    address_country = forms.CharField(max_length=2, min_length=2, required=False, label="Country",
                                      help_text="ISO 3166-1 alpha-2, e.g. US")

    class Meta:
        model = InventorySource
        fields = ("code", "name", "priority", "active", "pickup_enabled")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        address = (self.instance.address or {}) if self.instance and self.instance.pk else {}
        for name in ADDRESS_FIELDS:
            self.fields[f"address_{name}"].initial = address.get(name, "")

    def clean_address_country(self):
        value = (self.cleaned_data.get("address_country") or "").strip()
        try:
            return country_code_clean(value) if value else ""
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        address = {name: (data.get(f"address_{name}") or "").strip() for name in ADDRESS_FIELDS}
        has_address = any(address.values())
        if has_address or data.get("pickup_enabled"):
            for name in ("line_1", "city", "postcode", "country"):
                if not address[name]:
                    self.add_error(f"address_{name}", "Required for an address (a pickup location needs one).")
        data["address"] = address if has_address else {}
        return data

    def save(self, commit=True):
        self.instance.address = self.cleaned_data["address"]
        return super().save(commit=commit)


@admin.register(InventorySource)
class InventorySourceAdmin(admin.ModelAdmin):
    form = InventorySourceForm
    list_display = ("code", "name", "priority", "active", "pickup_enabled", "city", "country", "products_stocked",
                    "units_on_hand")
    list_filter = ("active", "pickup_enabled")
    search_fields = ("code", "name")
    ordering = ("priority", "id")
    fieldsets = (
        (None, {"fields": ("code", "name", "priority", "active", "pickup_enabled")}),
        ("Address", {"fields": tuple(f"address_{n}" for n in ("company", "first_name", "last_name", "phone", "line_1",
                                                               "line_2", "city", "zone", "postcode", "country")),
                     "description": "Required for a pickup location: customers collect their orders here."}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_products=Count("inventories"),
                                                      n_units=Coalesce(Sum("inventories__qty"), Value(0)))

    @admin.display(description="city")
    def city(self, obj):
        return (obj.address or {}).get("city", "")

    @admin.display(description="country")
    def country(self, obj):
        return (obj.address or {}).get("country", "")

    @admin.display(description="products", ordering="n_products")
    def products_stocked(self, obj):
        return obj.n_products

    @admin.display(description="units on hand", ordering="n_units")
    def units_on_hand(self, obj):
        return obj.n_units


class TaxRateForm(forms.ModelForm):
    class Meta:
        model = TaxRate
        fields = ("country", "zone", "rate")

    def clean_country(self):
        try:
            return country_code_clean(self.cleaned_data.get("country") or "")
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


class TaxRateInline(admin.TabularInline):
    model = TaxRate
    form = TaxRateForm
    fields = ("country", "zone", "rate")
    extra = 1


@admin.register(TaxCategory)
class TaxCategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "rate_count", "product_count")
    search_fields = ("code", "name")
    inlines = [TaxRateInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_rates=Count("rates", distinct=True),
                                                      n_products=Count("products", distinct=True))

    @admin.display(description="rates", ordering="n_rates")
    def rate_count(self, obj):
        return obj.n_rates

    @admin.display(description="products", ordering="n_products")
    def product_count(self, obj):
        return obj.n_products


@admin.register(Currency)
class CurrencyAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "symbol", "rate", "enabled")
    list_editable = ("rate", "enabled")
    list_filter = ("enabled",)
    search_fields = ("code", "name")

    def get_readonly_fields(self, request, obj=None):
        return ("code",) if obj else ()
