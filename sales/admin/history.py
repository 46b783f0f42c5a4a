"""The order page's history as sentences (SPEC §14): "Invoice #200000012 created by Ada Admin:
2 items, 21.00 USD", with links to the documents — never the event's raw data.

Each event type has one writer below; ``event_sentence`` picks it by the event's type and hands
it the event's ``data`` (what the service recorded: the typed recorders and their ``*_data``
builders in sales/events.py). A type without a writer (one added later) still reads as a sentence: its
label, and who did it. Reading the data is defensive: old rows or imported history may lack a
key, and a sentence then simply says less.

Nothing here queries the database: the actor comes with the event (select_related), the
documents' links are built from the ids the event carries, a shipment's source name comes from
the order page's shipments (already loaded), and the currency is the order's.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from sales.formatting import format_money, person
from sales.models import EventType, Order, OrderEvent

DOC_URLS = {"invoice": "admin:sales_invoice_change", "shipment": "admin:sales_shipment_change",
            "refund": "admin:sales_refund_change"}
DOC_PERMS = {"invoice": "sales.view_invoice", "shipment": "sales.view_shipment", "refund": "sales.view_refund"}


class Sentence:
    """What one writer gets: the event, the order and what the user may open."""

    def __init__(self, event: OrderEvent, order: Order, user, shipments: dict | None = None,
                 invoices: dict | None = None) -> None:
        self.event = event
        self.order = order
        self.user = user
        self.shipments = shipments or {}
        self.invoices = invoices or {}
        self.data = event.data if isinstance(event.data, dict) else {}

    def by(self) -> SafeString:
        name = person(self.event.actor) if self.event.actor_id else ""
        return format_html(" by {}", name) if name else mark_safe("")

    def money(self, key: str) -> str | None:
        value = self.data.get(key)
        try:
            return format_money(Decimal(str(value)), self.order.currency) if value not in (None, "") else None
        except (InvalidOperation, ValueError):
            return None

    def units(self) -> int | None:
        items = self.data.get("items")
        if not isinstance(items, list):
            return None
        try:
            return sum(int(x.get("quantity") or 0) for x in items if isinstance(x, dict))
        except (TypeError, ValueError):
            return None

    def doc(self, kind: str, id_key: str) -> SafeString:
        """"Invoice #N" linked to the document's page when the user may open it."""
        number = self.data.get("number")
        label = f"{kind.capitalize()} #{number}" if number else kind.capitalize()
        doc_id = self.data.get(id_key)
        if isinstance(doc_id, int) and self.user is not None and self.user.has_perm(DOC_PERMS[kind]):
            return format_html('<a href="{}" class="history-doc">{}</a>', reverse(DOC_URLS[kind], args=[doc_id]),
                               label)
        return format_html("{}", label)


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _details(*parts) -> SafeString:
    """": a, b, c" of the parts that are not empty, or nothing."""
    kept = [p for p in parts if p]
    if not kept:
        return mark_safe("")
    return format_html(": {}", format_html_join(", ", "{}", ((p,) for p in kept)))


def _placed(s: Sentence) -> SafeString:
    lines = s.data.get("items")
    return format_html("Order placed{}{}", s.by(), _details(
        plural(lines, "line") if isinstance(lines, int) else None, s.money("grand_total")))


def _created(s: Sentence) -> SafeString:
    cost = s.money("cost")
    return format_html("Order created through the API{}{}", s.by(),
                       _details(f"a custom amount of {cost}" if cost else None))


def _imported(s: Sentence) -> SafeString:
    reference = s.data.get("reference")
    lines = s.data.get("items")
    shipments = s.data.get("shipments")
    return format_html("Order imported{}{}{}", format_html(" from {}", reference) if reference else "", s.by(),
                       _details(plural(lines, "line") if isinstance(lines, int) else None, s.money("grand_total"),
                                "invoiced" if s.data.get("invoiced") else None,
                                plural(shipments, "shipment") if isinstance(shipments, int) and shipments else None))


def _invoiced(s: Sentence) -> SafeString:
    units = s.units()
    return format_html("{} created{}{}", s.doc("invoice", "invoice_id"), s.by(),
                       _details(plural(units, "item") if units is not None else None, s.money("grand_total")))


def _shipped(s: Sentence) -> SafeString:
    units = s.data.get("total_qty")
    if not isinstance(units, int):
        units = s.units()
    shipment = s.shipments.get(s.data.get("shipment_id"))
    source = shipment.inventory_source.name if shipment is not None else s.data.get("inventory_source")
    carrier = " ".join(str(x) for x in (s.data.get("carrier_title"), s.data.get("track_number")) if x)
    return format_html("{} created{}{}", s.doc("shipment", "shipment_id"), s.by(), _details(
        plural(units, "item") if units is not None else None,
        f"from {source}" if source else None, carrier or None))


def _refunded(s: Sentence) -> SafeString:
    units = s.units()
    shipping = s.money("shipping_amount") if s.data.get("shipping_amount") not in (None, "0", "0.00") else None
    refund_adj = s.money("adjustment_refund") if s.data.get("adjustment_refund") not in (None, "0", "0.00") else None
    fee = s.money("adjustment_fee") if s.data.get("adjustment_fee") not in (None, "0", "0.00") else None
    return format_html("{} created{}{}", s.doc("refund", "refund_id"), s.by(), _details(
        plural(units, "item") if units else None, s.money("grand_total"),
        f"shipping {shipping}" if shipping else None, f"adjustment {refund_adj}" if refund_adj else None,
        f"fee {fee}" if fee else None, "returned to stock" if s.data.get("return_to_stock") else None))


def _canceled(s: Sentence) -> SafeString:
    units = s.units()
    what = "Order canceled" if s.data.get("fully") else "What was left canceled"
    if s.data.get("reason") == "payment_expired":
        what += ": payment not received in time"
    return format_html("{}{}{}", what, s.by(), _details(plural(units, "item") if units else None,
                                                           s.money("amount")))


def _commented(s: Sentence) -> SafeString:
    return format_html("Comment added{}{}", s.by(),
                       mark_safe(" (customer notified)") if s.data.get("customer_notified") else "")


def _edited(s: Sentence) -> SafeString:
    def count(key: str) -> int:
        value = s.data.get(key)
        return len(value) if isinstance(value, list) else 0

    def units(key: str) -> int:
        value = s.data.get(key)
        if not isinstance(value, list):
            return 0
        return sum(x.get("quantity") or 0 for x in value if isinstance(x, dict) and isinstance(x.get("quantity"), int))

    added, changed, removed, canceled = count("added"), count("changed"), count("removed"), units("canceled")
    coupon = s.data.get("coupon_removed")
    before, after = s.money("grand_total_before"), s.money("grand_total_after") or s.money("grand_total")
    total = (f"grand total {before} → {after}" if before and before != after
             else f"grand total now {after}" if after else None)
    return format_html("Items edited{}{}", s.by(), _details(
        f"{plural(added, 'line')} added" if added else None, f"{plural(changed, 'line')} changed" if changed else None,
        f"{plural(removed, 'line')} removed" if removed else None,
        f"{plural(canceled, 'item')} canceled" if canceled else None,
        f"coupon {coupon} removed" if coupon else None, total))


_DETAIL_LABELS = {"billing_address": "billing address", "shipping_address": "shipping address",
                  "staff_note": "staff note"}


def _details_changed(s: Sentence) -> SafeString:
    fields = s.data.get("fields")
    names = [_DETAIL_LABELS.get(f, str(f)) for f in fields] if isinstance(fields, list) else []
    return format_html("{} changed{}", (", ".join(names) or "Details").capitalize(), s.by())


def _archived(s: Sentence) -> SafeString:
    return format_html("Archived{}{}", s.by(), mark_safe(" (in bulk)") if s.data.get("bulk") else "")


def _restored(s: Sentence) -> SafeString:
    return format_html("Restored{}{}", s.by(), mark_safe(" (in bulk)") if s.data.get("bulk") else "")


def _fraud_cleared(s: Sentence) -> SafeString:
    status = s.data.get("status_after")
    return format_html("Fraud flag cleared{}{}", s.by(), _details(f"now {status.replace('_', ' ')}" if status else None))


def _held(s: Sentence) -> SafeString:
    reason = s.data.get("reason")
    return format_html("Put on hold{}{}", s.by(), _details(f"reason: {reason}" if reason else None))


def _hold_released(s: Sentence) -> SafeString:
    reason = s.data.get("reason")
    if s.data.get("automatic"):
        status = s.data.get("status")
        return format_html("Hold released{}{}", format_html(" as the order became {}", status.replace("_", " "))
                           if isinstance(status, str) else "", _details(f"it was held for: {reason}" if reason else None))
    return format_html("Hold released{}{}", s.by(), _details(f"it was held for: {reason}" if reason else None))


def _payment_captured(s: Sentence) -> SafeString:
    provider = s.data.get("provider")
    reference = s.data.get("reference")
    invoice_id = s.data.get("invoice_id")
    invoice = None
    if isinstance(invoice_id, int):
        link = Sentence(s.event, s.order, s.user)
        known = s.invoices.get(invoice_id)
        link.data = {"number": known.number if known is not None else None, "invoice_id": invoice_id}
        invoice = link.doc("invoice", "invoice_id")
    return format_html("Payment of {} captured{}{}{}", s.money("amount") or "?",
                       format_html(" by {}", provider) if provider else "",
                       format_html(" (reference {})", reference) if reference else "",
                       format_html(", {} issued", invoice) if invoice else "")


def _email_sent(s: Sentence) -> SafeString:
    subject = s.data.get("subject")
    to = s.data.get("to")
    return format_html("E-mail {}sent{}", format_html("“{}” ", subject) if subject else "",
                       format_html(" to {}", to) if to else "")


def _email_failed(s: Sentence) -> SafeString:
    subject = s.data.get("subject")
    to = s.data.get("to")
    attempts = s.data.get("attempts")
    return format_html("E-mail {}could not be sent{}{}", format_html("“{}” ", subject) if subject else "",
                       format_html(" to {}", to) if to else "",
                       format_html(" after {} attempts", attempts) if isinstance(attempts, int) else "")


WRITERS: dict[str, Callable[[Sentence], SafeString]] = {
    EventType.PLACED: _placed,
    EventType.CREATED: _created,
    EventType.IMPORTED: _imported,
    EventType.INVOICED: _invoiced,
    EventType.SHIPPED: _shipped,
    EventType.REFUNDED: _refunded,
    EventType.CANCELED: _canceled,
    EventType.COMMENTED: _commented,
    EventType.EDITED: _edited,
    EventType.DETAILS_CHANGED: _details_changed,
    EventType.ARCHIVED: _archived,
    EventType.RESTORED: _restored,
    EventType.FRAUD_CLEARED: _fraud_cleared,
    EventType.HELD: _held,
    EventType.HOLD_RELEASED: _hold_released,
    EventType.PAYMENT_CAPTURED: _payment_captured,
    EventType.EMAIL_SENT: _email_sent,
    EventType.EMAIL_FAILED: _email_failed,
}


def event_sentence(event: OrderEvent, order: Order, user, shipments: dict | None = None,
                   invoices: dict | None = None) -> SafeString:
    """``shipments`` / ``invoices``: id → the order's documents (already loaded), to name a shipment's
    source (the event keeps its code) and a captured payment's invoice; without them less is said."""
    sentence = Sentence(event, order, user, shipments, invoices)
    writer = WRITERS.get(event.type)
    if writer is None:
        label = event.get_type_display() if event.type in EventType.values else str(event.type).replace("_", " ")
        return format_html("{}{}", label[:1].upper() + label[1:], sentence.by())
    return writer(sentence)
