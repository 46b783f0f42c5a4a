"""`?dry_run=true` (SPEC §11): run the real action — every check, refusing exactly as the real
call would — inside a transaction that is always rolled back, and report what it would do."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db import transaction

from catalog.models import Product, ProductInventory


class _Rollback(Exception):
    def __init__(self, payload: dict[str, Any]):
        self.payload = payload


StockSnapshot = tuple[dict[int, int], dict[tuple[int, int], int], dict[int, str]]


def _stock_snapshot(product_ids: set[int]) -> StockSnapshot:
    reserved = dict(Product.objects.filter(id__in=product_ids).values_list("id", "qty_reserved"))
    skus = dict(Product.objects.filter(id__in=product_ids).values_list("id", "sku"))
    on_hand = {(pid, sid): qty for pid, sid, qty in
               ProductInventory.objects.filter(product_id__in=product_ids).values_list("product_id", "source_id", "qty")}
    return reserved, on_hand, skus


def stock_moves(before: StockSnapshot, after: StockSnapshot) -> list[dict[str, Any]]:
    reserved_b, on_hand_b, skus = before
    reserved_a, on_hand_a, _ = after
    moves: list[dict[str, Any]] = []
    for pid in sorted(set(reserved_b) | set(reserved_a)):
        delta = reserved_a.get(pid, 0) - reserved_b.get(pid, 0)
        if delta:
            moves.append({"product_id": pid, "sku": skus.get(pid), "inventory_source_id": None, "reserved": delta,
                          "on_hand": 0})
    for key in sorted(set(on_hand_b) | set(on_hand_a)):
        delta = on_hand_a.get(key, 0) - on_hand_b.get(key, 0)
        if delta:
            moves.append({"product_id": key[0], "sku": skus.get(key[0]), "inventory_source_id": key[1],
                          "reserved": 0, "on_hand": delta})
    return moves


def dry_run_execute(*, product_ids: Iterable[int], action: Callable[[], Any],
                    render: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """Run ``action`` and ``render`` its result, then roll everything back. DomainErrors pass through."""
    ids = {p for p in product_ids if p}
    try:
        with transaction.atomic():
            before = _stock_snapshot(ids)
            result = action()
            payload = render(result)
            payload["stock_moves"] = stock_moves(before, _stock_snapshot(ids))
            raise _Rollback(payload)
    except _Rollback as done:
        return {"dry_run": True, **done.payload}
