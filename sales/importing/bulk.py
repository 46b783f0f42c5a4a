"""The one raw bulk writer: plain dicts of column values in, multi-row inserts out.

Both bulk paths use it: ``manage.py import_orders`` (``sales.importing.write``) and
``manage.py seed_demo``. It writes what ``bulk_create`` would (every concrete field, defaults
filled in) without building model instances — the ORM's per-value machinery costs more than
the database does:

- ``BulkTable.build`` turns rows (dicts; a missing key takes the field's default) into tuples in
  column order, ready for the driver: decimals as text (optionally), datetimes as the backend stores them,
  JSON as text (``config.jsontext``; a ``JsonText`` value is JSON already and goes in as it is). It reads no
  database, so a forked planning process can build rows (``seed_demo --workers``).
- ``BulkTable.insert`` sends them: ``COPY … FROM STDIN`` on PostgreSQL, ``executemany`` on the raw
  sqlite3 connection (inside the caller's transaction), ``bulk_create`` on other engines.
- ``BulkTable.insert_rows`` does both and, with ``returning``, gives the new ids in row order
  (PostgreSQL: taken from the table's sequence first; SQLite: AUTOINCREMENT hands out
  consecutive ids inside the write transaction, nothing else can write until it commits).

- ``BulkWriter.parents_locked`` (the import, which writes while the shop runs): inside it the
  inserts' foreign keys are checked and their parent rows locked by a ``ParentsGuard``, one query
  per table, instead of by PostgreSQL's per-row triggers at commit (skipped there, where the
  role may set ``session_replication_role``).

``bulk_written`` is the single call site both bulk paths call once orders are written, for
whatever must follow rows that bypassed the services (see its docstring).
"""

from __future__ import annotations

import json
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, ForeignKey, Model
from django.utils import timezone

from config.jsontext import json_text
from sales.services.common import LineAmounts

Row = dict[str, Any]
Converter = Callable[[Sequence[Any]], list[Any]]


class JsonText(str):
    """A value already serialised as JSON (the bulk writer stores it as is)."""


def bulk_written(*, order_ids: Sequence[int], written: tuple[Sequence[tuple[Any, Sequence[Any]]],
                                                             Sequence[tuple[datetime, Decimal, Decimal]]] | None = None
                 ) -> None:
    """Called by every bulk writer (import, seed_demo) after it has written ``order_ids`` with
    their lines, documents and events, inside the same transaction. Rows written in bulk go
    around the services, so what the services keep up to date besides those rows — the status
    counters and the dashboard's day rollups (sales.services.counters) — is brought up to date
    here: from the database, or from ``written`` (the order and item rows as written, and the
    invoices', as ``counters.orders_added_written`` takes them) when the writer has them in
    memory. Both writers put ``work_left`` in their order rows."""
    from sales.services import counters  # services sit above this writer's module

    if written is not None:
        counters.orders_added_written(*written)
        return
    counters.orders_added(list(order_ids), work_left_written=True)


def _naive_utc_text(value: Any) -> Any:
    """A datetime as SQLite keeps it (naive UTC text, like Django); text passes through."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(" ")
    return value


def _decimal_text(column: Sequence[Any]) -> list[Any]:
    return [v if v is None or type(v) is str else str(v) for v in column]


def _datetime_text(column: Sequence[Any]) -> list[Any]:
    seen: dict[Any, Any] = {}  # most rows share a few instants
    out = []
    for v in column:
        if v is None or type(v) is str:
            out.append(v)
            continue
        adapted = seen.get(v)
        if adapted is None:
            adapted = seen[v] = _naive_utc_text(v)
        out.append(adapted)
    return out


def _json_converter(encoder: type[json.JSONEncoder] | None) -> Converter:
    def convert(column: Sequence[Any]) -> list[Any]:
        return [v if v is None else str(v) if isinstance(v, JsonText) else json_text(v, encoder=encoder)
                for v in column]
    return convert


def _stamped(f: Field[Any, Any]) -> bool:
    """A field that a new row gets "now" for (auto_now, auto_now_add, default=timezone.now)."""
    return bool(getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
                or (f.has_default() and f.default is timezone.now))


class _Layout:
    """Column order and converters for one set of fields (with or without the primary key)."""

    def __init__(self, fields: list[Field[Any, Any]], vendor: str, decimals_as_text: bool) -> None:
        self.fields = fields
        self.attnames = [f.attname for f in fields]
        self.foreign_keys = [(n, f) for n, f in enumerate(fields)
                             if isinstance(f, ForeignKey) and getattr(f, "db_constraint", True)]
        self.stamped = [n for n, f in enumerate(fields) if _stamped(f)]
        defaults: list[Any] = []
        for f in fields:
            value = None if f.primary_key or _stamped(f) else f.get_default()
            if isinstance(value, (int, float)) and f.get_internal_type() == "DecimalField":
                value = Decimal(value)
            defaults.append(value)
        self.defaults = defaults
        self.converters: list[tuple[int, Converter]] = []
        if vendor not in ("sqlite", "postgresql"):
            return  # bulk_create adapts the values itself
        for n, f in enumerate(fields):
            kind = f.get_internal_type()
            if kind == "DecimalField":
                if decimals_as_text:
                    self.converters.append((n, _decimal_text))
            elif kind == "DateTimeField" and vendor == "sqlite":
                self.converters.append((n, _datetime_text))
            elif kind == "JSONField":
                self.converters.append((n, _json_converter(getattr(f, "encoder", None))))

    def build(self, rows: Iterable[Row], now: datetime | None) -> list[tuple[Any, ...]]:
        defaults = self.defaults
        if self.stamped:
            defaults = list(defaults)
            for n in self.stamped:
                defaults[n] = now or timezone.now()
        names = self.attnames
        matrix = [tuple(map(r.get, names, defaults)) for r in rows]
        if not matrix or not self.converters:
            return matrix
        columns: list[Sequence[Any]] = list(zip(*matrix, strict=True))
        for n, convert in self.converters:
            columns[n] = convert(columns[n])
        return list(zip(*columns, strict=True))


class BulkTable:
    """One model's rows: built into tuples (pure), then inserted."""

    def __init__(self, model: type[Model], vendor: str, *, decimals_as_text: bool = True) -> None:
        self.model = model
        self.vendor = vendor
        fields = list(model._meta.concrete_fields)
        self.with_pk = _Layout(fields, vendor, decimals_as_text)
        self.without_pk = _Layout([f for f in fields if not f.primary_key], vendor, decimals_as_text)
        self.db_table = model._meta.db_table
        pk = model._meta.pk
        assert pk is not None
        self.pk_column = pk.column
        self.sequence: str | None = None
        self.guard: ParentsGuard | None = None  # set inside BulkWriter.parents_locked()

    def defaults(self, now: datetime) -> Row:
        """The values a new row has (as a new model instance has them; ``now`` where stamped), by attname."""
        layout = self.without_pk
        out = dict(zip(layout.attnames, layout.defaults, strict=True))
        for n in layout.stamped:
            out[layout.attnames[n]] = now
        return out

    @property
    def attnames(self) -> list[str]:
        """The columns of ``build(rows)`` (with the primary key), in order."""
        return self.with_pk.attnames

    def build(self, rows: Iterable[Row], *, pk: bool = True, now: datetime | None = None) -> list[tuple[Any, ...]]:
        """Rows as tuples in column order, with their ``id`` (``pk``) or without (the database picks)."""
        return (self.with_pk if pk else self.without_pk).build(rows, now)

    def insert(self, tuples: Sequence[tuple[Any, ...]], *, pk: bool = True,
               connection: BaseDatabaseWrapper | None = None) -> None:
        """Insert tuples made by ``build`` (with the same ``pk``)."""
        if not tuples:
            return
        connection = connection or connections[DEFAULT_DB_ALIAS]
        layout = self.with_pk if pk else self.without_pk
        if self.vendor not in ("sqlite", "postgresql"):
            self.model._default_manager.bulk_create([self.model(**dict(zip(layout.attnames, t, strict=True)))
                                            for t in tuples], batch_size=2000)
            return
        qn = connection.ops.quote_name
        table = qn(self.db_table)
        cols = ", ".join(qn(f.column) for f in layout.fields if f.column)
        connection.ensure_connection()
        raw = connection.connection
        if self.vendor == "sqlite":
            raw.executemany(f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(layout.fields))})", tuples)
            return
        if self.guard is not None:
            self.guard.check(layout, tuples)
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            for row in tuples:
                copy.write_row(row)

    def new_ids(self, count: int, connection: BaseDatabaseWrapper) -> list[int]:
        """PostgreSQL: ``count`` ids taken from the table's sequence, ascending."""
        connection.ensure_connection()
        with connection.connection.cursor() as cursor:
            if self.sequence is None:
                cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [self.db_table, self.pk_column])
                self.sequence = cursor.fetchone()[0]
            cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [self.sequence, count])
            return sorted(r[0] for r in cursor.fetchall())

    def insert_rows(self, rows: list[Row], *, returning: bool = False, now: datetime | None = None,
                    connection: BaseDatabaseWrapper | None = None) -> list[int]:
        """Build and insert ``rows`` (their ids are the database's); with ``returning``, the new
        ids in row order (also set as each row's ``id``)."""
        if not rows:
            return []
        connection = connection or connections[DEFAULT_DB_ALIAS]
        if self.vendor == "postgresql":
            if not returning:  # COPY cannot leave a column to its default row by row: no pk column
                self.insert(self.build(rows, pk=False, now=now), pk=False, connection=connection)
                return []
            ids = self.new_ids(len(rows), connection)
            for row, pk in zip(rows, ids, strict=True):
                row["id"] = pk
            if self.guard is not None:
                self.guard.inserted[self.model].update(ids)  # rows of this table that others here may name
            self.insert(self.build(rows, now=now), connection=connection)
            return ids
        if self.vendor == "sqlite":
            self.insert(self.build(rows, pk=False, now=now), pk=False, connection=connection)
            if not returning:
                return []
            cursor = connection.connection.cursor()
            try:
                cursor.execute("SELECT last_insert_rowid()")
                last = cursor.fetchone()[0]
            finally:
                cursor.close()
            ids = list(range(last - len(rows) + 1, last + 1))
        else:
            layout = self.without_pk
            made = self.model._default_manager.bulk_create([self.model(**dict(zip(layout.attnames, t, strict=True)))
                                                   for t in self.build(rows, pk=False, now=now)])
            ids = [int(m.pk) for m in made]
        for row, pk in zip(rows, ids, strict=True):
            row["id"] = pk
        return ids


class ParentsGuard:
    """What PostgreSQL's foreign-key triggers would check, done per insert instead of per row:
    every foreign-key value of the rows inserted must name a row inserted under this guard (an id
    this transaction took from the table's sequence and wrote) or an existing row, which is then
    locked ``FOR KEY SHARE`` (the lock the trigger takes: nobody can delete it or change its key
    until this transaction ends). One query per parent table and insert, in key order; a
    missing parent raises IntegrityError, as the trigger would at commit."""

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        self.connection = connection
        self.inserted: defaultdict[type[Model], set[Any]] = defaultdict(set)
        self.locked: defaultdict[type[Model], set[Any]] = defaultdict(set)

    def check(self, layout: _Layout, tuples: Sequence[tuple[Any, ...]]) -> None:
        qn = self.connection.ops.quote_name
        for n, fk in layout.foreign_keys:
            parent = fk.related_model
            values = {t[n] for t in tuples}
            values.discard(None)
            if fk.target_field.primary_key:
                values -= self.inserted[parent]
            values -= self.locked[parent]
            if not values:
                continue
            target = fk.target_field.column
            assert target is not None
            column = qn(target)
            with self.connection.cursor() as cursor:
                cursor.execute(f"SELECT {column} FROM {qn(parent._meta.db_table)} WHERE {column} = ANY(%s) "
                               f"ORDER BY {column} FOR KEY SHARE", [sorted(values)])
                found = {row[0] for row in cursor.fetchall()}
            missing = values - found
            if missing:
                raise IntegrityError(f"{fk.model._meta.db_table}.{fk.column}: no {parent._meta.db_table} row "
                                     f"with {fk.target_field.column} in {sorted(missing)[:5]}")
            self.locked[parent] |= found


class BulkWriter:
    """The tables of a set of models on one database vendor, and the PostgreSQL session
    settings of a bulk load."""

    def __init__(self, models: Iterable[type[Model]], *, vendor: str | None = None,
                 decimals_as_text: bool = True) -> None:
        """``decimals_as_text``: decimals become text when built (cheap to pass between processes, as
        seed_demo's planners do); without it they go to the driver as Decimals (psycopg's C dumper,
        or the sqlite3 adapter Django registers, turns them into text anyway)."""
        self.vendor = vendor or connections[DEFAULT_DB_ALIAS].vendor
        self.raw = self.vendor in ("sqlite", "postgresql")
        self.tables: dict[type[Model], BulkTable] = {
            m: BulkTable(m, self.vendor, decimals_as_text=decimals_as_text) for m in models}
        self.replica = False
        self.tuned = False
        self.triggers_skippable: bool | None = None  # may this role set session_replication_role? (asked once)

    @contextmanager
    def parents_locked(self) -> Iterator[None]:
        """For the inserts of one write inside the caller's transaction (the bulk import): on
        PostgreSQL, where the role may set ``session_replication_role`` and
        ``settings.BULK_SKIP_FK_TRIGGERS`` is on, the per-row foreign-key triggers are skipped for
        these inserts (each queues a check that runs at commit: about a tenth of an import's
        time) and a ``ParentsGuard`` checks and locks the parents instead. The setting is
        ``SET LOCAL`` inside a savepoint, and set back when the block ends, so nothing else of the
        transaction (the webhook sinks' rows, say) runs without its triggers; an error rolls the
        savepoint, and the setting with it, back. Elsewhere the triggers check as usual."""
        connection = connections[DEFAULT_DB_ALIAS]
        if (self.vendor != "postgresql" or not connection.in_atomic_block
                or not settings.BULK_SKIP_FK_TRIGGERS or not self._triggers_skippable(connection)):
            yield
            return
        guard = ParentsGuard(connection)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
            for table in self.tables.values():
                table.guard = guard
            try:
                yield
            finally:
                for table in self.tables.values():
                    table.guard = None
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = DEFAULT")

    def _triggers_skippable(self, connection: BaseDatabaseWrapper) -> bool:
        if self.triggers_skippable is None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                row = cursor.fetchone()
                allowed = bool(row and row[0])
                if not allowed and connection.pg_version >= 150000:  # type: ignore[attr-defined]
                    # GRANT SET ON PARAMETER session_replication_role TO <role> (README, production)
                    cursor.execute("SELECT has_parameter_privilege(current_user, 'session_replication_role', 'SET')")
                    row = cursor.fetchone()
                    allowed = bool(row and row[0])
                if allowed:
                    # The setting turns off every trigger, not only the foreign keys' (which the guard
                    # replaces): a table of the writer with a trigger of its own keeps them all on.
                    cursor.execute("SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgrelid = ANY("
                                   "SELECT c.oid FROM pg_class c WHERE c.relname = ANY(%s))",
                                   [[t.db_table for t in self.tables.values()]])
                    row = cursor.fetchone()
                    allowed = not (row and row[0])
            self.triggers_skippable = allowed
        return self.triggers_skippable

    def when(self, value: datetime) -> Any:
        """A naive-UTC datetime as the backend stores it (text on the raw paths: cheap to pass
        between processes)."""
        if self.vendor == "sqlite":
            return value.isoformat(" ")
        if self.vendor == "postgresql":
            return value.isoformat(" ") + "+00:00"
        return value.replace(tzinfo=UTC)

    def json(self, value: Any) -> Any:
        """A JSON value serialised once (a ``JsonText``), for rows that share it or cross processes."""
        if value is None or not self.raw:
            return value
        return JsonText(json_text(value))

    def build(self, model: type[Model], rows: Iterable[Row]) -> list[tuple[Any, ...]]:
        return self.tables[model].build(rows)

    def insert(self, model: type[Model], tuples: Sequence[tuple[Any, ...]]) -> None:
        """Insert tuples built with their ids, as a bulk load: on PostgreSQL in a session that skips
        the foreign-key triggers (``pg_bulk_session``), on SQLite with a bigger page cache."""
        if tuples and not self.tuned:
            self.tuned = True
            if self.vendor == "postgresql":
                self.pg_bulk_session()
            elif self.vendor == "sqlite":
                # A bigger page cache keeps the indexes' B-trees in memory while they grow (this
                # connection only; nothing about the database file changes).
                connection = connections[DEFAULT_DB_ALIAS]
                connection.ensure_connection()
                connection.connection.execute("PRAGMA cache_size = -262144")
        self.tables[model].insert(tuples)

    def pg_bulk_session(self) -> None:
        """Load like pg_restore --disable-triggers: the rows are built consistent (every foreign
        key points at a row of the same batch or one that exists; the tests check them), so the
        per-row foreign-key triggers are skipped for this session when the role may do so."""
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            row = cursor.fetchone()
            if row and row[0]:
                cursor.execute("SET session_replication_role = replica")
                self.replica = True

    def end_bulk_session(self) -> None:
        if self.replica:
            with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
                cursor.execute("SET session_replication_role = DEFAULT")
            self.replica = False
        self.tuned = False

    def reset_sequences(self) -> None:
        """After rows with explicit ids: move PostgreSQL's sequences past them (SQLite's
        AUTOINCREMENT follows explicit ids by itself)."""
        if self.vendor != "postgresql":
            return
        from django.core.management.color import no_style

        connection = connections[DEFAULT_DB_ALIAS]
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), list(self.tables)):
                cursor.execute(sql)


_WRITERS: weakref.WeakKeyDictionary[BaseDatabaseWrapper, BulkWriter] = weakref.WeakKeyDictionary()


def writer_for(models: Sequence[type[Model]]) -> BulkWriter:
    """This thread's connection's writer for ``models`` (tables keep their sequence names)."""
    wrapper = connections[DEFAULT_DB_ALIAS]
    writer = _WRITERS.get(wrapper)
    if writer is None or any(m not in writer.tables for m in models):
        writer = _WRITERS[wrapper] = BulkWriter(models, vendor=wrapper.vendor, decimals_as_text=False)
    return writer


def document_item_rows(fk: str, doc_id: int, lines: Iterable[LineAmounts]) -> list[Row]:
    """A document's lines (invoice, shipment, refund items) as rows: the columns every document
    line has, from ``LineAmounts`` (``sales.services.common``)."""
    return [{fk: doc_id, "order_item_id": x.order_item_id, "sku": x.sku, "name": x.name, "quantity": x.quantity,
             "price": x.price, "subtotal": x.subtotal, "tax_amount": x.tax_amount,
             "discount_amount": x.discount_amount, "total": x.total} for x in lines]


__all__ = ["BulkTable", "BulkWriter", "JsonText", "ParentsGuard", "bulk_written", "document_item_rows", "writer_for"]
