"""The order page's lifecycle actions: Invoice, Ship, Refund (with a live preview), Cancel,
Add comment, Archive / Restore, Clear fraud, Hold / Release hold (SPEC §5, §8, §12). Edit items
and Edit addresses and note live in sales/admin/editing.py; their buttons are built here too.

Each action is a small server-rendered admin page mounted by OrderAdmin.get_urls() under
/admin/sales/order/<id>/<action>/. They call the same services as the API and hold no
business rule:

- a button shows only when the order allows the action (sales.status.flags_compute, the
  archive state, the fraud status) and the user holds its permission;
- opening an action the order does not allow (a stale page, a typed URL) sends the user back
  to the order page with the message of the service's own check (invoice_plan, shipment_plan,
  refund_plan, cancel_check — pure checks that write nothing);
- submitting calls the service; on a refusal (DomainError) the page shows the service's
  message with the form as it was typed, and nothing is written (each service refuses before
  its first write, inside one transaction);
- the refund preview posts the same form to refund_preview, which runs the refund's own plan
  function: the totals it shows are the totals the refund records;
- the cancel and clear-fraud confirmations run the real action with dry_run_execute (always
  rolled back) to show exactly what it would do: the amount canceled, the status after.

Permission is checked before the order is looked up (403 before 404, as in the API).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse

from catalog.models import InventorySource, ProductInventory
from config.errors import DomainError
from sales.admin.action_forms import CommentForm, HoldForm, InvoiceForm, RefundForm, ShipmentForm, form_errors_text
from sales.models import Order, OrderComment, OrderItem, OrderStatus
from sales.services.archiving import order_archive, order_restore
from sales.services.canceling import cancel_check, order_cancel
from sales.services.comments import comment_add
from sales.services.dry_run import dry_run_execute
from sales.services.fraud import order_clear_fraud
from sales.services.holding import hold_plan, order_hold, order_release_hold, release_plan
from sales.services.invoicing import invoice_create, invoice_plan
from sales.services.refunding import RefundRequest, refund_create, refund_plan, refund_preview
from sales.services.shipping import shipment_create, shipment_plan
from sales.status import Flags, order_can

INVOICE_PERM = "sales.add_invoice"
SHIP_PERM = "sales.add_shipment"
REFUND_PERM = "sales.add_refund"
CANCEL_PERM = "sales.cancel_order"
COMMENT_PERM = "sales.add_ordercomment"
ARCHIVE_PERM = "sales.archive_order"
FRAUD_PERM = "sales.clear_fraud"
HOLD_PERM = "sales.hold_order"
EDIT_PERM = "sales.edit_order"

_HEAVY = ("billing_address", "shipping_address", "metadata", "extra", "source_document")
PREVIEW_FIELDS = ("subtotal", "tax_total", "discount_total", "shipping_total", "adjustment_refund",
                  "adjustment_fee", "grand_total")


@dataclass(frozen=True)
class Button:
    key: str
    label: str
    url: str
    title: str


def order_url(order_id: int) -> str:
    return reverse("admin:sales_order_change", args=[order_id])


def action_url(name: str, order_id: int) -> str:
    return reverse(f"admin:sales_order_{name}", args=[order_id])


def order_flags(order: Order, items) -> Flags:
    return order_can(order, items)


def details_editable(order: Order) -> bool:
    """Addresses and the staff note change on any order that is not canceled or closed (SPEC §12)."""
    return order.status not in (OrderStatus.CANCELED, OrderStatus.CLOSED)


def action_buttons(user, order: Order, can: Flags) -> list[Button]:
    """The lifecycle buttons this user may use on this order now (no query: the user's
    permissions are cached on the user object, `can` comes from the items already loaded)."""
    buttons = []
    if can.invoice and user.has_perm(INVOICE_PERM):
        buttons.append(Button("invoice", "Invoice", action_url("invoice", order.id), "Bill what is left to bill"))
    if can.ship and user.has_perm(SHIP_PERM):
        buttons.append(Button("ship", "Ship", action_url("ship", order.id), "Send units from an inventory source"))
    if can.refund and user.has_perm(REFUND_PERM):
        buttons.append(Button("refund", "Refund", action_url("refund", order.id), "Give back invoiced money"))
    if can.cancel and user.has_perm(CANCEL_PERM):
        buttons.append(Button("cancel", "Cancel", action_url("cancel", order.id),
                              "Cancel every unit neither invoiced nor shipped"))
    if user.has_perm(EDIT_PERM):
        if can.edit:
            buttons.append(Button("edit-items", "Edit items", action_url("edit_items", order.id),
                                  "Change quantities or add products, with a preview of the new totals"))
        if details_editable(order):
            buttons.append(Button("edit-details", "Edit addresses and note", action_url("edit_details", order.id),
                                  "Change the billing or shipping address and the staff note"))
    if user.has_perm(COMMENT_PERM):
        buttons.append(Button("comment", "Add comment", action_url("comment", order.id),
                              "A note on the order, optionally e-mailed to the customer"))
    if user.has_perm(ARCHIVE_PERM):
        if order.archived_at is None:
            buttons.append(Button("archive", "Archive", action_url("archive", order.id),
                                  "Hide the order from default lists and counts"))
        else:
            buttons.append(Button("restore", "Restore", action_url("restore", order.id),
                                  "Bring the order back to the lists"))
    if order.status == OrderStatus.FRAUD and user.has_perm(FRAUD_PERM):
        buttons.append(Button("clear-fraud", "Clear fraud", action_url("clear_fraud", order.id),
                              "Clear the suspected-fraud flag"))
    if user.has_perm(HOLD_PERM):
        if can.hold:
            buttons.append(Button("hold", "Hold", action_url("hold", order.id),
                                  "Stop invoicing, shipping and item edits until the hold is released"))
        if can.release_hold:
            buttons.append(Button("release-hold", "Release hold", action_url("release_hold", order.id),
                                  "Let the order be invoiced, shipped and edited again"))
    return buttons


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


class OrderActions:
    """The action views, mounted by OrderAdmin.get_urls()."""

    template_dir = "admin/sales/order/action"

    def __init__(self, model_admin):
        self.model_admin = model_admin
        self.admin_site = model_admin.admin_site

    def urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:order_id>/invoice/", wrap(self.invoice_view), name="sales_order_invoice"),
            path("<int:order_id>/ship/", wrap(self.ship_view), name="sales_order_ship"),
            path("<int:order_id>/refund/", wrap(self.refund_view), name="sales_order_refund"),
            path("<int:order_id>/refund/preview/", wrap(self.refund_preview_view), name="sales_order_refund_preview"),
            path("<int:order_id>/cancel/", wrap(self.cancel_view), name="sales_order_cancel"),
            path("<int:order_id>/comment/", wrap(self.comment_view), name="sales_order_comment"),
            path("<int:order_id>/archive/", wrap(self.archive_view), name="sales_order_archive"),
            path("<int:order_id>/restore/", wrap(self.restore_view), name="sales_order_restore"),
            path("<int:order_id>/clear-fraud/", wrap(self.clear_fraud_view), name="sales_order_clear_fraud"),
            path("<int:order_id>/hold/", wrap(self.hold_view), name="sales_order_hold"),
            path("<int:order_id>/release-hold/", wrap(self.release_hold_view), name="sales_order_release_hold"),
        ]

    # ------------------------------------------------------------------ plumbing

    @staticmethod
    def check_perm(request, perm: str) -> None:
        if not request.user.has_perm(perm):
            raise PermissionDenied

    @staticmethod
    def load(order_id: int) -> tuple[Order, list[OrderItem]]:
        order = Order.objects.defer(*_HEAVY).filter(pk=order_id).first()
        if order is None:
            raise Http404(f"Order {order_id} not found.")
        return order, list(OrderItem.objects.filter(order_id=order.id).order_by("id"))

    def render(self, request, template: str, order: Order, title: str, context: dict):
        ctx = {
            **self.admin_site.each_context(request),
            "opts": Order._meta,
            "app_label": Order._meta.app_label,
            "title": f"{title} — order #{order.number}",
            "action_title": title,
            "subtitle": None,
            "order": order,
            "order_url": order_url(order.id),
            **context,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, f"{self.template_dir}/{template}.html", ctx)

    @staticmethod
    def back(request, order: Order, message: str | None = None, level=messages.ERROR):
        if message:
            messages.add_message(request, level, message)
        return HttpResponseRedirect(order_url(order.id))

    def gate(self, request, order: Order, allowed: bool, check, fallback: str):
        """None when the order allows the action; else a redirect to the order page with the
        message of the service's own check (``check`` raises it), or ``fallback``."""
        if allowed:
            return None
        message = None
        try:
            check()
        except DomainError as exc:
            message = exc.message
        return self.back(request, order, message or fallback)

    @staticmethod
    def refused(request, exc: DomainError) -> None:
        if exc.status == 404:
            raise Http404(exc.message)
        messages.error(request, exc.message)

    @staticmethod
    def invalid(request, form) -> None:
        messages.error(request, f"Please correct the errors below. {form_errors_text(form)}".strip())

    def submitted(self, request, order: Order, form, act: Callable[[], str]) -> HttpResponseRedirect | None:
        """A posted action form: when it is valid, ``act`` calls the service and words what it did, and
        the order page says so. None when the form is invalid or the service refuses: the form is shown
        again under the message."""
        if not form.is_valid():
            self.invalid(request, form)
            return None
        try:
            message = act()
        except DomainError as exc:
            self.refused(request, exc)
            return None
        return self.back(request, order, message, messages.SUCCESS)

    def performed(self, request, order: Order, act: Callable[[], str]) -> HttpResponseRedirect:
        """A confirmed action without a form: back to the order page with what ``act`` did, or with
        the service's refusal."""
        try:
            message = act()
        except DomainError as exc:
            self.refused(request, exc)
            return self.back(request, order)
        return self.back(request, order, message, messages.SUCCESS)

    # ------------------------------------------------------------------ invoice

    def invoice_view(self, request, order_id: int):
        self.check_perm(request, INVOICE_PERM)
        order, items = self.load(order_id)
        redirect = self.gate(request, order, order_flags(order, items).invoice,
                             lambda: invoice_plan(order, items, None),
                             f"Order #{order.number} cannot be invoiced now.")
        if redirect:
            return redirect
        lines = [i for i in items if i.qty_to_invoice > 0]
        form_kwargs = {"lines": lines, "initial_qty": lambda i: i.qty_to_invoice, "max_qty": lambda i: i.qty_to_invoice}
        if request.method == "POST":
            form = InvoiceForm(request.POST, **form_kwargs)

            def invoice() -> str:
                created = invoice_create(order_id=order.id, items=form.line_quantities(), actor=request.user)
                return f"Invoice #{created.number} created: {created.grand_total} {order.currency}."

            if done := self.submitted(request, order, form, invoice):
                return done
        else:
            form = InvoiceForm(**form_kwargs)
        return self.render(request, "invoice", order, "Invoice", {"form": form, "rows": form.rows()})

    # ------------------------------------------------------------------ ship

    def ship_view(self, request, order_id: int):
        self.check_perm(request, SHIP_PERM)
        order, items = self.load(order_id)
        sources = list(InventorySource.objects.filter(active=True).order_by("priority", "id"))
        redirect = self.gate(request, order, order_flags(order, items).ship,
                             lambda: shipment_plan(order, items, None, sources[0].id if sources else None),
                             f"Order #{order.number} cannot be shipped now.")
        if redirect:
            return redirect
        if not sources:
            return self.back(request, order, "There is no active inventory source to ship from: activate one under "
                                             "Catalog → Inventory sources.")
        lines = [i for i in items if i.qty_to_ship > 0]
        stock = self.stock_table(lines, sources)
        form_kwargs = {"lines": lines, "sources": sources, "initial_qty": lambda i: i.qty_to_ship,
                       "max_qty": lambda i: i.qty_to_ship}
        if request.method == "POST":
            form = ShipmentForm(request.POST, **form_kwargs)

            def ship() -> str:
                data = form.cleaned_data
                shipment = shipment_create(order_id=order.id, inventory_source_id=data["inventory_source"],
                                           items=form.line_quantities(), carrier_title=data["carrier_title"],
                                           track_number=data["track_number"], actor=request.user)
                return (f"Shipment #{shipment.number} created: {shipment.total_qty} unit(s) from "
                        f"{shipment.inventory_source.name}.")

            if done := self.submitted(request, order, form, ship):
                return done
        else:
            form = ShipmentForm(initial={"inventory_source": self.suggested_source(lines, sources, stock)},
                                **form_kwargs)
        rows = form.rows()
        for row in rows:
            item = row["item"]
            row["stocked"] = bool(item.is_stocked and item.product_id)
            row["stock"] = [{"source": s, "qty": stock.get((item.product_id, s.id), 0) if row["stocked"] else None,
                             "short": row["stocked"] and stock.get((item.product_id, s.id), 0) < item.qty_to_ship}
                            for s in sources]
        return self.render(request, "ship", order, "Ship", {"form": form, "rows": rows, "sources": sources})

    @staticmethod
    def stock_table(lines, sources) -> dict[tuple[int, int], int]:
        """(product id, source id) → units on hand, for the lines' products at the active sources: one query."""
        product_ids = {i.product_id for i in lines if i.product_id and i.is_stocked}
        if not product_ids:
            return {}
        table = {(pid, s.id): 0 for pid in product_ids for s in sources}
        rows = ProductInventory.objects.filter(product_id__in=product_ids, source__in=[s.id for s in sources]) \
            .values_list("product_id", "source_id", "qty")
        table.update({(pid, sid): qty for pid, sid, qty in rows})
        return table

    @staticmethod
    def suggested_source(lines, sources, stock) -> int:
        """The first source (by priority) holding every line's units, else the first source. A default, not a rule:
        shipment_create decides."""
        for source in sources:
            if all(stock.get((i.product_id, source.id), 0) >= i.qty_to_ship for i in lines
                   if i.product_id and i.is_stocked):
                return source.id
        return sources[0].id

    # ------------------------------------------------------------------ refund (+ preview)

    def refund_form(self, items, data=None) -> RefundForm:
        lines = [i for i in items if i.qty_to_refund > 0]
        return RefundForm(data, lines=lines, max_qty=lambda i: i.qty_to_refund)

    def refund_view(self, request, order_id: int):
        self.check_perm(request, REFUND_PERM)
        order, items = self.load(order_id)
        redirect = self.gate(request, order, order_flags(order, items).refund,
                             lambda: refund_plan(order, items, RefundRequest()),
                             f"Order #{order.number} cannot be refunded now.")
        if redirect:
            return redirect
        preview = None
        if request.method == "POST":
            form = self.refund_form(items, request.POST)

            def refund() -> str:
                created = refund_create(order_id=order.id, request=form.refund_request(), actor=request.user)
                return f"Refund #{created.number} created: {created.grand_total} {order.currency}."

            if form.is_valid() and request.POST.get("action") == "preview":
                # Without JavaScript: the same preview, rendered server-side.
                preview = self.preview_payload(order, form)
            elif done := self.submitted(request, order, form, refund):
                return done
        else:
            form = self.refund_form(items)
        return self.render(request, "refund", order, "Refund", {
            "form": form, "rows": form.rows(), "preview": preview,
            "shipping_refundable_text": f"{order.shipping_invoiced - order.shipping_refunded} {order.currency}",
            "money_refundable": order.total_invoiced - order.total_refunded,
            "preview_url": action_url("refund_preview", order.id),
        })

    def refund_preview_view(self, request, order_id: int):
        """POST the refund form; JSON: {ok: true, totals, items} or {ok: false, code, message}. Writes nothing."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        self.check_perm(request, REFUND_PERM)
        order, items = self.load(order_id)
        form = self.refund_form(items, request.POST)
        if not form.is_valid():
            return JsonResponse({"ok": False, "code": "validation_error", "message": form_errors_text(form),
                                 "errors": {k: [str(e) for e in v] for k, v in form.errors.items()}}, status=400)
        payload = self.preview_payload(order, form)
        return JsonResponse(payload, status=payload.pop("status"))

    @staticmethod
    def preview_payload(order: Order, form: RefundForm) -> dict:
        try:
            plan = refund_preview(order_id=order.id, request=form.refund_request())
        except DomainError as exc:
            if exc.status == 404:
                raise Http404(exc.message) from None
            return {"ok": False, "status": exc.status, "code": exc.code, "message": exc.message}
        totals = plan.totals
        return {
            "ok": True, "status": 200, "currency": order.currency,
            "totals": {name: _money(totals[name]) for name in PREVIEW_FIELDS},
            "items": [{"order_item_id": x.order_item_id, "sku": x.sku, "name": x.name, "quantity": x.quantity,
                       "total": _money(x.total)} for x in plan.lines],
        }

    # ------------------------------------------------------------------ cancel

    def cancel_view(self, request, order_id: int):
        self.check_perm(request, CANCEL_PERM)
        order, items = self.load(order_id)
        if request.method == "POST":
            def cancel() -> str:
                order_cancel(order_id=order.id, actor=request.user)
                order.refresh_from_db(fields=["status", "total_canceled"])
                return f"Order #{order.number} canceled what was left: it is now {order.status_label.lower()}."

            return self.performed(request, order, cancel)
        redirect = self.gate(request, order, order_flags(order, items).cancel, lambda: cancel_check(order, items),
                             f"Order #{order.number} cannot be canceled now.")
        if redirect:
            return redirect
        before = order.total_canceled
        try:
            outcome = dry_run_execute(product_ids=[], action=lambda: order_cancel(order_id=order.id, actor=request.user),
                                      render=lambda o: {"amount": o.total_canceled - before,
                                                        "status_label": o.status_label})
        except DomainError as exc:
            self.refused(request, exc)
            return self.back(request, order)
        lines = [i for i in items if i.qty_to_cancel > 0]
        return self.render(request, "cancel", order, "Cancel", {
            "lines": lines, "amount": outcome["amount"], "status_after": outcome["status_label"]})

    # ------------------------------------------------------------------ comment

    def comment_view(self, request, order_id: int):
        self.check_perm(request, COMMENT_PERM)
        order, _items = self.load(order_id)
        if request.method == "POST":
            form = CommentForm(request.POST)

            def comment() -> str:
                data = form.cleaned_data
                comment_add(order_id=order.id, comment=data["comment"], customer_notified=data["customer_notified"],
                            actor=request.user)
                return f"Comment added{' and the customer notified' if data['customer_notified'] else ''}."

            if done := self.submitted(request, order, form, comment):
                return done
        else:
            form = CommentForm()
        recent = list(OrderComment.objects.filter(order_id=order.id).select_related("author")
                      .order_by("-created_at", "-id")[:5])
        return self.render(request, "comment", order, "Add comment", {"form": form, "recent": recent})

    # ------------------------------------------------------------------ archive / restore / clear fraud

    def archive_view(self, request, order_id: int):
        self.check_perm(request, ARCHIVE_PERM)
        order, _items = self.load(order_id)
        if order.archived_at is not None:
            return self.back(request, order, f"Order #{order.number} is already archived.", messages.INFO)
        if request.method == "POST":
            order_archive(order_id=order.id, actor=request.user)
            return self.back(request, order, f"Order #{order.number} archived: it is left out of the default order "
                                             f"list and counts.", messages.SUCCESS)
        return self.render(request, "confirm", order, "Archive", {
            "explain": "Archiving hides the order from the default order list and from the counts by status. "
                       "Everything else stays as it is; Restore brings it back.",
            "confirm_label": "Yes, archive", "confirm_id": "confirm-archive"})

    def restore_view(self, request, order_id: int):
        self.check_perm(request, ARCHIVE_PERM)
        order, _items = self.load(order_id)
        if order.archived_at is None:
            return self.back(request, order, f"Order #{order.number} is not archived.", messages.INFO)
        if request.method == "POST":
            order_restore(order_id=order.id, actor=request.user)
            return self.back(request, order, f"Order #{order.number} restored.", messages.SUCCESS)
        return self.render(request, "confirm", order, "Restore", {
            "explain": "Restoring brings the order back to the default order list and counts.",
            "confirm_label": "Yes, restore", "confirm_id": "confirm-restore"})

    def clear_fraud_view(self, request, order_id: int):
        self.check_perm(request, FRAUD_PERM)
        order, _items = self.load(order_id)
        if request.method == "POST":
            def clear() -> str:
                order_clear_fraud(order_id=order.id, actor=request.user)
                order.refresh_from_db(fields=["status"])
                return f"Fraud flag cleared: order #{order.number} is now {order.status_label.lower()}."

            return self.performed(request, order, clear)
        try:
            outcome = dry_run_execute(product_ids=[], action=lambda: order_clear_fraud(order_id=order.id,
                                                                                       actor=request.user),
                                      render=lambda o: {"status_label": o.status_label})
        except DomainError as exc:
            self.refused(request, exc)
            return self.back(request, order)
        return self.render(request, "confirm", order, "Clear fraud", {
            "explain": f"The order is flagged as suspected fraud: invoicing, shipping, refunding and canceling are "
                       f"refused and its stock stays reserved. Clearing the flag recomputes its status: it will be "
                       f"{outcome['status_label'].lower()}.",
            "confirm_label": "Yes, clear the flag", "confirm_id": "confirm-clear-fraud"})

    # ------------------------------------------------------------------ hold / release hold

    def hold_view(self, request, order_id: int):
        self.check_perm(request, HOLD_PERM)
        order, items = self.load(order_id)
        redirect = self.gate(request, order, order_flags(order, items).hold, lambda: hold_plan(order),
                             f"Order #{order.number} cannot be put on hold now.")
        if redirect:
            return redirect
        if request.method == "POST":
            form = HoldForm(request.POST)

            def hold() -> str:
                order_hold(order_id=order.id, reason=form.cleaned_data["reason"], actor=request.user)
                return (f"Order #{order.number} is on hold: it cannot be invoiced, shipped or edited until the "
                        f"hold is released.")

            if done := self.submitted(request, order, form, hold):
                return done
        else:
            form = HoldForm()
        return self.render(request, "hold", order, "Hold", {"form": form})

    def release_hold_view(self, request, order_id: int):
        self.check_perm(request, HOLD_PERM)
        order, items = self.load(order_id)
        if request.method == "POST":
            def release() -> str:
                order_release_hold(order_id=order.id, actor=request.user)
                return f"Hold released: order #{order.number} can be invoiced, shipped and edited again."

            return self.performed(request, order, release)
        redirect = self.gate(request, order, order_flags(order, items).release_hold, lambda: release_plan(order),
                             f"Order #{order.number} is not on hold.")
        if redirect:
            return redirect
        return self.render(request, "confirm", order, "Release hold", {
            "explain": f"The order is on hold: {order.hold_reason}. Releasing the hold lets it be invoiced, shipped "
                       f"and edited again.",
            "confirm_label": "Yes, release the hold", "confirm_id": "confirm-release-hold"})
