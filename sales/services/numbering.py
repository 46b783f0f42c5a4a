"""Gap-free document numbers: one Sequence row per type, taken under a row lock inside the
caller's transaction (a rollback gives the number back).

Taken last in an action: every other write of the action (item counters, stock, the order's
totals and status, the cart, the coupon count) comes first, and the number is taken by the
numbered document's own insert; only what needs that document's id follows it (its lines, its
payment, a coupon use, its history event). So the numbering row, which every action of that kind
waits for, is held from there to the commit — the shortest span that adds no query (taking the
number after those rows would need a second write of the document). The import takes its
numbers in one step per kind (``numbers_reserve``) just before its bulk document inserts.
"""

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
