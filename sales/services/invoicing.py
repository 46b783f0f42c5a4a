"""Create Invoice (SPEC §5): records a payment collected for some or all of the order."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction

from accounts.models import User
from config.money import ZERO
from sales import status as rules
from sales.errors import OrderNotInvoiceable, PaymentMethodNotInvoiceable
from sales.events import event_invoiced, events_scope
from sales.locks import order_items_lock, order_lock
from sales.models import Invoice, InvoiceItem, Order, OrderItem, Payment
from sales.services.common import (
    LineAmounts,
    LineQty,
    amounts_for_billing,
    is_gateway,
    line_amounts,
    lines_data,
    lines_resolve,
    order_refresh_state,
    quantities_within,
    sums,
)
from sales.services.counters import revenue_record
from sales.services.emails import email_after_commit
from sales.services.holding import hold_check
from sales.services.numbering import number_next


@dataclass(frozen=True)
class InvoicePlan:
    lines: list[LineAmounts]
    shipping: Decimal

    @property
    def totals(self) -> dict[str, Decimal]:
        subtotal, tax, discount = sums(self.lines)
        return {"subtotal": subtotal, "tax_total": tax, "discount_total": discount, "shipping_total": self.shipping,
                "grand_total": subtotal - discount + tax + self.shipping}


def invoice_plan(order: Order, items: Sequence[OrderItem], lines: list[LineQty] | None, *,
                 skip_gateway_check: bool = False, skip_hold_check: bool = False) -> InvoicePlan:
    """Every check of Create Invoice, in SPEC order, and what it would bill. Writes nothing."""
    wanted = lines_resolve(items, lines)
    if (blocked := rules.blocked_reason("invoice", order.status)) is not None:
        raise OrderNotInvoiceable(f"Order #{order.number} cannot be invoiced: {blocked}.")
    if is_gateway(order) and not skip_gateway_check:
        raise PaymentMethodNotInvoiceable(
            f"Order #{order.number} is paid with {order.payment_method_title or order.payment_method_code}: the "
            f"gateway invoices it when it captures the payment; staff cannot invoice it.")
    if not any(i.qty_to_invoice > 0 for i in items):
        raise OrderNotInvoiceable(f"Order #{order.number} has nothing left to invoice.")
    if not skip_hold_check:  # a gateway capture invoices a held order (SPEC §12)
        hold_check(order, "invoice")
    if wanted is None:
        wanted = {i.id: i.qty_to_invoice for i in items if i.qty_to_invoice > 0}
    by_id = {i.id: i for i in items}
    quantities_within(wanted, by_id, lambda i: i.qty_to_invoice, doing="to invoice")
    plan_lines = [line_amounts(by_id[iid], q, amounts_for_billing(by_id[iid], q)) for iid, q in wanted.items() if q > 0]
    if not plan_lines:
        raise OrderNotInvoiceable("Nothing to invoice: every quantity given is 0.")
    shipping = order.shipping_total if order.shipping_invoiced == ZERO and not order.invoices.exists() else ZERO
    return InvoicePlan(lines=plan_lines, shipping=shipping)


def invoice_count(order: Order, items: Sequence[OrderItem], plan: InvoicePlan) -> None:
    """What the planned invoice adds to the order and its lines, in memory (the caller saves them):
    ``invoice_apply``'s arithmetic, which seed_demo's planned orders take too."""
    by_id = {i.id: i for i in items}
    for line in plan.lines:
        item = by_id[line.order_item_id]
        item.qty_invoiced += line.quantity
        item.subtotal_invoiced += line.subtotal
        item.tax_invoiced += line.tax_amount
        item.discount_invoiced += line.discount_amount
    order.total_invoiced += plan.totals["grand_total"]
    order.shipping_invoiced += plan.shipping
    order.payment_captured = True


def invoice_apply(order: Order, items: Sequence[OrderItem], plan: InvoicePlan, *, actor: User | None,
                  payment_method: str | None = None, payment_reference: str | None = None,
                  notify: bool = True, record_payment: bool = True,
                  created_at: datetime | None = None) -> Invoice:
    """Write the invoice the plan describes. Caller holds the order lock. ``record_payment=False``
    when the caller records the payments itself (an imported order's payments are its records)."""
    invoice_count(order, items, plan)
    by_id = {i.id: i for i in items}
    OrderItem.objects.bulk_update([by_id[x.order_item_id] for x in plan.lines],
                                  ["qty_invoiced", "subtotal_invoiced", "tax_invoiced", "discount_invoiced"])
    totals = plan.totals
    order_refresh_state(order, items)
    order.save()
    # The number last (sales.services.numbering): only the invoice, its lines, its payment and its
    # event, which need the invoice, follow it.
    invoice = Invoice.objects.create(order=order, number=number_next("invoice"), created_by=actor, state="paid",
                                     **totals, **({"created_at": created_at} if created_at is not None else {}))
    revenue_record(order, created_at=invoice.created_at, amount=invoice.grand_total)
    InvoiceItem.objects.bulk_create([
        InvoiceItem(invoice=invoice, order_item_id=x.order_item_id, sku=x.sku, name=x.name, quantity=x.quantity,
                    price=x.price, subtotal=x.subtotal, tax_amount=x.tax_amount, discount_amount=x.discount_amount,
                    total=x.total) for x in plan.lines])
    if record_payment:
        Payment.objects.create(order=order, method=payment_method or order.payment_method_code,
                               amount=totals["grand_total"], state="captured",
                               reference=payment_reference or str(uuid.uuid4()))
    event_invoiced(order, invoice, actor, items=lines_data(plan.lines))
    if notify:
        email_after_commit(order_id=order.id, kind="invoice", document_number=invoice.number,
                           amount=str(totals["grand_total"]))
    return invoice


def invoice_create(*, order_id: int, items: list[LineQty] | None, actor: User | None) -> Invoice:
    """Invoice the given lines (None = everything left). One transaction, order row locked."""
    with transaction.atomic(), events_scope():
        order = order_lock(order_id)
        order_items = order_items_lock(order)
        plan = invoice_plan(order, order_items, items)
        return invoice_apply(order, order_items, plan, actor=actor)
