"""Mass actions on the orders selected in Sales → Orders (SPEC §14): invoice, ship (from a chosen
source), cancel, hold (one reason for all), release hold, archive — each ending on a page that says, per order, what was done or refused
and why — and print invoices / print packing slips, each one PDF.

How a mass action runs
----------------------
- The selected orders are read in one query (id, number and the few fields the outcome needs),
  in the list's order, at most ``MASS_LIMIT`` of them (more is refused with a message: select
  fewer or filter the list).
- Then, order by order, the *same service* the order page and the API call
  (``invoice_create``, ``shipment_create``, ``order_cancel``, ``order_archive``). Each call is its
  own transaction: the services open it themselves, and the admin's change list runs outside
  any transaction (no ATOMIC_REQUESTS), so a refusal of one order never undoes another. A
  ``DomainError`` is that order's refusal, shown with the service's own message; any other
  exception is logged and reported as an error on that order (its transaction rolled back),
  and the run goes on, so the page still tells what was done on the others.
- The outcomes are kept in the session and the browser is sent to the result page
  (post/redirect/get: reloading the result page runs nothing again).

So a run costs a fixed number of queries plus one service call per order.

Adding an action
----------------
An action is a ``MassAction``: a key, the labels, the permission, and ``run(target, ctx)``
which calls a service for one order and returns an ``Outcome`` (or raises ``DomainError``).
``MASS_ACTIONS`` lists them; OrderAdmin turns each into a Django admin action. Hold and release
hold (SPEC §14) are two such entries, hold asking for its reason on the options page.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from catalog.models import InventorySource
from config.errors import DomainError
from sales.formatting import format_datetime, format_money
from sales.models import Order
from sales.models.order import STATUS_TITLES

logger = logging.getLogger(__name__)

MASS_LIMIT = 500
SESSION_KEY = "orderdesk.mass_results"
SESSION_KEEP = 5  # the last few result pages stay reachable (back button, a second tab)

DONE, REFUSED, SKIPPED, ERROR = "done", "refused", "skipped", "error"


@dataclass
class Outcome:
    state: str  # done / refused / skipped / error
    text: str
    url: str | None = None  # the document it made, when it made one


@dataclass
class Target:
    """One selected order, as read by the single query before the run."""

    id: int
    number: str
    currency: str
    status: int
    total_canceled: Decimal
    archived_at: datetime | None


@dataclass
class Context:
    actor: User | None
    options: dict = field(default_factory=dict)


class OptionsForm(forms.Form):
    """An action's intermediate page: its fields, and a line saying what was chosen for the result page."""

    def describe(self) -> str:
        return ""


@dataclass(frozen=True)
class MassAction:
    key: str
    label: str  # the result page's title: "Invoice"
    description: str  # the action menu's entry
    permission: str
    run: Callable[[Target, Context], Outcome]
    done_word: str  # "invoiced": the summary line's verb
    options_form: type[OptionsForm] | None = None  # an intermediate page asks for these first


# ---------------------------------------------------------------------------- the runs (one service call each)


def _invoice(target: Target, ctx: Context) -> Outcome:
    from sales.services.invoicing import invoice_create

    invoice = invoice_create(order_id=target.id, items=None, actor=ctx.actor)
    return Outcome(DONE, f"Invoice #{invoice.number} created: {format_money(invoice.grand_total, target.currency)}",
                   reverse("admin:sales_invoice_change", args=[invoice.id]))


def _ship(target: Target, ctx: Context) -> Outcome:
    from sales.services.shipping import shipment_create

    shipment = shipment_create(order_id=target.id, inventory_source_id=ctx.options["inventory_source"], items=None,
                               carrier_title=ctx.options.get("carrier_title") or "", actor=ctx.actor)
    units = shipment.total_qty
    return Outcome(DONE, f"Shipment #{shipment.number} created: {units} unit{'s' if units != 1 else ''} from "
                         f"{shipment.inventory_source.name}",
                   reverse("admin:sales_shipment_change", args=[shipment.id]))


def _cancel(target: Target, ctx: Context) -> Outcome:
    from sales.services.canceling import order_cancel

    order = order_cancel(order_id=target.id, actor=ctx.actor)
    amount = order.total_canceled - target.total_canceled
    return Outcome(DONE, f"Canceled {format_money(amount, target.currency)}: the order is now "
                         f"{STATUS_TITLES[order.status].lower()}")


def _archive(target: Target, ctx: Context) -> Outcome:
    from sales.services.archiving import order_archive

    if target.archived_at is not None:
        return Outcome(SKIPPED, f"Already archived on {format_datetime(target.archived_at)}")
    order_archive(order_id=target.id, actor=ctx.actor)
    return Outcome(DONE, "Archived: left out of the default order list and counts")


def _hold(target: Target, ctx: Context) -> Outcome:
    from sales.services.holding import order_hold

    order_hold(order_id=target.id, reason=ctx.options["reason"], actor=ctx.actor)
    return Outcome(DONE, "On hold: it cannot be invoiced, shipped or edited until released")


def _release_hold(target: Target, ctx: Context) -> Outcome:
    from sales.services.holding import order_release_hold

    order_release_hold(order_id=target.id, actor=ctx.actor)
    return Outcome(DONE, "Hold released")


class HoldOptionsForm(OptionsForm):
    reason = forms.CharField(label="Reason", min_length=1, max_length=255, strip=True,
                             help_text="The same reason on every selected order.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].widget.attrs.update(size=60, placeholder="e.g. Waiting for the address check")

    def describe(self) -> str:
        return f"reason: {self.cleaned_data['reason']}"


class ShipOptionsForm(OptionsForm):
    inventory_source = forms.TypedChoiceField(label="Ship from", coerce=int, empty_value=None)
    carrier_title = forms.CharField(label="Carrier", max_length=255, required=False,
                                    help_text="Optional; the same on every shipment. Tracking numbers are per parcel: "
                                              "add them on each order's Ship page instead.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sources = list(InventorySource.objects.filter(active=True).order_by("priority", "id"))
        cast(forms.ChoiceField, self.fields["inventory_source"]).choices = [(s.id, f"{s.name} ({s.code})") for s in self.sources]
        self.fields["carrier_title"].widget.attrs.update(placeholder="e.g. UPS", size=24)

    def describe(self) -> str:
        source = next((s for s in self.sources if s.id == self.cleaned_data["inventory_source"]), None)
        carrier = self.cleaned_data.get("carrier_title")
        return f"from {source.name if source else '?'}" + (f", carrier {carrier}" if carrier else "")


MASS_ACTIONS: list[MassAction] = [
    MassAction("invoice", "Invoice", "Invoice selected orders (everything left to bill)", "sales.add_invoice",
               _invoice, "invoiced"),
    MassAction("ship", "Ship", "Ship selected orders (everything left, from a chosen source)", "sales.add_shipment",
               _ship, "shipped", options_form=ShipOptionsForm),
    MassAction("cancel", "Cancel", "Cancel selected orders (everything neither billed nor sent)",
               "sales.cancel_order", _cancel, "canceled"),
    MassAction("hold", "Hold", "Hold selected orders (with a reason)", "sales.hold_order", _hold, "held",
               options_form=HoldOptionsForm),
    MassAction("release_hold", "Release hold", "Release the hold of selected orders", "sales.hold_order",
               _release_hold, "released"),
    MassAction("archive", "Archive", "Archive selected orders", "sales.archive_order", _archive, "archived"),
]
BY_KEY = {a.key: a for a in MASS_ACTIONS}


# ---------------------------------------------------------------------------- running one


def selected_targets(queryset) -> list[Target]:
    """The selected orders in the list's order: one query, MASS_LIMIT + 1 rows at most."""
    rows = queryset.values_list("id", "number", "currency", "status", "total_canceled", "archived_at")
    return [Target(*row) for row in rows[:MASS_LIMIT + 1]]


def run_one(action: MassAction, target: Target, ctx: Context) -> Outcome:
    try:
        return action.run(target, ctx)
    except DomainError as exc:
        return Outcome(REFUSED, exc.message)
    except Exception:  # a bug or a database error on one order must not hide what was done on the others
        logger.exception("Mass action %s failed on order %s", action.key, target.number)
        return Outcome(ERROR, "Unexpected error: nothing was changed on this order (the error was logged).")


def too_many(request, count: int) -> None:
    messages.error(request, f"A mass action takes at most {MASS_LIMIT} orders at a time; {count if count <= MASS_LIMIT else 'more'} "
                            f"were selected. Narrow the list with its filters or select fewer.")


def execute(modeladmin, request, queryset, action: MassAction):
    """The admin action's body: options page (if any), then the run, then the result page."""
    if not request.user.has_perm(action.permission):
        messages.error(request, f"You do not have the permission to {action.label.lower()} orders.")
        return None
    options, describe = {}, ""
    if action.options_form is not None:
        form = action.options_form(request.POST if request.POST.get("apply") else None)
        if not form.is_valid():
            return options_page(modeladmin, request, queryset, action, form)
        options, describe = form.cleaned_data, form.describe()
    targets = selected_targets(queryset)
    if len(targets) > MASS_LIMIT:
        too_many(request, len(targets))
        return None
    ctx = Context(actor=request.user, options=options)
    rows = []
    for target in targets:
        outcome = run_one(action, target, ctx)
        rows.append({"order_id": target.id, "number": target.number, **asdict(outcome)})
    token = save_result(request, {
        "action": action.key, "label": action.label, "done_word": action.done_word, "options": describe,
        "at": format_datetime(timezone.now()), "back": request.get_full_path(), "rows": rows,
    })
    return HttpResponseRedirect(reverse("admin:sales_order_mass_result", args=[token]))


def options_page(modeladmin, request, queryset, action: MassAction, form):
    targets = selected_targets(queryset)
    if len(targets) > MASS_LIMIT:
        too_many(request, len(targets))
        return None
    if request.POST.get("apply"):
        messages.error(request, "Please correct the errors below.")
    opts = modeladmin.model._meta
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": opts,
        "app_label": opts.app_label,
        "title": f"{action.label} {len(targets)} order{'s' if len(targets) != 1 else ''}",
        "subtitle": None,
        "action": action,
        "form": form,
        "targets": targets,
        "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        "select_across": request.POST.get("select_across") or "0",
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": modeladmin.media,
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, "admin/sales/order/mass/options.html", context)


# ---------------------------------------------------------------------------- the result page (post/redirect/get)


def save_result(request, payload: dict) -> str:
    token = secrets.token_urlsafe(9)
    results = dict(request.session.get(SESSION_KEY) or {})
    results[token] = payload
    for old in list(results)[:-SESSION_KEEP]:
        del results[old]
    request.session[SESSION_KEY] = results
    return token


def result_view(model_admin, request, token: str):
    payload = (request.session.get(SESSION_KEY) or {}).get(token)
    if payload is None:
        messages.info(request, "That mass action's results are no longer kept; the order list shows where things are.")
        return HttpResponseRedirect(reverse("admin:sales_order_changelist"))
    rows = payload["rows"]
    counts = {state: sum(1 for r in rows if r["state"] == state) for state in (DONE, REFUSED, SKIPPED, ERROR)}
    parts = [f"{counts[DONE]} {payload['done_word']}"]
    parts += [f"{counts[s]} {s}" for s in (REFUSED, SKIPPED, ERROR) if counts[s]]
    opts = Order._meta
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "app_label": opts.app_label,
        "title": f"{payload['label']}: results",
        "subtitle": None,
        "payload": payload,
        "rows": rows,
        "counts": counts,
        "summary": f"{len(rows)} order{'s' if len(rows) != 1 else ''}: " + ", ".join(parts) + ".",
        "back_url": payload.get("back") or reverse("admin:sales_order_changelist"),
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/sales/order/mass/result.html", context)


# ---------------------------------------------------------------------------- the Django admin actions


def admin_action(action: MassAction):
    def run(modeladmin, request, queryset):
        return execute(modeladmin, request, queryset, action)

    run.__name__ = f"mass_{action.key}"
    return admin.action(description=action.description)(run)


@admin.action(description="Print invoices of selected orders (one PDF)")
def print_invoices(modeladmin, request, queryset):
    from sales.pdf import invoices_pdf
    from sales.selectors import invoice_queryset

    if not request.user.has_perm("sales.view_invoice"):
        messages.error(request, "You do not have the permission to view invoices.")
        return None
    ids = [t.id for t in selected_targets(queryset)]
    if len(ids) > MASS_LIMIT:
        too_many(request, len(ids))
        return None
    position = {oid: n for n, oid in enumerate(ids)}
    invoices = sorted(invoice_queryset().select_related("order__pickup_location")
                      .defer("order__metadata", "order__extra", "order__source_document")
                      .filter(order_id__in=ids), key=lambda inv: (position[inv.order_id], inv.id))
    if not invoices:
        messages.warning(request, "None of the selected orders has an invoice: nothing to print.")
        return None
    return _pdf_response(invoices_pdf(invoices), f"invoices-{timezone.localdate():%Y-%m-%d}.pdf")


@admin.action(description="Print packing slips of selected orders (one PDF)")
def print_packing_slips(modeladmin, request, queryset):
    from sales.packing import slips_for_orders
    from sales.pdf import packing_slips_pdf

    ids = [t.id for t in selected_targets(queryset)]
    if len(ids) > MASS_LIMIT:
        too_many(request, len(ids))
        return None
    slips, _nothing = slips_for_orders(ids)
    if not slips:
        messages.warning(request, "None of the selected orders has anything to ship or any shipment: nothing to print.")
        return None
    return _pdf_response(packing_slips_pdf(slips), f"packing-slips-{timezone.localdate():%Y-%m-%d}.pdf")


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
