"""The forms of the order page's Edit items and Edit addresses and note (SPEC §12, §14).

They check the shape of the input (whole numbers, a product or a SKU on an added row, lengths,
an ISO country) and turn it into ``order_edit``'s arguments: the lines whose quantity changed and
the rows that add a product; the details that differ from what the order holds. Every rule — what
can change on which order, the minimum a line can go down to, stock — is the service's to enforce
and to explain.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pycountry
from django import forms

from config.addresses import ADDRESS_FIELDS, AddressSerializer
from sales.admin.action_forms import MAX_QTY
from sales.admin.forms import ADDRESS_LABELS, ADDRESS_LENGTHS, ADDRESS_REQUIRED
from sales.models import Order, OrderItem
from sales.services.editing import EditLine

ADD_ROWS = 3
STAFF_NOTE_MAX = 5000


def effective_qty(item: OrderItem) -> int:
    """A line's quantity as the edit reads it (SPEC §12): ordered − canceled."""
    return item.qty_ordered - item.qty_canceled


def minimum_qty(item: OrderItem) -> int:
    """The lowest quantity a processing order's line can go to: what is invoiced or shipped stays."""
    return effective_qty(item) - item.qty_to_cancel


def _product_picker() -> forms.Widget:
    """The admin's own autocomplete (select2 over /admin/autocomplete/), searching the product
    admin's ``search_fields`` (SKU, name) with its view permission: the wizard's picker."""
    from django.contrib import admin
    from django.contrib.admin.widgets import AutocompleteSelect

    return AutocompleteSelect(OrderItem._meta.get_field("product"), admin.site,
                              attrs={"data-placeholder": "Type a SKU or a product name…",
                                     "class": "edit-autocomplete"})


class EditItemsForm(forms.Form):
    """``qty_<item id>`` per line (its effective quantity; blank or unchanged leaves it alone) and
    ``ADD_ROWS`` rows of ``add_product_<n>`` (autocomplete, when the user may view products) or
    ``add_sku_<n>``, with ``add_qty_<n>``."""

    def __init__(self, *args: Any, items: list[OrderItem], processing: bool, product_picker: bool, **kwargs: Any):
        from catalog.models import Product

        super().__init__(*args, **kwargs)
        self.items = items
        self.processing = processing
        self.product_picker = product_picker
        for item in items:
            field = forms.IntegerField(min_value=0, max_value=MAX_QTY, required=False, initial=effective_qty(item),
                                       label=f"Quantity of {item.name}")
            field.widget.attrs.update({"class": "qty-input", "data-item-id": item.id, "min": 0,
                                       "aria-label": f"Quantity of {item.sku or item.name}"})
            if processing:
                field.widget.attrs["min"] = minimum_qty(item)
            self.fields[self.qty_name(item)] = field
        for n in range(ADD_ROWS):
            if product_picker:
                self.fields[f"add_product_{n}"] = forms.ModelChoiceField(
                    Product.objects.all(), required=False, label=f"Product (row {n + 1})", widget=_product_picker())
            self.fields[f"add_sku_{n}"] = forms.CharField(max_length=64, required=False, label=f"SKU (row {n + 1})",
                                                          widget=forms.TextInput(attrs={"size": 14,
                                                                                        "class": "add-sku"}))
            qty = forms.IntegerField(min_value=1, max_value=MAX_QTY, required=False, label=f"Quantity (row {n + 1})")
            qty.widget.attrs.update({"class": "qty-input add-qty", "min": 1, "aria-label": f"Quantity (row {n + 1})"})
            self.fields[f"add_qty_{n}"] = qty
        self._fields_of_lines: list[str] = []

    @staticmethod
    def qty_name(item: OrderItem) -> str:
        return f"qty_{item.id}"

    def rows(self) -> list[dict[str, Any]]:
        return [{"item": item, "field": self[self.qty_name(item)], "effective": effective_qty(item),
                 "minimum": minimum_qty(item) if self.processing else None} for item in self.items]

    def add_rows(self) -> list[dict[str, Any]]:
        return [{"n": n, "product": self[f"add_product_{n}"] if self.product_picker else None,
                 "sku": self[f"add_sku_{n}"], "qty": self[f"add_qty_{n}"]} for n in range(ADD_ROWS)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for n in range(ADD_ROWS):
            product, sku, qty = data.get(f"add_product_{n}"), (data.get(f"add_sku_{n}") or "").strip(), \
                data.get(f"add_qty_{n}")
            if f"add_qty_{n}" in self.errors or f"add_product_{n}" in self.errors:
                continue
            if product is not None and sku:
                self.add_error(f"add_sku_{n}", "Pick a product or type a SKU, not both.")
            elif (product is not None or sku) and qty is None:
                self.add_error(f"add_qty_{n}", "Enter how many units to add.")
            elif qty is not None and product is None and not sku:
                self.add_error(f"add_sku_{n}", "Pick a product or type its SKU.")
        if not self.errors and not self.edit_lines():
            raise forms.ValidationError("Change a quantity or add a product: as it is, the edit changes nothing.")
        return data

    def edit_lines(self) -> list[EditLine]:
        """The service's lines: each line whose quantity differs from its effective quantity, then the added
        rows. ``field_of(n)`` names the form field behind the service's ``items.<n>``."""
        data = self.cleaned_data
        lines: list[EditLine] = []
        fields: list[str] = []
        for item in self.items:
            qty = data.get(self.qty_name(item))
            if qty is not None and qty != effective_qty(item):
                lines.append(EditLine(id=item.id, quantity=qty))
                fields.append(self.qty_name(item))
        for n in range(ADD_ROWS):
            product, sku, qty = data.get(f"add_product_{n}"), (data.get(f"add_sku_{n}") or "").strip(), \
                data.get(f"add_qty_{n}")
            if qty is None or (product is None and not sku):
                continue
            lines.append(EditLine(quantity=qty, product_id=product.id if product is not None else None,
                                  sku=None if product is not None else sku))
            fields.append(f"add_product_{n}" if product is not None else f"add_sku_{n}")
        self._fields_of_lines = fields
        return lines

    def field_of(self, error_field: str | None) -> str | None:
        """The form field behind a service error's ``field`` (``items.<n>.quantity`` → that row's input)."""
        parts = (error_field or "").split(".")
        if len(parts) < 2 or parts[0] != "items" or not parts[1].isdigit():
            return None
        n = int(parts[1])
        if n >= len(self._fields_of_lines):
            return None
        name = self._fields_of_lines[n]
        if name.startswith(("add_product_", "add_sku_")) and parts[-1] == "quantity":
            return f"add_qty_{name.rsplit('_', 1)[1]}"
        return name


def edit_token(order: Order, lines: list[EditLine]) -> str:
    """What a preview showed: the order as it was (its last write) and the lines asked. Save applies the
    edit only when the token still matches, else it previews again."""
    payload = [order.updated_at.isoformat() if order.updated_at else "",
               [[x.id, x.product_id, x.sku, x.quantity] for x in lines]]
    return hashlib.sha256(json.dumps(payload).encode()).hexdigest()[:32]


# ---------------------------------------------------------------------------- addresses and note


def country_choices() -> list[tuple[str, str]]:
    countries = sorted(pycountry.countries, key=lambda c: c.name)
    return [("", "— choose a country —"), *((c.alpha_2, f"{c.name} ({c.alpha_2})") for c in countries)]


def address_normal(address: dict[str, Any] | None) -> dict[str, str]:
    """An address as the API shows it (every field, "" when absent): what comparisons read."""
    address = address if isinstance(address, dict) else {}
    return {f: str(address.get(f) or "") for f in ADDRESS_FIELDS}


class AddressEditForm(forms.Form):
    """The one address shape (SPEC §3), the country as a select of ISO 3166-1 codes; validated again by the API's
    AddressSerializer so the admin accepts exactly what the API accepts."""

    def __init__(self, *args: Any, address: dict[str, Any] | None, **kwargs: Any):
        initial = address_normal(address)
        initial["country"] = initial["country"].upper()
        kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        choices = country_choices()
        for name in ADDRESS_FIELDS:
            field: forms.Field
            if name == "country":
                field = forms.ChoiceField(label=ADDRESS_LABELS[name], choices=choices, required=True)
            else:
                field = forms.CharField(label=ADDRESS_LABELS[name], max_length=ADDRESS_LENGTHS[name],
                                        required=name in ADDRESS_REQUIRED)
            field.widget.attrs["data-address-field"] = name
            self.fields[name] = field
        self.stored = address_normal(address)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        check = AddressSerializer(data={f: (data.get(f) or "").strip() for f in ADDRESS_FIELDS})
        if not check.is_valid():
            for name, errors in check.errors.items():
                self.add_error(name if name in self.fields else None, " ".join(str(e) for e in errors))
            return data
        self.address = dict(check.validated_data)
        return data

    def fields_list(self) -> list[forms.BoundField]:
        return [self[name] for name in ADDRESS_FIELDS]


class NoteField(forms.CharField):
    """A textarea's text with the browser's CRLF line ends read as LF (as the API stores them), so an
    untouched note compares equal and the 5,000-character limit counts characters, not line ends."""

    def to_python(self, value: Any) -> str:
        text = super().to_python(value) or ""
        return text.replace("\r\n", "\n").replace("\r", "\n")


class StaffNoteForm(forms.Form):
    staff_note = NoteField(label="Staff note", required=False, max_length=STAFF_NOTE_MAX, strip=False,
                           widget=forms.Textarea(attrs={"rows": 6, "cols": 80, "maxlength": STAFF_NOTE_MAX}))


__all__ = ["ADD_ROWS", "AddressEditForm", "EditItemsForm", "STAFF_NOTE_MAX", "StaffNoteForm", "address_normal",
           "edit_token", "effective_qty", "minimum_qty"]
