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
accepted or refused on its own. The shape check (``ImportDocumentChecker``) and the batch
(``sales.importing.batch.batch_import``) are the ones import jobs run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from sales.api.importing import ImportDocumentChecker
from sales.importing import ImportLookups, error_describe, json_no_constants
from sales.importing.batch import CheckedDocument, batch_import


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
        self.checker = ImportDocumentChecker()
        self.lookups = ImportLookups()
        quiet = options.get("verbosity", 1) == 0
        self.unit = "line"
        with open(file, "rb") as fh, tqdm(total=os.path.getsize(file), unit="B", unit_scale=True, desc="import",
                                           disable=quiet, leave=False, dynamic_ncols=True) as bar:
            self.bar = bar
            batch: list[CheckedDocument | Refused] = []
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

    def _parse(self, number: int, raw: bytes | _Parsed) -> CheckedDocument | Refused | None:
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
        text = None if isinstance(raw, _Parsed) else raw
        result = self.checker(document, unit=self.unit, raw=text)
        if isinstance(result, tuple):
            return Refused(number, *result)
        return CheckedDocument(number, document, result, raw=text)

    # ----------------------------------------------------------------- batches

    def _batch(self, lines: list[CheckedDocument | Refused]) -> None:
        """Plan and write one batch; its bad lines are reported in line order."""
        failures = [(x.number, x.code, x.message) for x in lines if isinstance(x, Refused)]
        try:
            outcome = batch_import([x for x in lines if isinstance(x, CheckedDocument)], lookups=self.lookups,
                                   actor=None, skip_existing=self.skip_existing,
                                   earlier="on an earlier line of this file")
            self.imported += outcome.imported
            self.skipped += outcome.skipped
            failures += [(doc.number, error.code, error_describe(error)) for doc, error in outcome.refused]
        finally:
            self.failed += len(failures)
            if failures:
                with self.bar.external_write_mode():
                    for number, code, message in sorted(failures):
                        self.stderr.write(f"{self.unit} {number}: {code}: {message}")


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
