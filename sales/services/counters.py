"""Exact order counts and the dashboard's daily rollups, kept by the services (SPEC §5 count,
§14 dashboard, §15 scale). The one owner of ``OrderCounter``, ``SalesDay`` and ``Order.work_left``.

Counts. Every order is counted in one bucket (status, archived, held, to_invoice, to_ship;
``sales.models.counters.bucket_of``). Whoever changes one of those — or the lines, through
``sales.services.common.order_refresh_state`` — calls ``order_counted`` in the same transaction;
it moves the order from the bucket it was read in (``Order.from_db`` remembers it) to its bucket
now. New orders: ``order_added`` (placing, direct create), ``order_imported`` (one imported
document), ``orders_added`` (rows a bulk writer inserted, read back: seed_demo) and
``orders_added_written`` (the same from the values written: the bulk import). Bulk archive:
``orders_archived``.

Rollups (``SalesDay``, base-currency cents; day = created_at's date in settings.TIME_ZONE;
base(x) = ROUND_HALF_UP(x / order.exchange_rate, 2) per document / order / line):
``order_sales_record`` (an order's placed count, grand total and line deltas) and
``revenue_record`` (an invoice adds, a refund subtracts).

Writes go to one slot's row (the order id modulo SLOTS; a batch: its smallest id's) with
``INSERT … ON CONFLICT … DO UPDATE SET n = n + excluded.n`` (PostgreSQL and SQLite), rows
in key order so two writers never lock the same rows in opposite orders.

``counters_check`` recounts everything from the orders and documents; ``counters_repair``
rewrites what differs (``manage.py recount_order_counters``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BooleanField, Case, Count, Exists, ExpressionWrapper, F, OuterRef, Q, Sum, Value, When

from config.money import q2
from sales import status as rules
from sales.models import Invoice, Order, OrderCounter, OrderItem, Refund, SalesDay
from sales.models.counters import NOT_LOADED, SLOTS, WORK_INVOICE, WORK_SHIP, Bucket, bucket_of

# --------------------------------------------------------------------------- what an order is counted as


def work_left(items: Iterable[Any]) -> int:
    """Order.work_left from the lines: WORK_INVOICE when Σ qty_to_invoice > 0, WORK_SHIP when
    Σ qty_to_ship > 0 (each line's is ≥ 0, so "some line has some")."""
    items = list(items)
    return ((WORK_INVOICE if any(rules.qty_to_invoice(i) > 0 for i in items) else 0)
            | (WORK_SHIP if any(rules.qty_to_ship(i) > 0 for i in items) else 0))


def order_bucket(order: Order) -> Bucket | None:
    return bucket_of(order.status, order.archived_at is not None, order.held_at is not None, order.work_left)


def _bucket_in_db(order_id: int) -> Bucket | None:
    row = Order.objects.filter(id=order_id).values_list("status", "archived_at", "held_at", "work_left").first()
    if row is None:
        return None
    return bucket_of(row[0], row[1] is not None, row[2] is not None, row[3])


def order_counted(order: Order) -> None:
    """Move the order's count from the bucket it was counted in to the one its fields say now.
    Call in the transaction that writes the order (the caller holds its row lock)."""
    old = order._counted_as
    if old is NOT_LOADED:
        old = _bucket_in_db(order.id)
    new = order_bucket(order)
    if old != new:
        deltas: dict[Bucket, int] = {}
        if old is not None:
            deltas[old] = -1  # type: ignore[index]
        if new is not None:
            deltas[new] = deltas.get(new, 0) + 1
        _counts_add(deltas, slot=order.id % SLOTS)
    order._counted_as = new


def order_state_refreshed(order: Any, items: Sequence[Any]) -> None:
    """From order_refresh_state: set work_left from the lines and move the count. Stand-ins for
    rows (a bulk writer's namespaces, seed_demo's planned orders) are left alone: their writer
    counts the rows once inserted (``orders_added``); an unsaved Order is not counted."""
    if isinstance(order, Order):
        order.work_left = work_left(items)
        if order.pk is not None:
            order_counted(order)


# --------------------------------------------------------------------------- new orders


@dataclass(frozen=True)
class LineDelta:
    """A line's change for the product rollup: units ordered added (negative: removed) and its
    total before and after (0 for a line added / removed)."""

    product_id: int | None
    units: int
    total_before: Decimal
    total_after: Decimal


def order_added(order: Order, items: Sequence[OrderItem]) -> None:
    """A new order and its lines were just inserted (placing, direct create): count it, and add
    it to the day's orders and products."""
    fresh = work_left(items)
    if order.work_left != fresh:
        order.work_left = fresh
        Order.objects.filter(id=order.id).update(work_left=fresh)
    order._counted_as = None
    order_counted(order)
    order_sales_record(order, placed=True, grand_total_before=Decimal(0),
                       lines=[LineDelta(i.product_id, i.qty_ordered, Decimal(0), i.total) for i in items])


def order_imported(order: Order, items: Sequence[OrderItem]) -> None:
    """One imported document written (sales.services.importing, after its status is set and the
    order saved): its count moves to its imported status, and the day's orders and products."""
    order_counted(order)
    order_sales_record(order, placed=True, grand_total_before=Decimal(0),
                       lines=[LineDelta(i.product_id, i.qty_ordered, Decimal(0), i.total) for i in items])


def orders_added(order_ids: Sequence[int], *, work_left_written: bool = False) -> None:
    """Rows a bulk writer has inserted (orders with their lines and documents, in this
    transaction): set their work_left where it is not right, count them, add them to the rollups.
    ``work_left_written``: the writer put ``work_left(items)`` in every row (seed_demo, the bulk
    import), so PostgreSQL skips checking it against the lines (~40 % of the time here; the
    tests' recount still holds the rows to it). A fixed number of queries whatever the number
    of orders."""
    if not order_ids:
        return
    ids = list(order_ids)
    if connection.vendor == "postgresql":
        _orders_added_sql(ids, check_work_left=not work_left_written)
        return
    lines: dict[int, list[Any]] = defaultdict(list)
    sales: dict[tuple[date, int], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    orders = {o[0]: o for o in Order.objects.filter(id__in=ids).values_list(
        "id", "status", "archived_at", "held_at", "created_at", "exchange_rate", "grand_total", "work_left")}
    for row in (OrderItem.objects.filter(order_id__in=ids).values_list(
            "order_id", "product_id", "qty_ordered", "qty_invoiced", "qty_shipped", "qty_refunded", "qty_returned",
            "qty_canceled", "is_shippable", "total").iterator(chunk_size=5000)):
        item = _Qty(*row[2:9])
        lines[row[0]].append(item)
        if row[1] is not None:
            oid = row[0]
            cell = sales[(_day(orders[oid][4]), row[1])]
            cell[1] += row[2]
            cell[2] += _cents(row[9], orders[oid][5])
    by_value: dict[int, list[int]] = defaultdict(list)
    counts: dict[Bucket, int] = defaultdict(int)
    for oid, (_, status, archived_at, held_at, created_at, rate, grand_total, stored) in orders.items():
        value = work_left(lines.get(oid, ()))
        if stored != value:  # the writer did not set it (or not right): rewrite only those rows
            by_value[value].append(oid)
        bucket = bucket_of(status, archived_at is not None, held_at is not None, value)
        assert bucket is not None
        counts[bucket] += 1
        cell = sales[(_day(created_at), 0)]
        cell[0] += 1
        cell[2] += _cents(grand_total, rate)
    for value, value_ids in sorted(by_value.items()):
        Order.objects.filter(id__in=value_ids).update(work_left=value)
    for model, sign in ((Invoice, 1), (Refund, -1)):
        for created_at, total, rate in model.objects.filter(order_id__in=ids).values_list(
                "created_at", "grand_total", "order__exchange_rate"):
            sales[(_day(created_at), 0)][3] += sign * _cents(total, rate)
    slot = min(ids) % SLOTS  # a batch's slot: spread like single orders, and the same on a retry
    _counts_add(counts, slot=slot)
    _sales_add({k: tuple(v) for k, v in sales.items()}, slot=slot)  # type: ignore[misc]


def orders_added_written(orders: Sequence[tuple[Any, Sequence[Any]]],
                         invoices: Sequence[tuple[datetime, Decimal, Decimal]]) -> None:
    """``orders_added`` for rows a bulk writer has just inserted with ``work_left`` set, counted
    from the values it wrote instead of reading them back (the bulk import: five queries fewer a
    batch). ``orders``: (order row, its item rows), rows as namespaces or models with the columns'
    values as written (the order's id, status, archived_at, held_at, work_left, created_at,
    exchange_rate, grand_total; each item's product_id, qty_ordered, total); ``invoices``:
    (created_at, grand_total, the order's exchange_rate) of each invoice written with them. The
    tests hold both ways to ``counters_check``."""
    if not orders:
        return
    counts: dict[Bucket, int] = defaultdict(int)
    sales: dict[tuple[date, int], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for order, items in orders:
        bucket = bucket_of(order.status, order.archived_at is not None, order.held_at is not None, order.work_left)
        assert bucket is not None
        counts[bucket] += 1
        rate, day = order.exchange_rate, _day(order.created_at)
        cell = sales[(day, 0)]
        cell[0] += 1
        cell[2] += _cents(order.grand_total, rate)
        for item in items:
            if item.product_id is not None:
                cell = sales[(day, item.product_id)]
                cell[1] += item.qty_ordered
                cell[2] += _cents(item.total, rate)
    for created_at, grand_total, rate in invoices:
        sales[(_day(created_at), 0)][3] += _cents(grand_total, rate)
    slot = min(order.id for order, _ in orders) % SLOTS  # as orders_added: the batch's smallest id
    _counts_add(counts, slot=slot)
    _sales_add({k: (v[0], v[1], v[2], v[3]) for k, v in sales.items()}, slot=slot)


# PostgreSQL does the same set-wise (5,000 orders of a seed batch: ~0.1 s instead of ~0.5 s of
# Python). ROUND(numeric, 2) rounds half away from zero, which for these non-negative amounts is
# ROUND_HALF_UP, and numeric division is exact wherever a tie could be: the same cents as _cents.
_WORK_VALUE = """
  (CASE WHEN EXISTS (SELECT 1 FROM sales_orderitem i WHERE i.order_id = o.id
                     AND i.qty_ordered - i.qty_invoiced - i.qty_canceled > 0) THEN 1 ELSE 0 END)
  + (CASE WHEN EXISTS (SELECT 1 FROM sales_orderitem i WHERE i.order_id = o.id AND i.is_shippable
                       AND i.qty_ordered - i.qty_shipped - i.qty_refunded + i.qty_returned - i.qty_canceled > 0)
          THEN 2 ELSE 0 END)"""
# Only rows whose writer did not set work_left right are rewritten (a rewrite of a freshly copied
# row costs as much as its insert: every index of sales_order is written again).
_WORK_SQL = f"""
UPDATE sales_order o SET work_left = {_WORK_VALUE}
WHERE o.id = ANY(%(ids)s) AND o.work_left IS DISTINCT FROM {_WORK_VALUE}"""
_BUCKETS_SQL = """
SELECT status, archived_at IS NOT NULL, held_at IS NOT NULL, work_left, count(*) FROM sales_order
WHERE id = ANY(%(ids)s) GROUP BY 1, 2, 3, 4"""
_DAYS_SQL = """
SELECT (created_at AT TIME ZONE %(tz)s)::date, count(*), sum(round(grand_total / exchange_rate, 2) * 100)
FROM sales_order WHERE id = ANY(%(ids)s) GROUP BY 1"""
_PRODUCTS_SQL = """
SELECT (o.created_at AT TIME ZONE %(tz)s)::date, i.product_id, sum(i.qty_ordered),
       sum(round(i.total / o.exchange_rate, 2) * 100)
FROM sales_orderitem i JOIN sales_order o ON o.id = i.order_id
WHERE i.order_id = ANY(%(ids)s) AND o.id = ANY(%(ids)s) AND i.product_id IS NOT NULL GROUP BY 1, 2"""
_REVENUE_SQL = """
SELECT (d.created_at AT TIME ZONE %(tz)s)::date, sum(round(d.grand_total / o.exchange_rate, 2) * 100)
FROM {table} d JOIN sales_order o ON o.id = d.order_id WHERE d.order_id = ANY(%(ids)s) AND o.id = ANY(%(ids)s)
GROUP BY 1"""


def _orders_added_sql(ids: list[int], *, check_work_left: bool) -> None:
    params: dict[str, Any] = {"ids": ids, "tz": settings.TIME_ZONE}
    counts: dict[Bucket, int] = defaultdict(int)
    sales: dict[tuple[date, int], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    with connection.cursor() as cursor:
        if check_work_left:
            cursor.execute(_WORK_SQL, params)
        cursor.execute(_BUCKETS_SQL, params)
        for status, archived, held, value, n in cursor.fetchall():
            bucket = bucket_of(status, archived, held, value)
            assert bucket is not None
            counts[bucket] += n
        cursor.execute(_DAYS_SQL, params)
        for day, n, cents in cursor.fetchall():
            sales[(day, 0)][0] += n
            sales[(day, 0)][2] += int(cents)
        cursor.execute(_PRODUCTS_SQL, params)
        for day, pid, units, cents in cursor.fetchall():
            sales[(day, pid)][1] += int(units)
            sales[(day, pid)][2] += int(cents)
        for table, sign in (("sales_invoice", 1), ("sales_refund", -1)):
            cursor.execute(_REVENUE_SQL.format(table=table), params)
            for day, cents in cursor.fetchall():
                sales[(day, 0)][3] += sign * int(cents)
    slot = min(ids) % SLOTS
    _counts_add(counts, slot=slot)
    _sales_add({k: (v[0], v[1], v[2], v[3]) for k, v in sales.items()}, slot=slot)


@dataclass(frozen=True)
class _Qty:
    qty_ordered: int
    qty_invoiced: int
    qty_shipped: int
    qty_refunded: int
    qty_returned: int
    qty_canceled: int
    is_shippable: bool


def orders_archived(order_ids: Sequence[int], *, archived: bool) -> None:
    """A bulk archive (archived=True) or restore just updated these orders' archived_at (in this
    transaction, under their row locks): move their counts. Two queries."""
    if not order_ids:
        return
    deltas: dict[Bucket, int] = defaultdict(int)
    rows = (Order.objects.filter(id__in=list(order_ids)).order_by()
            .values_list("status", ExpressionWrapper(Q(held_at__isnull=False), output_field=BooleanField()),
                         "work_left").annotate(n=Count("id")))
    for status, held, value, n in rows:
        old, new = bucket_of(status, not archived, held, value), bucket_of(status, archived, held, value)
        if old is not None and new is not None:
            deltas[old] -= n
            deltas[new] += n
    _counts_add(deltas, slot=min(order_ids) % SLOTS)


# --------------------------------------------------------------------------- rollups


def _day(when: datetime) -> date:
    return when.astimezone(ZoneInfo(settings.TIME_ZONE)).date()


def base_amount(amount: Decimal, rate: Decimal) -> Decimal:
    """base(x) = ROUND_HALF_UP(x / exchange_rate, 2) (the dashboard's base currency)."""
    return q2(Decimal(amount) / Decimal(rate))


def _cents(amount: Decimal, rate: Decimal) -> int:
    return int(base_amount(amount, rate) * 100)


def order_sales_record(order: Order, *, placed: bool, grand_total_before: Decimal,
                       lines: Iterable[LineDelta]) -> None:
    """Add an order's change to its created day: ``placed`` counts it once (a new order);
    the grand total moves by base(grand_total) − base(grand_total_before); each line with a
    product moves its product's units and base(total_after) − base(total_before).
    For an edit (sales.services.editing): placed=False, the grand total before the edit, and
    one LineDelta per line added (units = qty, before 0), changed (units = new − old qty) or
    removed (units = −qty, after 0)."""
    rate, day = order.exchange_rate, _day(order.created_at)
    sales: dict[tuple[date, int], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    total = sales[(day, 0)]
    total[0] = 1 if placed else 0
    total[2] = _cents(order.grand_total, rate) - _cents(grand_total_before, rate)
    for line in lines:
        if line.product_id is None:
            continue
        cell = sales[(day, line.product_id)]
        cell[1] += line.units
        cell[2] += _cents(line.total_after, rate) - _cents(line.total_before, rate)
    _sales_add({k: tuple(v) for k, v in sales.items() if any(v)}, slot=order.id % SLOTS)  # type: ignore[misc]


def revenue_record(order: Order, *, created_at: datetime, amount: Decimal) -> None:
    """An invoice (amount = its grand total) or a refund (amount = −its grand total) created at
    ``created_at``: the day's revenue moves by ±base(|amount|)."""
    cents = _cents(abs(amount), order.exchange_rate)
    _sales_add({(_day(created_at), 0): (0, 0, 0, cents if amount >= 0 else -cents)}, slot=order.id % SLOTS)


# --------------------------------------------------------------------------- writes


def _upsert(model: type[OrderCounter] | type[SalesDay], keys: Sequence[str], sums: Sequence[str],
            rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    columns = [*keys, *sums]
    rows = sorted(rows)
    if connection.vendor == "postgresql" and len(rows) > 1:
        # One array per column: a batch's thousands of (day, product) cells are one short statement
        # for the driver to send, not thousands of placeholders to parse.
        by_column = {f.column: f for f in model._meta.concrete_fields}
        types = [by_column[c].db_type(connection) for c in columns]
        values = "SELECT * FROM unnest(" + ", ".join(f"%s::{t}[]" for t in types) + ")"
        params: list[Any] = [list(column) for column in zip(*rows, strict=True)]
    else:
        one = "(" + ", ".join(["%s"] * len(columns)) + ")"
        values = "VALUES " + ", ".join([one] * len(rows))
        params = [v for row in rows for v in row]
    sql = (f"INSERT INTO {table} ({', '.join(qn(c) for c in columns)}) {values} "
           f"ON CONFLICT ({', '.join(qn(k) for k in keys)}) DO UPDATE SET "
           + ", ".join(f"{qn(c)} = {table}.{qn(c)} + excluded.{qn(c)}" for c in sums))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _counts_add(deltas: Mapping[Bucket, int], *, slot: int) -> None:
    _upsert(OrderCounter, ("status", "archived", "held", "to_invoice", "to_ship", "slot"), ("n",),
            [(*bucket, slot, n) for bucket, n in deltas.items() if n])


SalesKey = tuple[date, int]
SalesCell = tuple[int, int, int, int]  # orders, units, amount (cents), revenue (cents)


def _sales_add(cells: Mapping[SalesKey, SalesCell], *, slot: int) -> None:
    """Product rows always go to slot 0 (SalesDay's docstring), the day's totals to ``slot``."""
    _upsert(SalesDay, ("day", "product_id", "slot"), ("orders", "units", "amount", "revenue"),
            [(day, pid, slot if pid == 0 else 0, *cell) for (day, pid), cell in cells.items() if any(cell)])


# --------------------------------------------------------------------------- reads


def counts_kept() -> dict[Bucket, int]:
    rows = (OrderCounter.objects.order_by().values_list("status", "archived", "held", "to_invoice", "to_ship")
            .annotate(total=Sum("n")))
    return {(s, a, h, i, sh): n for s, a, h, i, sh, n in rows if n}


# --------------------------------------------------------------------------- recount


def _fresh_work() -> tuple[Exists, Exists]:
    to_invoice = Exists(OrderItem.objects.filter(order=OuterRef("pk")).alias(
        left=F("qty_ordered") - F("qty_invoiced") - F("qty_canceled")).filter(left__gt=0))
    to_ship = Exists(OrderItem.objects.filter(order=OuterRef("pk"), is_shippable=True).alias(
        left=F("qty_ordered") - F("qty_shipped") - F("qty_refunded") + F("qty_returned") - F("qty_canceled"))
        .filter(left__gt=0))
    return to_invoice, to_ship


def _fresh_work_value() -> tuple[Case, Any, Any]:
    to_invoice, to_ship = _fresh_work()
    return Case(When(Q(wi=True) & Q(ws=True), then=Value(WORK_INVOICE | WORK_SHIP)),
                When(wi=True, then=Value(WORK_INVOICE)), When(ws=True, then=Value(WORK_SHIP)), default=Value(0)), \
        to_invoice, to_ship


def counts_fresh() -> dict[Bucket, int]:
    """A fresh GROUP BY over the orders, the work left read from their lines."""
    to_invoice, to_ship = _fresh_work()
    rows = (Order.objects.order_by().annotate(wi=to_invoice, ws=to_ship)
            .values_list("status", ExpressionWrapper(Q(archived_at__isnull=False), output_field=BooleanField()),
                         ExpressionWrapper(Q(held_at__isnull=False), output_field=BooleanField()), "wi", "ws")
            .annotate(n=Count("id")))
    out: dict[Bucket, int] = defaultdict(int)
    for status, archived, held, wi, ws, n in rows:
        bucket = bucket_of(status, archived, held, (WORK_INVOICE if wi else 0) | (WORK_SHIP if ws else 0))
        assert bucket is not None
        out[bucket] += n
    return dict(out)


def work_left_wrong() -> list[tuple[int, int | None, int]]:
    """(order id, stored work_left, fresh value) of every order whose work_left is not its lines'."""
    value, to_invoice, to_ship = _fresh_work_value()
    rows = (Order.objects.order_by("id").annotate(wi=to_invoice, ws=to_ship).annotate(fresh=value)
            .filter(Q(work_left__isnull=True) | ~Q(work_left=F("fresh"))).values_list("id", "work_left", "fresh"))
    return list(rows)


def sales_kept() -> dict[SalesKey, SalesCell]:
    rows = (SalesDay.objects.order_by().values_list("day", "product_id")
            .annotate(o=Sum("orders"), u=Sum("units"), a=Sum("amount"), r=Sum("revenue")))
    return {(day, pid): (o, u, a, r) for day, pid, o, u, a, r in rows if o or u or a or r}


def sales_fresh() -> dict[SalesKey, SalesCell]:
    """The rollups recomputed from the orders, lines and documents (Python Decimal, exact)."""
    cells: dict[SalesKey, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for created_at, rate, total in Order.objects.values_list("created_at", "exchange_rate", "grand_total") \
            .iterator(chunk_size=5000):
        cell = cells[(_day(created_at), 0)]
        cell[0] += 1
        cell[2] += _cents(total, rate)
    for pid, qty, total, created_at, rate in (OrderItem.objects.filter(product_id__isnull=False)
                                              .values_list("product_id", "qty_ordered", "total", "order__created_at",
                                                           "order__exchange_rate").iterator(chunk_size=5000)):
        cell = cells[(_day(created_at), pid)]
        cell[1] += qty
        cell[2] += _cents(total, rate)
    for model, sign in ((Invoice, 1), (Refund, -1)):
        for created_at, total, rate in model.objects.values_list("created_at", "grand_total",
                                                                 "order__exchange_rate").iterator(chunk_size=5000):
            cells[(_day(created_at), 0)][3] += sign * _cents(total, rate)
    return {k: (v[0], v[1], v[2], v[3]) for k, v in cells.items() if any(v)}


@dataclass
class Differences:
    counts: dict[Bucket, tuple[int, int]]  # bucket → (kept, fresh)
    work_left: list[tuple[int, int | None, int]]
    sales: dict[SalesKey, tuple[SalesCell, SalesCell]]  # (day, product) → (kept, fresh)

    def __bool__(self) -> bool:
        return bool(self.counts or self.work_left or self.sales)

    def lines(self, limit: int = 50) -> list[str]:
        out = [f"bucket status={b[0]} archived={b[1]} held={b[2]} to_invoice={b[3]} to_ship={b[4]}: "
               f"kept {k}, recounted {f}" for b, (k, f) in sorted(self.counts.items())]
        out += [f"order {oid}: work_left {old} should be {new}" for oid, old, new in self.work_left[:limit]]
        if len(self.work_left) > limit:
            out.append(f"… and {len(self.work_left) - limit} more orders with a wrong work_left")
        out += [f"day {d} {'totals' if p == 0 else f'product {p}'}: kept (orders, units, amount¢, revenue¢) "
                f"{k}, recounted {f}" for (d, p), (k, f) in sorted(self.sales.items())[:limit]]
        if len(self.sales) > limit:
            out.append(f"… and {len(self.sales) - limit} more day rows")
        return out


def _compare(kept: Mapping[Any, Any], fresh: Mapping[Any, Any], zero: Any) -> dict[Any, Any]:
    return {k: (kept.get(k, zero), fresh.get(k, zero)) for k in set(kept) | set(fresh)
            if kept.get(k, zero) != fresh.get(k, zero)}


def counters_check() -> Differences:
    """Recount every bucket and day from the orders and documents; what differs from what is kept."""
    return Differences(counts=_compare(counts_kept(), counts_fresh(), 0), work_left=work_left_wrong(),
                       sales=_compare(sales_kept(), sales_fresh(), (0, 0, 0, 0)))


def counters_repair() -> Differences:
    """Rewrite the counters, the rollups and every wrong work_left from a recount. On PostgreSQL
    the orders table is locked in SHARE mode for the transaction: every change that moves a count
    or a rollup writes its order row, so writers wait and nothing is counted twice or missed. A
    writer caught half-way (its counter row written, its order row not yet) either adds its delta
    after the repair commits (still exact: its delta is from the state the recount saw) or meets
    the repair in a deadlock PostgreSQL breaks by aborting one of the two whole: run it again. On
    SQLite the database's single writer serialises it once the first write is made; run it with
    the writers stopped to be sure (documented in the command's help)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {connection.ops.quote_name(Order._meta.db_table)} IN SHARE MODE")
        found = counters_check()
        if not found:
            return found
        by_value: dict[int, list[int]] = defaultdict(list)
        for oid, _, value in found.work_left:
            by_value[value].append(oid)
        for value, ids in sorted(by_value.items()):
            for start in range(0, len(ids), 5000):
                Order.objects.filter(id__in=ids[start:start + 5000]).update(work_left=value)
        OrderCounter.objects.all().delete()
        OrderCounter.objects.bulk_create([OrderCounter(status=b[0], archived=b[1], held=b[2], to_invoice=b[3],
                                                       to_ship=b[4], slot=0, n=n)
                                          for b, n in counts_fresh().items()], batch_size=1000)
        SalesDay.objects.all().delete()
        SalesDay.objects.bulk_create([SalesDay(day=d, product_id=p, slot=0, orders=c[0], units=c[1], amount=c[2],
                                               revenue=c[3]) for (d, p), c in sales_fresh().items()],
                                     batch_size=2000)
    return found
