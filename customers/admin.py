"""Customers with their address book."""

from django import forms
from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html

from config.countries import country_code_clean
from customers.models import Customer, CustomerAddress, email_clean


class CustomerAddressForm(forms.ModelForm):
    class Meta:
        model = CustomerAddress
        fields = ("first_name", "last_name", "company", "phone", "line_1", "line_2", "city", "zone", "postcode",
                  "country", "is_default_billing", "is_default_shipping")

    def clean_country(self):
        try:
            return country_code_clean(self.cleaned_data.get("country") or "")
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = ("email", "first_name", "last_name", "phone")

    def clean_email(self):
        return email_clean(self.cleaned_data["email"])


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
    form = CustomerForm
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
