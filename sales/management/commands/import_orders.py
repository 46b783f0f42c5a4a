"""``manage.py import_orders FILE``: JSON Lines of seed 002 order documents (SPEC §7.2), or one
JSON document (pretty-printed or not), several documents one after another, or a JSON array of
them.

Streams a JSON Lines file in batches (memory stays flat however long it is), reports every bad
line with its number and reason, imports the rest, and ends with ``imported N, skipped M,
failed K`` (exit status 1 when anything failed). A file whose first line is not a whole JSON
value, or that starts with ``[``, is read whole as JSON instead: an array's documents are
numbered by position (``document 3``), other documents by the line they start on.

Each batch is validated (a compiled copy of the API serializer's checks; the serializer
itself words any error), planned with the same rules as ``POST /api/admin/orders/import``
(``sales.importing.import_plan``), and written with bulk inserts in one
transaction: orders, lines, payments, comments, events, paid invoices and shipments, with
numbers from ``numbers_reserve``. Stock is checked document by document in file order, so
a document that finds too little is refused alone (409 insufficient_stock) as it would be
one at a time. When a write fails (say a reference imported meanwhile by someone else), the
batch's documents are imported one by one through ``order_import`` instead, so each is
accepted or refused on its own.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError
from tqdm import tqdm

from config.errors import DomainError
from sales.api.importing import FastDocumentValidator, OrderImportSerializer
from sales.events import events_scope
from sales.importing import (
    DuplicateReference,
    ImportLookups,
    error_describe,
    import_plan,
    json_no_constants,
    order_import,
    orders_import_bulk,
    validation_error,
)


@dataclass
class Line:
    """A document that passed validation: planned and written with its batch."""

    number: int
    document: dict[str, Any]
    data: dict[str, Any]


@dataclass
class Refused:
    """A line refused before planning (unreadable or invalid): reported with its batch."""

    number: int
    code: str
    message: str


class Command(BaseCommand):
    help = ("Import orders from a file of seed 002 order documents: JSON Lines (one document per line), "
            "one JSON document, or a JSON array of documents.")

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the .jsonl or .json file")
        parser.add_argument("--skip-existing", action="store_true",
                            help="Skip documents whose reference was already imported (else they fail)")
        parser.add_argument("--batch-size", type=int, default=1000, help="Documents per transaction (default 1000)")

    def handle(self, *args, file: str, skip_existing: bool, batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if not os.path.isfile(file):
            raise CommandError(f"No such file: {file}")
        self.skip_existing = skip_existing
        self.imported = self.skipped = self.failed = 0
        self.validator = FastDocumentValidator()
        self.serializer = OrderImportSerializer()
        self.lookups = ImportLookups()
        quiet = options.get("verbosity", 1) == 0
        self.unit = "line"
        with open(file, "rb") as fh, tqdm(total=os.path.getsize(file), unit="B", unit_scale=True, desc="import",
                                           disable=quiet, leave=False, dynamic_ncols=True) as bar:
            self.bar = bar
            batch: list[Line | Refused] = []
            for number, raw in self._records(fh):
                line = self._parse(number, raw)
                if line is not None:
                    batch.append(line)
                if len(batch) >= batch_size:
                    self._batch(batch)
                    batch = []
            if batch:
                self._batch(batch)
        summary = f"imported {self.imported}, skipped {self.skipped}, failed {self.failed}"
        self.stdout.write(summary)
        if self.failed:
            raise CommandError(f"{self.failed} line(s) failed; see the messages above.", returncode=1)

    # ----------------------------------------------------------------- lines

    def _records(self, fh: IO[bytes]) -> Iterator[tuple[int, bytes | _Parsed]]:
        """(number, raw line) for JSON Lines; (number, parsed document) for a file read whole."""
        lines = (raw for raw in fh if raw.strip())
        first, second = next(lines, b""), next(lines, b"")
        fh.seek(0)
        if not _whole_file(first, second):
            for number, raw in enumerate(fh, start=1):
                self.bar.update(len(raw))
                yield number, raw
            return
        data = fh.read()
        self.bar.update(len(data))
        yield from self._whole(data)

    def _whole(self, data: bytes) -> Iterator[tuple[int, bytes | _Parsed]]:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            yield 1, _Parsed(None, f"not UTF-8: {exc}")
            return
        decoder = json.JSONDecoder(parse_constant=json_no_constants)
        pos, values = 0, []
        while True:
            while pos < len(text) and text[pos].isspace():
                pos += 1
            if pos >= len(text):
                break
            start_line = text.count("\n", 0, pos) + 1
            try:
                value, pos = decoder.raw_decode(text, pos)
            except (ValueError, RecursionError) as exc:
                yield start_line, _Parsed(None, f"invalid JSON: {exc}")
                return
            values.append((start_line, value))
        if len(values) == 1 and isinstance(values[0][1], list):
            self.unit = "document"  # an array's documents go by position
            for index, value in enumerate(values[0][1], start=1):
                yield index, _Parsed(value)
            return
        for start_line, value in values:
            yield start_line, _Parsed(value)

    def _parse(self, number: int, raw: bytes | _Parsed) -> Line | Refused | None:
        if isinstance(raw, _Parsed):
            if raw.error is not None:
                return Refused(number, "parse_error", raw.error)
            document = raw.value
        else:
            if not raw.strip():
                return None
            try:
                document = json.loads(raw, parse_constant=json_no_constants)
            except (ValueError, RecursionError) as exc:
                return Refused(number, "parse_error", f"invalid JSON: {exc}")
        if not isinstance(document, dict):
            return Refused(number, "validation_error",
                           f"a {self.unit} must hold one JSON object, not {type(document).__name__}")
        data = self.validator(document)
        if data is None:
            try:
                data = self.serializer.run_validation(document)
            except ValidationError as exc:  # the same errors the API answers with
                error = validation_error(exc.detail)
                return Refused(number, error.code, error_describe(error))
        return Line(number, document, data)

    # ----------------------------------------------------------------- batches

    def _batch(self, lines: list[Line | Refused]) -> None:
        """Plan and write one batch; its bad lines are reported in line order."""
        self.failures: list[tuple[int, str, str]] = [(x.number, x.code, x.message) for x in lines
                                                     if isinstance(x, Refused)]
        try:
            self._import([x for x in lines if isinstance(x, Line)])
        finally:
            self.failed += len(self.failures)
            if self.failures:
                with self.bar.external_write_mode():
                    for number, code, message in sorted(self.failures):
                        self.stderr.write(f"{self.unit} {number}: {code}: {message}")

    def _fail(self, line: Line, error: DomainError) -> None:
        self.failures.append((line.number, error.code, error_describe(error)))

    def _import(self, lines: list[Line]) -> None:
        if not lines:
            return
        lookups = self.lookups
        lookups.prefetch([line.data for line in lines])
        seen: set[str] = set()
        plans, planned = [], []
        now = timezone.now()
        for line in lines:
            reference = line.data["reference"]
            if self.skip_existing and (reference in lookups.references_taken or reference in seen):
                self.skipped += 1
                continue
            try:
                if reference in seen:
                    raise DuplicateReference(f"Reference {reference!r} appears on an earlier line of this file.",
                                             field="reference")
                plan = import_plan(line.data, line.document, lookups, actor=None, now=now)
            except DomainError as exc:
                self._fail(line, exc)
                continue
            seen.add(reference)
            plans.append(plan)
            planned.append(line)
        if not plans:
            return
        try:
            with transaction.atomic(), events_scope():
                results = orders_import_bulk(plans, actor=None, lookups=lookups)
        except (IntegrityError, DomainError):  # e.g. a reference imported meanwhile: each document on its own
            self._one_by_one(planned)
            return
        for line, result in zip(planned, results, strict=True):
            if isinstance(result, DomainError):
                self._fail(line, result)
            else:
                self.imported += 1

    def _one_by_one(self, lines: list[Line]) -> None:
        """The batch could not be written whole: each document on its own, as the API would."""
        for line in lines:
            try:
                order_import(document=line.document, actor=None, validated=line.data)
            except DuplicateReference as exc:
                if self.skip_existing:
                    self.skipped += 1
                else:
                    self._fail(line, exc)
            except DomainError as exc:
                self._fail(line, exc)
            else:
                self.imported += 1


@dataclass
class _Parsed:
    """A document of a file read whole (already parsed), or why the file could not be."""

    value: Any
    error: str | None = None


def _is_json(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except (ValueError, RecursionError):
        return False
    return True


def _whole_file(first: bytes, second: bytes) -> bool:
    """Read the file whole when it starts an array, or when neither of its first two lines is a
    whole JSON value (a pretty-printed document); else it is JSON Lines, whose bad lines (a bad
    first one too) are reported one by one."""
    head = first.lstrip(b"\xef\xbb\xbf").strip()
    if head.startswith(b"["):
        return True
    return head.startswith(b"{") and not _is_json(head) and not (second.strip() and _is_json(second))



__all__ = ["Command"]
