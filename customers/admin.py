"""Customers with their address book."""

from django import forms
from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html

from customers.models import Customer, CustomerAddress


class CustomerAddressForm(forms.ModelForm):
    class Meta:
        model = CustomerAddress
        fields = ("first_name", "last_name", "company", "phone", "line_1", "line_2", "city", "zone", "postcode",
                  "country", "is_default_billing", "is_default_shipping")

    def clean_country(self):
        value = (self.cleaned_data.get("country") or "").strip()
        if len(value) != 2 or not value.isalpha() or not value.isascii():
            raise forms.ValidationError("Use a two-letter ISO 3166-1 country code, e.g. US.")
        return value.upper()


class CustomerAddressInline(admin.StackedInline):
    model = CustomerAddress
    form = CustomerAddressForm
    extra = 0
    fieldsets = (
        (None, {"fields": (("first_name", "last_name"), ("company", "phone"), "line_1", "line_2",
                           ("city", "zone"), ("postcode", "country"), ("is_default_billing", "is_default_shipping"))}),
    )


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("email", "first_name", "last_name", "phone", "address_count", "created_at", "create_order")
    search_fields = ("email", "first_name", "last_name")
    list_filter = ("created_at",)
    ordering = ("-id",)
    list_per_page = 50
    inlines = [CustomerAddressInline]
    readonly_fields = ("created_at", "updated_at")
    fields = ("email", ("first_name", "last_name"), "phone", ("created_at", "updated_at"))

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_addresses=Count("addresses"))

    @admin.display(description="addresses", ordering="n_addresses")
    def address_count(self, obj):
        return obj.n_addresses

    @admin.display(description="")
    def create_order(self, obj):
        url = reverse("admin:sales_order_create") + f"?customer={obj.pk}"
        return format_html('<a href="{}">Create order</a>', url)
