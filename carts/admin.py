"""Coupons, shipping and payment methods (editable) and draft carts (read-mostly).

Carts change only through the Create Order wizard (Sales → Orders → Create order), which
calls the cart services; here they are listed, inspected and, while still drafts, deleted.
"""

from django import forms
from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html

from carts.models import Cart, CartItem, Coupon, PaymentMethod, ShippingMethod


class CouponForm(forms.ModelForm):
    class Meta:
        model = Coupon
        fields = ("code", "is_active", "discount_type", "value", "free_shipping", "min_subtotal", "starts_at", "ends_at",
                  "usage_limit", "usage_limit_per_customer")

    def clean_code(self):
        code = (self.cleaned_data.get("code") or "").strip().upper()
        if len(code) > 32:  # upper-casing can lengthen it ('ß' becomes 'SS'); the column holds 32
            raise forms.ValidationError("At most 32 characters once upper-cased.")
        return code


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    form = CouponForm
    list_display = ("code", "discount_type", "value", "free_shipping", "min_subtotal", "starts_at", "ends_at",
                    "times_used", "usage_limit", "usage_limit_per_customer", "is_active")
    list_filter = ("is_active", "discount_type", "free_shipping")
    search_fields = ("code",)
    readonly_fields = ("times_used", "created_at")
    fieldsets = (
        (None, {"fields": ("code", "is_active", ("discount_type", "value"), "free_shipping", "min_subtotal")}),
        ("Validity and limits", {"fields": (("starts_at", "ends_at"), ("usage_limit", "usage_limit_per_customer"),
                                            "times_used", "created_at")}),
    )


class FixedCodeMixin:
    """Methods are features of the store: their codes are fixed; titles and switches are editable."""

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return ("code",)


@admin.register(ShippingMethod)
class ShippingMethodAdmin(FixedCodeMixin, admin.ModelAdmin):
    list_display = ("code", "title", "enabled", "calc", "amount", "free_threshold", "sort_order")
    list_editable = ("enabled", "sort_order")
    fields = ("code", "title", "enabled", "calc", "amount", "free_threshold", "sort_order")


@admin.register(PaymentMethod)
class PaymentMethodAdmin(FixedCodeMixin, admin.ModelAdmin):
    list_display = ("code", "title", "enabled", "captured_by_gateway", "sort_order")
    list_editable = ("enabled", "sort_order")
    fields = ("code", "title", "enabled", "sort_order")

    @admin.display(boolean=True, description="captured by gateway")
    def captured_by_gateway(self, obj):
        return obj.captured_by_gateway


class CartItemInline(admin.TabularInline):
    model = CartItem
    fields = ("product", "quantity", "price", "subtotal", "discount", "tax_percent", "tax", "total")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin):
    list_display = ("id", "customer", "currency", "item_count", "grand_total", "is_active", "created_by",
                    "created_at", "updated_at", "continue_link")
    list_filter = ("is_active", "currency", "created_at")
    search_fields = ("customer__email", "customer__first_name", "customer__last_name")
    list_select_related = ("customer", "created_by", "order")
    list_per_page = 50
    inlines = [CartItemInline]
    readonly_fields = ("customer", "currency", "exchange_rate", "billing_address", "shipping_address",
                       "shipping_method", "pickup_location", "payment_method", "coupon", "subtotal",
                       "discount_total", "tax_total", "shipping_total", "grand_total", "is_active", "created_by",
                       "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("customer", "currency", "exchange_rate", "is_active", "created_by",
                           ("created_at", "updated_at"))}),
        ("Addresses", {"fields": ("billing_address", "shipping_address")}),
        ("Shipping and payment", {"fields": ("shipping_method", "pickup_location", "payment_method", "coupon")}),
        ("Totals", {"fields": ("subtotal", "discount_total", "tax_total", "shipping_total", "grand_total")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_items=Count("items"))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # A draft nobody finished may be thrown away; a placed cart stays with its order.
        if obj is not None and not obj.is_active:
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description="items", ordering="n_items")
    def item_count(self, obj):
        return obj.n_items

    @admin.display(description="")
    def continue_link(self, obj):
        if obj.is_active:
            return format_html('<a href="{}">Continue in wizard</a>',
                               reverse("admin:sales_order_create_step", args=[obj.pk, "products"]))
        order = getattr(obj, "order", None)
        if order is not None:
            return format_html('<a href="{}">Order #{}</a>', reverse("admin:sales_order_change", args=[order.pk]),
                               order.number)
        return "placed"
