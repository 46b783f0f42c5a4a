"""Small server-rendered forms of the order page's actions (invoice, ship, refund, comment).

They check the shape of the input only — whole numbers, amounts with two decimals, lengths —
and turn it into the services' arguments. Every rule (what is left, stock at a source, what
can be refunded, the order's state) is the service's to enforce and to explain.
"""

from __future__ import annotations

from decimal import Decimal
from typing import cast

from django import forms

from sales.services.common import LineQty
from sales.services.refunding import RefundRequest

MAX_QTY = 1_000_000
ZERO = Decimal("0.00")


class LineQuantitiesForm(forms.Form):
    """One whole-number field per order line, named ``qty_<order item id>``; 0 leaves a line out."""

    # The lines table (templates/admin/sales/order/action/_lines_table.html): the item's quantities shown
    # (header, attribute), the one left to act on, and the input's header.
    counts: tuple[tuple[str, str], ...] = ()
    left: tuple[str, str] = ("Left", "qty_ordered")
    input_label = "Quantity"
    need_a_line = False  # invoice and ship need a quantity above 0 somewhere; a refund may give back amounts only

    def __init__(self, *args, lines=(), initial_qty=None, max_qty=None, **kwargs):
        """``lines``: the order items shown; ``initial_qty(item)`` / ``max_qty(item)`` prefill and bound the inputs
        (the bound is a browser hint only: the service is the one that refuses)."""
        super().__init__(*args, **kwargs)
        self.lines = list(lines)
        for item in self.lines:
            field = forms.IntegerField(min_value=0, max_value=MAX_QTY, label=item.name, required=False,
                                       initial=initial_qty(item) if initial_qty else 0)
            field.widget.attrs.update({"class": "qty-input", "data-item-id": item.id, "size": 5})
            if max_qty:
                field.widget.attrs["max"] = max_qty(item)
            self.fields[self.qty_name(item)] = field

    @staticmethod
    def qty_name(item) -> str:
        return f"qty_{item.id}"

    def rows(self):
        return [{"item": item, "field": self[self.qty_name(item)],
                 "counts": [getattr(item, name) for _, name in self.counts], "left": getattr(item, self.left[1])}
                for item in self.lines]

    def clean(self):
        data = super().clean()
        if self.need_a_line and not self.errors and not self.line_quantities():
            raise forms.ValidationError("Enter a quantity above 0 on at least one line.")
        return data

    def line_quantities(self) -> list[LineQty]:
        """The lines with a quantity above 0, in the order shown."""
        out = []
        for item in self.lines:
            qty = self.cleaned_data.get(self.qty_name(item)) or 0
            if qty > 0:
                out.append(LineQty(order_item_id=item.id, quantity=qty))
        return out


class InvoiceForm(LineQuantitiesForm):
    counts = (("Ordered", "qty_ordered"), ("Invoiced", "qty_invoiced"), ("Canceled", "qty_canceled"))
    left = ("Left to invoice", "qty_to_invoice")
    input_label = "Invoice now"
    need_a_line = True


class ShipmentForm(LineQuantitiesForm):
    left = ("Left to ship", "qty_to_ship")
    input_label = "Ship now"
    need_a_line = True
    inventory_source = forms.TypedChoiceField(label="Ship from", coerce=int, empty_value=None)
    carrier_title = forms.CharField(label="Carrier", max_length=255, required=False)
    track_number = forms.CharField(label="Tracking number", max_length=255, required=False)

    def __init__(self, *args, sources=(), **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["inventory_source"]).choices = [(s.id, f"{s.name} ({s.code})")
                                                                             for s in sources]
        self.fields["carrier_title"].widget.attrs.update(placeholder="e.g. UPS", size=24)
        self.fields["track_number"].widget.attrs.update(size=30)
        # Fields after the quantities in the form's field order, so errors read top to bottom.
        self.order_fields([*(self.qty_name(i) for i in self.lines), "inventory_source", "carrier_title",
                           "track_number"])


def _money_field(label: str) -> forms.DecimalField:
    field = forms.DecimalField(label=label, max_digits=14, decimal_places=2, min_value=ZERO, required=False,
                               initial=ZERO)
    field.widget.attrs.update({"class": "money-input", "step": "0.01", "min": "0"})
    return field


class RefundForm(LineQuantitiesForm):
    """Quantities start at 0 (a refund names what goes back); amounts default to 0.00."""

    counts = (("Invoiced", "qty_invoiced"), ("Refunded", "qty_refunded"), ("Shipped", "qty_shipped"))
    left = ("Left to refund", "qty_to_refund")
    input_label = "Refund now"

    shipping_amount = _money_field("Refund shipping")
    adjustment_refund = _money_field("Adjustment refund")
    adjustment_fee = _money_field("Adjustment fee")
    return_to_stock = forms.BooleanField(label="Return shipped units to stock", required=False)

    def refund_request(self) -> RefundRequest:
        data = self.cleaned_data
        return RefundRequest(items=self.line_quantities(),
                             shipping_amount=data.get("shipping_amount") or ZERO,
                             adjustment_refund=data.get("adjustment_refund") or ZERO,
                             adjustment_fee=data.get("adjustment_fee") or ZERO,
                             return_to_stock=bool(data.get("return_to_stock")))


class CommentForm(forms.Form):
    comment = forms.CharField(label="Comment", min_length=1, max_length=5000, strip=True,
                              widget=forms.Textarea(attrs={"rows": 5, "cols": 80}))
    customer_notified = forms.BooleanField(label="Notify the customer by e-mail", required=False)


class HoldForm(forms.Form):
    reason = forms.CharField(label="Reason", min_length=1, max_length=255, strip=True,
                             widget=forms.TextInput(attrs={"size": 60, "placeholder": "e.g. Waiting for the address check"}))


def form_errors_text(form) -> str:
    """All of a form's errors on one line, each named by its field's label."""
    parts = []
    for name, errors in form.errors.items():
        text = " ".join(str(e) for e in errors)
        if name == "__all__":
            parts.append(text)
        else:
            parts.append(f"{form.fields[name].label if name in form.fields else name}: {text}")
    return " ".join(parts)
