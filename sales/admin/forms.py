"""Small server-rendered forms of the Create Order wizard. They check the shape of the input
(required fields, lengths, whole numbers); every business rule is the services' to enforce."""

from __future__ import annotations

from typing import cast

from django import forms

from config.countries import country_code_clean
from customers.models import ADDRESS_FIELDS, EMAIL_MAX_LENGTH, email_clean

ADDRESS_LABELS = {
    "first_name": "First name", "last_name": "Last name", "company": "Company", "phone": "Phone",
    "line_1": "Address line 1", "line_2": "Address line 2", "city": "City", "zone": "State / zone",
    "postcode": "Postcode", "country": "Country",
}
ADDRESS_LENGTHS = {"first_name": 150, "last_name": 150, "company": 255, "phone": 64, "line_1": 255, "line_2": 255,
                   "city": 128, "zone": 128, "postcode": 32, "country": 2}
ADDRESS_REQUIRED = {"first_name", "last_name", "line_1", "city", "postcode", "country"}


class AddressForm(forms.Form):
    """The one address shape of SPEC §3, with an optional pick from the customer's address book."""

    book = forms.TypedChoiceField(label="From the address book", required=False, coerce=int, empty_value=None)

    def __init__(self, *args, book_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["book"]).choices = [("", "— a new address —"), *book_choices]
        for name in ADDRESS_FIELDS:
            field = forms.CharField(label=ADDRESS_LABELS[name], max_length=ADDRESS_LENGTHS[name],
                                    required=name in ADDRESS_REQUIRED)
            field.widget.attrs["data-address-field"] = name
            if name == "country":
                field.min_length = 2
                field.widget.attrs.update(size=3, placeholder="US")
            self.fields[name] = field

    def clean_country(self):
        value = (self.cleaned_data.get("country") or "").strip()
        try:
            return country_code_clean(value) if value else ""
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def address(self) -> dict[str, str]:
        return {name: (self.cleaned_data.get(name) or "").strip() for name in ADDRESS_FIELDS}

    def address_fields(self):
        return [self[name] for name in ADDRESS_FIELDS]


class AddressesStepForm(forms.Form):
    SAME, OTHER, NONE = "same", "other", "none"
    shipping_mode = forms.ChoiceField(
        label="Shipping address", widget=forms.RadioSelect, initial=SAME,
        choices=[(SAME, "Same as billing"), (OTHER, "A different shipping address"),
                 (NONE, "No shipping address (the customer collects the order at a pickup location)")],
    )


class CustomerCreateForm(forms.Form):
    email = forms.EmailField(max_length=EMAIL_MAX_LENGTH)
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    phone = forms.CharField(max_length=64, required=False)

    def clean_email(self):
        return email_clean(self.cleaned_data["email"])


class QuantityForm(forms.Form):
    quantity = forms.IntegerField(min_value=1, max_value=1_000_000)


class AddItemForm(QuantityForm):
    product_id = forms.IntegerField(required=False, min_value=1)
    sku = forms.CharField(max_length=64, required=False)

    def clean(self):
        data = super().clean() or {}
        if not data.get("product_id") and not (data.get("sku") or "").strip():
            raise forms.ValidationError("Pick a product or type its SKU.")
        return data


class CouponForm(forms.Form):
    code = forms.CharField(max_length=32, label="Coupon code")


# ---------------------------------------------------------------------------- search-as-you-type pickers (SPEC §14)


def _autocomplete(model, field_name: str, placeholder: str):
    """The admin's own autocomplete widget (select2 over /admin/autocomplete/), searching the related
    model's admin ``search_fields`` (customers: e-mail and names; products: SKU and name) with
    that admin's view permission. ``model.field_name`` names the relation it picks for."""
    from django.contrib import admin
    from django.contrib.admin.widgets import AutocompleteSelect

    return AutocompleteSelect(model._meta.get_field(field_name), admin.site,
                              attrs={"data-placeholder": placeholder, "class": "wizard-autocomplete"})


class CustomerPickForm(forms.Form):
    """Step 1: pick the customer as you type (the search form beside it works without JavaScript).
    Only rendered: the step's POST handler reads ``customer_id`` as before."""

    def __init__(self, *args, **kwargs):
        from carts.models import Cart
        from customers.models import Customer

        super().__init__(*args, **kwargs)
        self.fields["customer_id"] = forms.ModelChoiceField(
            Customer.objects.all(), label="Customer",
            widget=_autocomplete(Cart, "customer", "Type an e-mail or a name…"))


class ProductPickForm(forms.Form):
    """Step 2: pick a product as you type and add it with a quantity (posted as the search results' Add)."""

    def __init__(self, *args, **kwargs):
        from carts.models import CartItem
        from catalog.models import Product

        super().__init__(*args, **kwargs)
        self.fields["product_id"] = forms.ModelChoiceField(
            Product.objects.all(), label="Product",
            widget=_autocomplete(CartItem, "product", "Type a SKU or a product name…"))
        self.fields["quantity"] = forms.IntegerField(min_value=1, initial=1)
        self.fields["quantity"].widget.attrs.update({"style": "width:5em", "aria-label": "Quantity"})
