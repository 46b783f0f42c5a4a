"""The order page's Edit items (with a dry-run preview) and Edit addresses and note (SPEC §12, §14).

Both call ``sales.services.editing.order_edit``, the service behind ``PATCH /api/admin/orders/{id}``,
and hold no business rule:

- Edit items lists each line with its effective quantity (ordered − canceled) as an input and, on a
  processing order, the minimum it can go down to (effective − qty_to_cancel: what is invoiced or
  shipped stays); rows below add products, picked with the admin's own autocomplete (or by SKU).
  "Preview" runs the real edit inside ``dry_run_execute`` (always rolled back) and shows the totals
  before and after, the new lines, the canceled units and the stock moves; "Save" then applies the
  same edit. The preview carries a token of the order's last write and the lines asked: when either
  changed since, Save previews again instead of writing something the user did not see.
- Edit addresses and note: the billing address, the shipping address (only while the order ships
  and has something left to ship) and the staff note; only the fields that differ from the order's
  are sent, so an untouched form writes nothing and records no event.

A refusal (DomainError) is shown as a message naming the problem, on the form as typed; the service
refuses before its first write, inside one transaction, so nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.urls import path

from catalog.models import Product
from config.errors import DomainError
from sales import status as rules
from sales.admin.actions import EDIT_PERM, OrderActions, details_editable, order_flags
from sales.admin.edit_forms import (
    AddressEditForm,
    EditItemsForm,
    StaffNoteForm,
    edit_token,
    effective_qty,
)
from sales.models import Order, OrderItem, OrderStatus
from sales.services.dry_run import dry_run_execute
from sales.services.editing import DETAIL_FIELDS, EditLine, edit_plan, order_edit

PRODUCT_VIEW_PERM = "catalog.view_product"

TOTAL_ROWS = (("subtotal", "Subtotal"), ("discount_total", "Discount"), ("tax_total", "Tax"),
              ("shipping_total", "Shipping"), ("grand_total", "Grand total"), ("total_invoiced", "Invoiced"),
              ("total_canceled", "Canceled"), ("total_due", "Due (still to bill)"))
DETAIL_LABELS = {"billing_address": "billing address", "shipping_address": "shipping address",
                 "staff_note": "staff note"}


def shipping_editable(order: Order, items: list[OrderItem]) -> bool:
    """The shipping address changes while the order ships and something is left to ship (SPEC §12)."""
    return order.fulfillment_type == "shipping" and any(rules.qty_to_ship(i) > 0 for i in items)


# ---------------------------------------------------------------------------- the preview


@dataclass
class TotalRow:
    key: str
    label: str
    before: Decimal
    after: Decimal

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass
class EditPreview:
    """What the edit would do, read back from the rolled-back run."""

    currency: str
    totals: list[TotalRow]
    added: list[OrderItem] = field(default_factory=list)
    canceled: list[dict[str, Any]] = field(default_factory=list)  # {item, units, amount}
    changed: list[dict[str, Any]] = field(default_factory=list)  # pending: {item, before, after}
    removed: list[OrderItem] = field(default_factory=list)  # pending
    stock: list[dict[str, Any]] = field(default_factory=list)  # {sku, name, reserved, on_hand}
    coupon_removed: str = ""

    def total(self, key: str) -> TotalRow:
        return next(row for row in self.totals if row.key == key)

    @property
    def grand_total(self) -> TotalRow:
        return self.total("grand_total")

    @property
    def total_due(self) -> TotalRow:
        return self.total("total_due")


def _canceled_amount(before: OrderItem, after: OrderItem) -> Decimal:
    return ((after.subtotal_canceled - before.subtotal_canceled) + (after.tax_canceled - before.tax_canceled)
            - (after.discount_canceled - before.discount_canceled))


def edit_preview(order: Order, items: list[OrderItem], lines: list[EditLine], actor) -> EditPreview:
    """Run the edit for real inside a transaction that is always rolled back (dry_run_execute, as the API's
    ``?dry_run=true``) and compare what it left with what was there. DomainErrors pass through."""
    product_ids = {i.product_id for i in items if i.product_id} | {x.product_id for x in lines if x.product_id}
    skus = [x.sku for x in lines if x.sku]
    if skus:
        product_ids |= set(Product.objects.filter(sku__in=skus).values_list("id", flat=True))

    def render(edited: Order) -> dict[str, Any]:
        return {"order": edited, "items": list(OrderItem.objects.filter(order_id=order.id).order_by("id"))}

    outcome = dry_run_execute(product_ids=product_ids, render=render,
                              action=lambda: order_edit(order_id=order.id, lines=lines, details=None, actor=actor))
    after_order: Order = outcome["order"]
    after_items: list[OrderItem] = outcome["items"]
    preview = EditPreview(currency=order.currency, totals=[
        TotalRow(key, label, getattr(order, key), getattr(after_order, key)) for key, label in TOTAL_ROWS])
    before_by_id = {i.id: i for i in items}
    after_ids = {i.id for i in after_items}
    for item in after_items:
        old = before_by_id.get(item.id)
        if old is None:
            preview.added.append(item)
        elif item.qty_canceled != old.qty_canceled:
            preview.canceled.append({"item": item, "units": item.qty_canceled - old.qty_canceled,
                                     "amount": _canceled_amount(old, item)})
        elif item.qty_ordered != old.qty_ordered or item.total != old.total:
            preview.changed.append({"item": item, "before": old, "after": item})
    preview.removed = [i for i in items if i.id not in after_ids]
    if order.coupon_code and not after_order.coupon_code:
        preview.coupon_removed = order.coupon_code
    names = {i.product_id: i.name for i in [*items, *after_items] if i.product_id}
    preview.stock = [{"sku": m["sku"], "name": names.get(m["product_id"], ""), "reserved": m["reserved"],
                      "on_hand": m["on_hand"]} for m in outcome["stock_moves"]]
    return preview


# ---------------------------------------------------------------------------- the views


class OrderEditViews:
    """Edit items and Edit addresses and note, mounted by OrderAdmin.get_urls() beside the other actions."""

    def __init__(self, actions: OrderActions):
        self.actions = actions

    def urls(self):
        wrap = self.actions.admin_site.admin_view
        return [
            path("<int:order_id>/edit-items/", wrap(self.edit_items_view), name="sales_order_edit_items"),
            path("<int:order_id>/edit-details/", wrap(self.edit_details_view), name="sales_order_edit_details"),
        ]

    # ------------------------------------------------------------------ edit items

    @staticmethod
    def edit_check(order: Order, items: list[OrderItem]) -> None:
        """The service's own checks of an items edit (status, gateway payment, hold); writes nothing."""
        with transaction.atomic():  # edit_plan locks the products it reads
            edit_plan(order, items, [])

    def edit_items_view(self, request, order_id: int):
        actions = self.actions
        actions.check_perm(request, EDIT_PERM)
        order, items = actions.load(order_id)
        redirect = actions.gate(request, order, order_flags(order, items).edit, lambda: self.edit_check(order, items),
                                f"Order #{order.number}'s items cannot be edited now.")
        if redirect:
            return redirect
        processing = order.status == OrderStatus.PROCESSING
        form_kwargs = {"items": items, "processing": processing,
                       "product_picker": request.user.has_perm(PRODUCT_VIEW_PERM)}
        preview = token = None
        if request.method == "POST":
            form = EditItemsForm(request.POST, **form_kwargs)
            if not form.is_valid():
                actions.invalid(request, form)
            else:
                lines = form.edit_lines()
                current = edit_token(order, lines)
                try:
                    if request.POST.get("action") == "save" and request.POST.get("previewed") == current:
                        return self.save_items(request, order, lines)
                    if request.POST.get("action") == "save":
                        messages.warning(request, "The order or the quantities changed since the preview: check "
                                                  "this preview, then save.")
                    preview, token = edit_preview(order, items, lines, request.user), current
                except DomainError as exc:
                    self.refused(request, form, exc)
        else:
            form = EditItemsForm(**form_kwargs)
        return actions.render(request, "edit_items", order, "Edit items", {
            "form": form, "rows": form.rows(), "add_rows": form.add_rows(), "processing": processing,
            "preview": preview, "previewed": token,
        })

    def save_items(self, request, order: Order, lines: list[EditLine]):
        before = order.grand_total
        edited = order_edit(order_id=order.id, lines=lines, details=None, actor=request.user)
        total = (f"grand total {before} → {edited.grand_total} {order.currency}" if edited.grand_total != before
                 else f"grand total {edited.grand_total} {order.currency}")
        return self.actions.back(request, order, f"Order #{order.number} edited: {total}, due {edited.total_due} "
                                                 f"{order.currency}.", messages.SUCCESS)

    def refused(self, request, form: EditItemsForm, exc: DomainError) -> None:
        if exc.status == 404:
            raise Http404(exc.message)
        messages.error(request, exc.message)
        name = form.field_of(exc.field)
        if name is not None:
            form.add_error(name, exc.message)

    # ------------------------------------------------------------------ edit addresses and note

    @staticmethod
    def load_details(order_id: int) -> tuple[Order, list[OrderItem]]:
        order = Order.objects.filter(pk=order_id).first()
        if order is None:
            raise Http404(f"Order {order_id} not found.")
        return order, list(OrderItem.objects.filter(order_id=order.id).order_by("id"))

    @staticmethod
    def details_check(order: Order) -> None:
        """The service's own check (canceled or closed orders keep their details): a no-op edit, rolled back."""
        dry_run_execute(product_ids=[], render=lambda _o: {},
                        action=lambda: order_edit(order_id=order.id, details={"staff_note": order.staff_note},
                                                  actor=None))

    def edit_details_view(self, request, order_id: int):
        from sales.admin.orders import address_lines  # the order page's own address lines (orders imports this)

        actions = self.actions
        actions.check_perm(request, EDIT_PERM)
        order, items = self.load_details(order_id)
        redirect = actions.gate(request, order, details_editable(order), lambda: self.details_check(order),
                                f"Order #{order.number}'s addresses and note cannot change now.")
        if redirect:
            return redirect
        with_shipping = shipping_editable(order, items)
        data = request.POST if request.method == "POST" else None
        billing = AddressEditForm(data, address=order.billing_address, prefix="billing",
                                  empty_permitted=not order.billing_address, use_required_attribute=False)
        shipping = (AddressEditForm(data, address=order.shipping_address, prefix="shipping",
                                    empty_permitted=not order.shipping_address, use_required_attribute=False)
                    if with_shipping else None)
        note = StaffNoteForm(data, initial={"staff_note": order.staff_note})
        if data is not None:
            details, valid = self.changed_details(order, billing, shipping, note)
            if not valid:
                messages.error(request, "Please correct the errors below.")
            elif not details:
                return actions.back(request, order, "Nothing changed: the addresses and the note are as they were.",
                                    messages.INFO)
            else:
                try:
                    order_edit(order_id=order.id, details=details, actor=request.user)
                except DomainError as exc:
                    actions.refused(request, exc)
                else:
                    names = [DETAIL_LABELS[f] for f in DETAIL_FIELDS if f in details]
                    what = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
                    return actions.back(request, order, f"Order #{order.number}: {what} saved.", messages.SUCCESS)
        return actions.render(request, "edit_details", order, "Edit addresses and note", {
            "billing": billing, "shipping": shipping, "note": note,
            "shipping_lines": address_lines(order.shipping_address), "ships": order.fulfillment_type == "shipping",
        })

    @staticmethod
    def changed_details(order: Order, billing: AddressEditForm, shipping: AddressEditForm | None,
                        note: StaffNoteForm) -> tuple[dict[str, Any], bool]:
        """The details that differ from the order's (an address form left as it was is not even validated, so
        an imported address the API would refuse does not stop a note from being saved)."""
        details: dict[str, Any] = {}
        valid = note.is_valid()
        for name, form in (("billing_address", billing), ("shipping_address", shipping)):
            if form is None or not form.has_changed():
                continue
            if not form.is_valid():
                valid = False
            elif getattr(form, "address", None) is not None and form.address != form.stored:
                details[name] = form.address
        if valid and note.cleaned_data["staff_note"] != order.staff_note:
            details["staff_note"] = note.cleaned_data["staff_note"]
        return details, valid


__all__ = ["EDIT_PERM", "EditPreview", "OrderEditViews", "details_editable", "edit_preview", "effective_qty",
           "shipping_editable"]
