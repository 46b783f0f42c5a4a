"""The import's two writers: ``order_import`` (one document, through the lifecycle services and
the ORM, in its own transaction) and ``orders_import_bulk`` (many planned documents, through the
shared raw bulk writer, ``sales.importing.bulk``). Both write exactly the same rows; the bulk
path builds the paid invoice and the shipments in memory with the services' own amount rules
(``amounts_for_billing``, ``amounts_for_shipment``, ``sums``) and the events' typed payload
builders (``sales.events``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.models import User
from catalog.models import InventorySource, Product
from catalog.services.stock import stock_reserve, stock_take
from config.errors import DomainError
from config.money import ZERO
from customers.models import Customer
from customers.services.customers import customer_get_or_create_by_email
from sales.events import event_imported, events_record_bulk, events_scope, imported_data, invoiced_data, shipped_data
from sales.importing.bulk import BulkTable, BulkWriter, JsonText, Row, bulk_written, document_item_rows, writer_for
from sales.importing.errors import DuplicateReference
from sales.importing.lookups import ImportLookups
from sales.importing.plan import ImportPlan, ShipmentPlanned, import_plan
from sales.importing.stock import stock_verdicts
from sales.models import (
    EventType,
    Invoice,
    InvoiceItem,
    Order,
    OrderComment,
    OrderEvent,
    OrderItem,
    OrderStatus,
    Payment,
    Shipment,
    ShipmentItem,
)
from sales.services import counters
from sales.services.common import (
    LineAmounts,
    LineQty,
    amounts_for_billing,
    amounts_for_shipment,
    line_amounts,
    lines_data,
    order_refresh_state,
    sums,
)
from sales.services.emails import email_after_commit
from sales.services.invoicing import InvoicePlan, invoice_apply, invoice_plan
from sales.services.numbering import number_next, numbers_reserve
from sales.services.placing import checkout_url_for
from sales.services.shipping import shipment_apply, shipment_plan

MODELS = (Order, OrderItem, OrderEvent, Payment, OrderComment, Invoice, InvoiceItem, Shipment, ShipmentItem)

# --------------------------------------------------------------------------- one document


def order_import(*, document: dict[str, Any], validated: dict[str, Any], actor: User | None) -> Order:
    """Import one document (SPEC §7.2) in one transaction. ``validated`` is the document's shape
    as the caller checked it (OrderImportSerializer's validated data); ``document`` is kept as sent."""
    data = validated
    try:
        with transaction.atomic(), events_scope():
            lookups = ImportLookups()
            lookups.prefetch([data])
            plan = import_plan(data, document, lookups, actor=actor, now=timezone.now())
            return _write_one(plan, actor=actor, source_id=lookups.default_source.id if lookups.default_source
                              else None)
    except IntegrityError:
        if Order.objects.filter(reference=data["reference"]).exists():
            raise DuplicateReference(f"An order with reference {data['reference']!r} has already been imported.",
                                     field="reference") from None
        raise


def _write_one(plan: ImportPlan, *, actor: User | None, source_id: int | None) -> Order:
    customer_id = plan.customer_id
    if customer_id is None and plan.new_customer is not None:
        email, first, last = plan.new_customer
        customer_id = customer_get_or_create_by_email(email=email, first_name=first, last_name=last).id
    if plan.reserve or plan.ship:
        products, (refused,) = stock_verdicts([plan], source_id)
        if refused is not None:
            raise refused
        stock_reserve(quantities=plan.reserve, locked=products)
    order = Order.objects.create(number=number_next("order"), customer_id=customer_id, created_by=actor,
                                 **plan.order)
    items = OrderItem.objects.bulk_create([OrderItem(order=order, **i.fields()) for i in plan.items])
    event_imported(order, actor, summary=plan.event)
    Payment.objects.bulk_create([Payment(order=order, method=p["method"], amount=p["amount"], state=p["state"],
                                         reference=p["reference"], created_at=plan.created_at)
                                 for p in plan.payments])
    OrderComment.objects.bulk_create([OrderComment(order=order, **c) for c in plan.comments])
    order.status = OrderStatus.PENDING  # documents are written as on a live order; the imported status returns below
    if plan.invoice:
        invoice = invoice_apply(order, items, invoice_plan(order, items, None, skip_gateway_check=True), actor=actor,
                                notify=False, record_payment=False,
                                created_at=plan.created_at)  # the revenue rollup counts it on its own day
        Invoice.objects.filter(id=invoice.id).update(created_at=plan.created_at)
    for s in plan.shipments:
        _ship_one(order, items, s, actor=actor, source_id=source_id, take_stock=plan.buy_items)
    order_refresh_state(order, items)
    order.status = plan.status  # the imported status stands until the next action recomputes it
    order.save()
    counters.order_imported(order, items)  # status counts and the day's rollups
    if plan.notify:
        email_after_commit(order_id=order.id, kind="order_placed", checkout_url=checkout_url_for(order))
    return order


def _ship_one(order: Order, items: list[OrderItem], s: ShipmentPlanned, *, actor: User | None,
              source_id: int | None, take_stock: bool) -> None:
    lines = None if s.lines is None else [LineQty(order_item_id=items[pos].id, quantity=q) for pos, q in s.lines]
    try:
        splan = shipment_plan(order, items, lines, source_id)
    except DomainError as exc:  # the planner checked these; point any refusal at the fulfillment
        exc.field = f"fulfillments.{s.index}"
        exc.errors = [{"field": exc.field, "code": exc.code, "message": exc.message}]
        raise
    shipment = shipment_apply(order, items, splan, actor=actor, carrier_title=s.carrier_title,
                              track_number=s.track_number, notify=False, take_stock=take_stock)
    Shipment.objects.filter(id=shipment.id).update(created_at=s.created_at)


# --------------------------------------------------------------------------- many documents


Pair = tuple[SimpleNamespace, LineAmounts]  # an item row (its id once written) and a document line of it


@dataclass
class _Memory:
    """One order as its rows will be written (namespaces: the services' pure rules read them like
    models), with the documents the import gives it."""

    position: int
    plan: ImportPlan
    order: SimpleNamespace
    items: list[SimpleNamespace]
    invoice: list[Pair] | None = None
    shipments: list[tuple[ShipmentPlanned, list[Pair]]] = field(default_factory=list)


def orders_import_bulk(plans: Sequence[ImportPlan], *, actor: User | None,
                       lookups: ImportLookups) -> list[int | DomainError]:
    """Write many planned documents with multi-row inserts, producing the same rows as
    ``order_import`` would one by one, in order (orders, lines, events, payments, comments,
    the paid invoice, shipments, stock). The caller holds the transaction. Returns, for each
    plan, the new order's id — or the 409 insufficient_stock that refuses it, exactly as if
    the documents had been imported one after another.

    The rows are built in memory before the stock rows are locked: what runs under the locks
    (which another import of the same products waits for, e.g. the other chunks of an import
    job) is the verdicts, the numbers and the writes."""
    writer = writer_for(MODELS)
    tables = writer.tables
    now = timezone.now()
    actor_id = actor.pk if actor is not None and actor.pk else None
    memories = _in_memory(plans, tables, now, actor_id)
    results: list[int | DomainError] = [0] * len(plans)
    products: dict[int, Product] = {}
    source = lookups.default_source
    if any(p.reserve or p.ship for p in plans):
        products, verdicts = stock_verdicts(plans, source.id if source else None)
        for n, refused in enumerate(verdicts):
            if refused is not None:
                results[n] = refused
    accepted = [n for n, r in enumerate(results) if not isinstance(r, DomainError)]
    ids = _write_bulk([memories[n] for n in accepted], writer, now=now, actor_id=actor_id, source=source,
                      products=products)
    for n, order_id in zip(accepted, ids, strict=True):
        results[n] = order_id
    return results


def _in_memory(plans: Sequence[ImportPlan], tables: dict[type, BulkTable], now: datetime,
               actor_id: int | None) -> list[_Memory]:
    """Each plan's order and lines as rows, with the paid invoice and the shipments applied to them
    as ``invoice_apply`` and ``shipment_apply`` would (numbers and new customers come when written)."""
    order_defaults, item_defaults = tables[Order].defaults(now), tables[OrderItem].defaults(now)
    out = []
    for n, plan in enumerate(plans):
        order = SimpleNamespace(id=None, **(order_defaults | plan.order))
        order.source_document = JsonText(plan.source_json)
        order.number, order.customer_id, order.created_by_id = None, plan.customer_id, actor_id
        order.status = OrderStatus.PENDING.value
        memory = _Memory(n, plan, order, [SimpleNamespace(id=None, **(item_defaults | i.fields()))
                                                  for i in plan.items])
        if plan.invoice:
            memory.invoice = _invoice_in_memory(order, memory.items)
        shipped: dict[int, tuple[Decimal, Decimal, Decimal]] = {}
        for s in plan.shipments:
            memory.shipments.append((s, _shipment_in_memory(memory.items, s, shipped)))
        order_refresh_state(cast(Order, order), cast(list[OrderItem], memory.items))
        order.status = plan.status
        order.work_left = counters.work_left(memory.items)  # bulk_written then skips checking it
        out.append(memory)
    return out


def _write_bulk(orders: list[_Memory], writer: BulkWriter, *, now: datetime, actor_id: int | None,
                source: InventorySource | None, products: dict[int, Product]) -> list[int]:
    if not orders:
        return []
    tables = writer.tables
    plans = [m.plan for m in orders]
    _customers_bulk(plans)
    for m, number in zip(orders, numbers_reserve("order", len(orders)), strict=True):
        m.order.number, m.order.customer_id = number, m.plan.customer_id
    with writer.parents_locked():  # the rows' foreign keys checked per insert, not per row at commit
        order_ids = tables[Order].insert_rows([vars(m.order) for m in orders], returning=True, now=now)
        flat_items = [(oid, item) for oid, m in zip(order_ids, orders, strict=True) for item in m.items]
        for order_id, item in flat_items:
            item.order_id = order_id
        tables[OrderItem].insert_rows([vars(item) for _, item in flat_items], returning=True, now=now)
        tables[Payment].insert_rows([
            {"order_id": m.order.id, "method": p["method"], "amount": p["amount"], "state": p["state"],
             "reference": p["reference"], "created_at": m.plan.created_at}
            for m in orders for p in m.plan.payments], now=now)
        tables[OrderComment].insert_rows([{"order_id": m.order.id, **c} for m in orders for c in m.plan.comments],
                                         now=now)
        events = [{"order_id": m.order.id, "type": EventType.IMPORTED.value, "actor_id": actor_id,
                   "data": imported_data(m.order.number, m.plan.event)} for m in orders]
        invoiced = _invoices_bulk(orders, tables, now, actor_id)
        later = [(position, event) for position, event, _ in invoiced] + _shipments_bulk(orders, tables, now,
                                                                                          actor_id, source)
        later.sort(key=lambda x: x[0])  # stable: per order, the invoice before its shipments
        # The events' sinks (webhooks) write when the events scope ends, after this block: with their triggers.
        events_record_bulk(events + [e for _, e in later],
                           insert=lambda rows: tables[OrderEvent].insert_rows(rows, returning=True, now=now))
    _stock_bulk(plans, source, products)
    for m in orders:
        if m.plan.notify:
            email_after_commit(order_id=m.order.id, kind="order_placed",
                               checkout_url=checkout_url_for(cast(Order, m.order)))
    bulk_written(order_ids=order_ids, written=([(m.order, m.items) for m in orders],
                                               [revenue for _, _, revenue in invoiced]))
    return order_ids


def _written(pairs: list[Pair]) -> list[LineAmounts]:
    """Document lines with the ids their items got when written."""
    return [LineAmounts(order_item_id=item.id, sku=line.sku, name=line.name, quantity=line.quantity, price=line.price,
                        subtotal=line.subtotal, tax_amount=line.tax_amount, discount_amount=line.discount_amount)
            for item, line in pairs]


def _invoices_bulk(orders: list[_Memory], tables: dict[type, BulkTable], now: datetime,
                   actor_id: int | None) -> list[tuple[int, Row, tuple[datetime, Decimal, Decimal]]]:
    """The paid invoices and their lines; their ``invoiced`` events, by order position, with each
    invoice's (created_at, grand_total, the order's exchange rate) for the revenue rollup."""
    invoiced = [(m, _written(m.invoice)) for m in orders if m.invoice is not None]
    if not invoiced:
        return []
    numbers = numbers_reserve("invoice", len(invoiced))
    rows = [{"order_id": m.order.id, "number": number, "created_by_id": actor_id, "state": "paid",
             "created_at": m.plan.created_at, **InvoicePlan(lines=lines, shipping=m.order.shipping_total).totals}
            for (m, lines), number in zip(invoiced, numbers, strict=True)]
    ids = tables[Invoice].insert_rows(rows, returning=True, now=now)
    tables[InvoiceItem].insert_rows([r for doc_id, (_, lines) in zip(ids, invoiced, strict=True)
                                     for r in document_item_rows("invoice_id", doc_id, lines)], now=now)
    return [(m.position, {"order_id": m.order.id, "type": EventType.INVOICED.value, "actor_id": actor_id,
                          "data": invoiced_data(invoice_id=doc_id, number=row["number"],
                                                grand_total=row["grand_total"], items=lines_data(lines))},
             (row["created_at"], row["grand_total"], m.order.exchange_rate))
            for doc_id, row, (m, lines) in zip(ids, rows, invoiced, strict=True)]


def _shipments_bulk(orders: list[_Memory], tables: dict[type, BulkTable], now: datetime, actor_id: int | None,
                    source: InventorySource | None) -> list[tuple[int, Row]]:
    """The shipments and their lines; their ``shipped`` events, by order position."""
    shipped = [(m, s, _written(pairs)) for m in orders for s, pairs in m.shipments]
    if not shipped:
        return []
    assert source is not None  # the planner refuses shipments without the default source
    numbers = numbers_reserve("shipment", len(shipped))
    rows = []
    for (m, s, lines), number in zip(shipped, numbers, strict=True):
        subtotal, tax, discount = sums(lines)
        rows.append({"order_id": m.order.id, "number": number, "created_by_id": actor_id,
                     "carrier_title": s.carrier_title, "track_number": s.track_number,
                     "inventory_source_id": source.id, "total_qty": sum(x.quantity for x in lines),
                     "created_at": s.created_at, "subtotal": subtotal, "tax_total": tax, "discount_total": discount,
                     "shipping_total": ZERO, "grand_total": subtotal - discount + tax})
    ids = tables[Shipment].insert_rows(rows, returning=True, now=now)
    tables[ShipmentItem].insert_rows([r for doc_id, (_, _, lines) in zip(ids, shipped, strict=True)
                                      for r in document_item_rows("shipment_id", doc_id, lines)], now=now)
    return [(m.position, {"order_id": m.order.id, "type": EventType.SHIPPED.value, "actor_id": actor_id,
                          "data": shipped_data(shipment_id=doc_id, number=row["number"], source_id=source.id,
                                               source_code=source.code, total_qty=row["total_qty"],
                                               carrier_title=row["carrier_title"], track_number=row["track_number"],
                                               items=lines_data(lines))})
            for doc_id, row, (m, _, lines) in zip(ids, rows, shipped, strict=True)]


def _stock_bulk(plans: Sequence[ImportPlan], source: InventorySource | None, products: dict[int, Product]) -> None:
    reserve: dict[int, int] = {}
    ship: dict[int, int] = {}
    for plan in plans:
        for pid, q in plan.reserve.items():
            reserve[pid] = reserve.get(pid, 0) + q
        for pid, q in plan.ship.items():
            ship[pid] = ship.get(pid, 0) + q
            reserve[pid] = reserve.get(pid, 0) - q  # shipping releases what it takes
    if reserve:
        stock_reserve(quantities={pid: q for pid, q in reserve.items() if q > 0}, locked=products)
    if ship and source is not None:
        stock_take(source_id=source.id, quantities=ship, release_reservation=False)


def _customers_bulk(plans: Sequence[ImportPlan]) -> None:
    """Find or create the documents' new customers by e-mail (the first document names them)."""
    wanted: dict[str, tuple[str, str, str]] = {}
    for plan in plans:
        if plan.customer_id is None and plan.new_customer is not None:
            wanted.setdefault(plan.new_customer[0], plan.new_customer)
    if not wanted:
        return
    def existing() -> dict[str, Customer]:
        return {c.email_lower: c for c in Customer.objects.annotate(email_lower=Lower("email"))
                .filter(email_lower__in=list(wanted))}

    found = existing()
    missing = [Customer(email=e, first_name=f, last_name=la) for e, (_, f, la) in sorted(wanted.items())
               if e not in found]
    if missing:
        # Another import (a chunk of the same job on another worker) may be creating the same customer:
        # its row wins and is read back. E-mail order, so two such inserts never wait on each other in a cycle.
        Customer.objects.bulk_create(missing, ignore_conflicts=True)
        found = existing()
    for plan in plans:
        if plan.customer_id is None and plan.new_customer is not None:
            plan.customer_id = found[plan.new_customer[0]].id


def _invoice_in_memory(order: SimpleNamespace, items: list[SimpleNamespace]) -> list[Pair]:
    """What invoice_plan + invoice_apply do to a fresh order: every line whole (``amounts_for_billing``:
    the invoice completing a line takes what is left of it), and the shipping."""
    pairs: list[Pair] = []
    for item in items:
        qty = item.qty_ordered - item.qty_invoiced - item.qty_canceled
        if qty <= 0:
            continue
        line = line_amounts(cast(OrderItem, item), qty, amounts_for_billing(cast(OrderItem, item), qty))
        item.qty_invoiced += qty
        item.subtotal_invoiced += line.subtotal
        item.tax_invoiced += line.tax_amount
        item.discount_invoiced += line.discount_amount
        pairs.append((item, line))
    totals = InvoicePlan(lines=[line for _, line in pairs], shipping=order.shipping_total).totals
    order.total_invoiced += totals["grand_total"]
    order.shipping_invoiced += order.shipping_total
    order.payment_captured = True
    return pairs


def _shipment_in_memory(items: list[SimpleNamespace], s: ShipmentPlanned,
                        shipped: dict[int, tuple[Decimal, Decimal, Decimal]]) -> list[Pair]:
    """What shipment_plan + shipment_apply do: each line's amounts pro rata to the units shipped, the
    shipment completing a line taking what is left (``amounts_for_shipment``). ``shipped`` (item
    position → amounts the order's earlier shipments took) is kept apart: the item namespaces are
    written as rows."""
    pairs: list[Pair] = []
    for pos, qty in s.lines or ():
        item = items[pos]
        before = shipped.get(pos, (ZERO, ZERO, ZERO))
        line = line_amounts(cast(OrderItem, item), qty, amounts_for_shipment(cast(OrderItem, item), qty, before))
        pairs.append((item, line))
        item.qty_shipped += qty
        shipped[pos] = (before[0] + line.subtotal, before[1] + line.tax_amount, before[2] + line.discount_amount)
    return pairs


__all__ = ["order_import", "orders_import_bulk"]
