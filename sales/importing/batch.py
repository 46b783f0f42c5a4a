"""One batch of checked documents, planned and written: the loop ``manage.py import_orders`` and
import jobs share (each around its own reading, reporting and transaction).

The batch is planned against one prefetch of its lookups, written with the bulk writer in one
transaction, and — when that write fails as a whole (say a reference imported meanwhile by
someone else, or by another chunk of the same job) — imported document by document through
``order_import``, so each is accepted or refused on its own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from config.errors import DomainError
from sales.events import events_scope
from sales.importing.errors import DuplicateReference
from sales.importing.lookups import ImportLookups
from sales.importing.plan import ImportPlan, import_plan
from sales.importing.write import order_import, orders_import_bulk


@dataclass(frozen=True)
class CheckedDocument:
    """A document whose shape was checked: ``number`` is its line (or position) for the report."""

    number: int
    document: dict[str, Any]
    data: dict[str, Any]
    raw: bytes | None = None  # the JSON text of the document, when the reader has it (a line of JSON Lines)


@dataclass
class BatchOutcome:
    imported: int = 0
    skipped: int = 0
    refused: list[tuple[CheckedDocument, DomainError]] = field(default_factory=list)


def batch_import(documents: Sequence[CheckedDocument], *, lookups: ImportLookups, actor: User | None,
                 skip_existing: bool, earlier: str) -> BatchOutcome:
    """Plan and write one batch. ``earlier`` words a reference repeated inside the batch's source
    ("on an earlier line of this file")."""
    outcome = BatchOutcome()
    if not documents:
        return outcome
    lookups.prefetch([d.data for d in documents])
    seen: set[str] = set()
    planned: list[tuple[CheckedDocument, ImportPlan]] = []
    now = timezone.now()
    for checked in documents:
        reference = checked.data["reference"]
        if skip_existing and (reference in lookups.references_taken or reference in seen):
            outcome.skipped += 1
            continue
        try:
            if reference in seen:
                raise DuplicateReference(f"Reference {reference!r} appears {earlier}.", field="reference")
            plan = import_plan(checked.data, checked.document, lookups, actor=actor, now=now, raw=checked.raw)
        except DomainError as exc:
            outcome.refused.append((checked, exc))
            continue
        seen.add(reference)
        planned.append((checked, plan))
    if not planned:
        return outcome
    try:
        with transaction.atomic(), events_scope():
            results = orders_import_bulk([plan for _, plan in planned], actor=actor, lookups=lookups)
    except (IntegrityError, DomainError):
        _one_by_one([checked for checked, _ in planned], actor=actor, skip_existing=skip_existing, outcome=outcome)
        return outcome
    for (checked, _), result in zip(planned, results, strict=True):
        if isinstance(result, DomainError):
            outcome.refused.append((checked, result))
        else:
            outcome.imported += 1
    return outcome


def _one_by_one(documents: list[CheckedDocument], *, actor: User | None, skip_existing: bool,
                outcome: BatchOutcome) -> None:
    """The batch could not be written whole: each document on its own, as the API would."""
    for checked in documents:
        try:
            order_import(document=checked.document, actor=actor, validated=checked.data)
        except DuplicateReference as exc:
            if skip_existing:
                outcome.skipped += 1
            else:
                outcome.refused.append((checked, exc))
        except DomainError as exc:
            outcome.refused.append((checked, exc))
        else:
            outcome.imported += 1


__all__ = ["BatchOutcome", "CheckedDocument", "batch_import"]
