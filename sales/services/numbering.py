"""Gap-free document numbers: one Sequence row per type, taken under a row lock inside the
caller's transaction (a rollback gives the number back). Call it last in an action."""

from __future__ import annotations

from django.db.models import F

from sales.models import Sequence

STARTS = {"order": 100000000, "invoice": 100000000, "shipment": 100000000, "refund": 100000000}


def number_next(kind: str) -> str:
    updated = Sequence.objects.filter(name=kind).update(last_value=F("last_value") + 1)
    if not updated:
        Sequence.objects.get_or_create(name=kind, defaults={"last_value": 0, "start": STARTS.get(kind, 100000000)})
        Sequence.objects.filter(name=kind).update(last_value=F("last_value") + 1)
    seq = Sequence.objects.get(name=kind)
    return str(seq.start + seq.last_value)


def numbers_reserve(kind: str, count: int) -> list[str]:
    """Take ``count`` consecutive numbers at once (bulk import and demo data)."""
    if count <= 0:
        return []
    Sequence.objects.get_or_create(name=kind, defaults={"last_value": 0, "start": STARTS.get(kind, 100000000)})
    Sequence.objects.filter(name=kind).update(last_value=F("last_value") + count)
    seq = Sequence.objects.get(name=kind)
    first = seq.last_value - count + 1
    return [str(seq.start + n) for n in range(first, seq.last_value + 1)]
