"""Status rules (SPEC §5), exhaustively on the pure functions of ``sales.status``, then the fraud
flag through the API: every action refused with its own code, clear-fraud restoring the
computed status.

The oracle below is written from the SPEC's words ("every unit canceled", "every unit refunded
or canceled"), per item, independently of the implementation (which sums quantities).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal

import pytest

from sales import status as rules
from sales.models import OrderStatus
from tests.sales.lifecycle_support import (  # noqa: F401 - fast_passwords is a fixture
    assert_error,
    default_source,
    fast_passwords,
    fraud_order,
    invoice_all,
    items_of,
    nothing_written,
    order_with,
    product,
    reload,
    set_status,
)

ALL_STATUSES = list(range(1, 8))
PAYMENTS = [(False, False), (True, False), (True, True)]  # (gateway method, payment captured)


@dataclass(frozen=True)
class Item:
    qty_ordered: int
    qty_invoiced: int = 0
    qty_shipped: int = 0
    qty_refunded: int = 0
    qty_canceled: int = 0
    is_shippable: bool = True
    qty_returned: int = 0


def allowed(i: Item) -> bool:
    """The database constraints (SPEC §5 'Always …', §11)."""
    return (0 <= i.qty_invoiced + i.qty_canceled <= i.qty_ordered and i.qty_shipped + i.qty_canceled <= i.qty_ordered
            and i.qty_refunded <= i.qty_invoiced and i.qty_returned <= min(i.qty_shipped, i.qty_refunded)
            and i.qty_shipped + (i.qty_refunded - i.qty_returned) + i.qty_canceled <= i.qty_ordered
            and (i.is_shippable or i.qty_shipped == 0))


def item_states(max_qty: int) -> list[Item]:
    """Every item the database constraints allow, up to max_qty units."""
    out = []
    for n in range(1, max_qty + 1):
        for shippable in (True, False):
            for inv, can in itertools.product(range(n + 1), repeat=2):
                if inv + can > n:
                    continue
                for shp in range(n - can + 1) if shippable else (0,):
                    for ref in range(inv + 1):
                        for ret in range(min(shp, ref) + 1):
                            item = Item(n, inv, shp, ref, can, shippable, ret)
                            if allowed(item):
                                out.append(item)
    return out


SINGLE = item_states(3)
PAIRS = list(itertools.product(item_states(2), repeat=2))


# ---------------------------------------------------------------- the oracle, from the SPEC text

def to_invoice(i: Item) -> int:
    return i.qty_ordered - i.qty_invoiced - i.qty_canceled


def to_ship(i: Item) -> int:
    unsent_refunded = i.qty_refunded - i.qty_returned
    return max(0, i.qty_ordered - i.qty_shipped - unsent_refunded - i.qty_canceled) if i.is_shippable else 0


def to_refund(i: Item) -> int:
    return i.qty_invoiced - i.qty_refunded


def to_cancel(i: Item) -> int:
    return min(to_invoice(i), to_ship(i)) if i.is_shippable else to_invoice(i)


def expected_status(items, current, gateway, captured) -> int:
    if current == 7:
        return 7  # 1. fraud stays fraud
    if all(i.qty_canceled == i.qty_ordered for i in items):
        return 5  # 2. every unit canceled
    if all(i.qty_refunded + i.qty_canceled == i.qty_ordered for i in items) and any(i.qty_refunded for i in items):
        return 6  # 3. every unit refunded or canceled, something refunded
    if all(to_invoice(i) == 0 and to_ship(i) == 0 for i in items):
        return 4  # 4. nothing left to invoice or ship
    if any(i.qty_invoiced or i.qty_shipped or i.qty_refunded or i.qty_canceled for i in items):
        return 3  # 5. anything happened
    return 2 if gateway and not captured else 1  # 6.


def expected_flags(items, status, gateway, money_left) -> rules.Flags:
    blocked = status in (5, 6, 7)
    return rules.Flags(
        invoice=not blocked and not gateway and any(to_invoice(i) > 0 for i in items),
        ship=not blocked and any(to_ship(i) > 0 for i in items),
        refund=not blocked and money_left,  # "when some amount is left to refund", units or not
        cancel=not blocked and any(to_cancel(i) > 0 for i in items),
        # pending orders change lines in place; processing ones by §12 unless paid by a gateway (no hold here)
        edit=status in (1, 2) or (status == 3 and not gateway),
        hold=status not in (4, 5, 6),  # completed, canceled and closed orders are not held (SPEC §12)
    )


def expected_refund_units(i: Item, n: int) -> tuple[int, int]:
    """SPEC §5, "which units a refund takes": paid-but-unsent first, then shipped ones."""
    u = min(n, max(0, i.qty_invoiced - min(i.qty_invoiced, i.qty_shipped) - (i.qty_refunded - i.qty_returned)))
    return u, n - u


# ---------------------------------------------------------------- exhaustive checks

def test_state_space_is_what_we_think():
    assert len(SINGLE) == len(set(SINGLE)) and len(PAIRS) == len(item_states(2)) ** 2
    assert any(i.qty_returned for i in SINGLE) and Item(2, 1, 1, 1, 0, True, 1) in SINGLE
    assert Item(2, 1, 1, 1, 0, True, 0) in SINGLE  # an unsent refund beside a shipped unit
    assert Item(2, 2, 2, 1, 0, True, 0) not in SINGLE  # shipped 2 + 1 refunded unsent > 2 ordered
    for i in SINGLE:
        assert 0 <= i.qty_invoiced + i.qty_canceled <= i.qty_ordered
        assert i.qty_shipped + i.qty_canceled <= i.qty_ordered
        assert i.qty_refunded <= i.qty_invoiced
        assert i.qty_returned <= min(i.qty_shipped, i.qty_refunded)
        # the constraints keep qty_to_ship's max(0, …) from ever clipping
        assert i.qty_ordered - i.qty_shipped - (i.qty_refunded - i.qty_returned) - i.qty_canceled >= 0


def test_derived_quantities_exhaustively():
    for i in SINGLE:
        assert rules.qty_to_invoice(i) == to_invoice(i), i
        assert rules.qty_to_ship(i) == to_ship(i), i
        assert rules.qty_to_refund(i) == to_refund(i), i
        assert rules.qty_to_cancel(i) == to_cancel(i), i
        assert 0 <= rules.qty_to_cancel(i) <= rules.qty_to_invoice(i)


def test_model_properties_agree_with_the_pure_functions():
    from sales.models import OrderItem

    for i in SINGLE:
        row = OrderItem(qty_ordered=i.qty_ordered, qty_invoiced=i.qty_invoiced, qty_shipped=i.qty_shipped,
                        qty_refunded=i.qty_refunded, qty_returned=i.qty_returned, qty_canceled=i.qty_canceled,
                        is_shippable=i.is_shippable)
        assert (row.qty_to_invoice, row.qty_to_ship, row.qty_to_refund, row.qty_to_cancel) == (
            to_invoice(i), to_ship(i), to_refund(i), to_cancel(i)), i


@pytest.mark.parametrize("current", ALL_STATUSES)
def test_status_compute_single_item_exhaustively(current):
    for i, (gateway, captured) in itertools.product(SINGLE, PAYMENTS):
        got = rules.status_compute([i], current=current, gateway_payment=gateway, payment_captured=captured)
        assert got == expected_status([i], current, gateway, captured), (i, current, gateway, captured)


@pytest.mark.parametrize("current", ALL_STATUSES)
def test_status_compute_two_items_exhaustively(current):
    for (a, b), (gateway, captured) in itertools.product(PAIRS, PAYMENTS):
        got = rules.status_compute([a, b], current=current, gateway_payment=gateway, payment_captured=captured)
        assert got == expected_status([a, b], current, gateway, captured), (a, b, current, gateway, captured)


@pytest.mark.parametrize("refundable", [Decimal("0.00"), Decimal("0.01")])
def test_flags_exhaustively(refundable):
    for (a, b), status, gateway in itertools.product(PAIRS, ALL_STATUSES, (False, True)):
        assert rules.flags_compute([a, b], status=status, gateway_payment=gateway, refundable_amount=refundable) \
            == expected_flags([a, b], status, gateway, refundable > 0), (a, b, status, gateway)


@pytest.mark.parametrize("refundable", [Decimal("-0.01"), Decimal("0.00"), Decimal("0.01"), Decimal("100.00")])
def test_refund_flag_follows_money_not_units(refundable):
    """Shipping or an adjustment may still be refunded once every invoiced unit has been; and units
    left to refund are worth nothing once every cent is refunded (adjustments) or if they were
    invoiced at 0.00."""
    unrefunded, refunded = Item(2, 2, 0, 0), Item(2, 2, 0, 2)
    for items in ([unrefunded], [refunded]):
        for status in (1, 3, 4):
            flags = rules.flags_compute(items, status=status, gateway_payment=False, refundable_amount=refundable)
            assert flags.refund is (refundable > 0), (items, status)
        for status in (5, 6, 7):
            assert not rules.flags_compute(items, status=status, gateway_payment=False,
                                           refundable_amount=refundable).refund


def test_refund_units_exhaustively():
    """Which units refunding n takes, for every allowed item and every n it may refund: the SPEC's
    formula, and the item after it is still one the constraints allow, with qty_to_ship down by
    exactly the unsent units (their reservation) and the returned ones never beyond what shipped."""
    for i in SINGLE:
        for n in range(1, to_refund(i) + 1):
            unsent, returned = rules.refund_units(i, n)
            assert (unsent, returned) == expected_refund_units(i, n), (i, n)
            after = Item(i.qty_ordered, i.qty_invoiced, i.qty_shipped, i.qty_refunded + n, i.qty_canceled,
                         i.is_shippable, i.qty_returned + returned)
            assert allowed(after), (i, n, after)
            assert to_ship(i) - to_ship(after) == (unsent if i.is_shippable else 0), (i, n)
            if not i.is_shippable:
                assert returned == 0


def test_refund_of_a_shipped_unit_beside_an_uninvoiced_one_strands_nothing():
    """SPEC §5's example: 2 ordered, 1 invoiced, 1 shipped; refunding 1 returns the shipped unit."""
    i = Item(2, 1, 1)
    assert rules.refund_units(i, 1) == (0, 1)
    after = Item(2, 1, 1, 1, 0, True, 1)
    assert (rules.qty_to_ship(after), rules.qty_to_invoice(after), rules.qty_to_cancel(after)) == (1, 1, 1)
    # Paid, not sent: the refund takes that unit and its reservation.
    assert rules.refund_units(Item(2, 2, 1), 1) == (1, 0)
    assert rules.refund_units(Item(2, 2, 1), 2) == (1, 1)
    assert rules.refund_units(Item(3, 3, 1, 1, 0, True, 0), 2) == (1, 1)


def test_status_is_never_stuck_on_a_stale_value():
    """Only fraud is sticky: any other stored status is recomputed from the quantities."""
    fresh = Item(2)
    for current in range(1, 7):
        assert rules.status_compute([fresh], current=current, gateway_payment=False, payment_captured=False) == 1


# ---------------------------------------------------------------- the table, readable

I = Item  # noqa: E741 - short for the table
TABLE = [
    ("new order", [I(2)], False, False, "pending"),
    ("new gateway order", [I(2)], True, False, "pending_payment"),
    ("gateway order with payment captured", [I(2)], True, True, "pending"),
    ("partly invoiced", [I(2, 1)], False, False, "processing"),
    ("gateway order partly invoiced", [I(2, 1)], True, False, "processing"),
    ("shipped before invoicing", [I(2, 0, 2)], False, False, "processing"),
    ("invoiced, not shipped", [I(2, 2)], False, False, "processing"),
    ("invoiced and shipped", [I(2, 2, 2)], False, False, "completed"),
    ("virtual, invoiced", [I(1, 1, 0, 0, 0, False)], False, False, "completed"),
    ("virtual, not invoiced", [I(1, 0, 0, 0, 0, False)], False, False, "pending"),
    ("all canceled", [I(2, 0, 0, 0, 2), I(1, 0, 0, 0, 1)], False, False, "canceled"),
    ("one line canceled, other untouched", [I(2, 0, 0, 0, 2), I(1)], False, False, "processing"),
    ("part invoiced, rest canceled, not shipped", [I(3, 1, 0, 0, 2)], False, False, "processing"),
    ("part invoiced and shipped, rest canceled", [I(3, 1, 1, 0, 2)], False, False, "completed"),
    ("all refunded", [I(2, 2, 0, 2)], False, False, "closed"),
    ("all refunded after shipping", [I(2, 2, 2, 2, 0, True, 2)], False, False, "closed"),
    ("refunded + canceled covers every unit", [I(3, 1, 0, 1, 2)], False, False, "closed"),
    ("part refunded, rest shipped", [I(2, 2, 1, 1)], False, False, "completed"),
    ("part refunded, rest to ship", [I(3, 3, 1, 1)], False, False, "processing"),
    ("every line refunded but one unit", [I(2, 2, 2, 2, 0, True, 2), I(2, 2, 2, 1, 0, True, 1)], False, False,
     "completed"),
    ("shipped unit returned, the other neither billed nor sent", [I(2, 1, 1, 1, 0, True, 1)], False, False,
     "processing"),
    ("returned unit, the other billed and sent", [I(2, 2, 2, 1, 0, True, 1)], False, False, "completed"),
    ("returned unit, the other canceled", [I(2, 1, 1, 1, 1, True, 1)], False, False, "closed"),
    ("fully canceled beats closed", [I(1, 0, 0, 0, 1)], False, False, "canceled"),
]


@pytest.mark.parametrize(("name", "items", "gateway", "captured", "status"), TABLE, ids=[t[0] for t in TABLE])
def test_status_table(name, items, gateway, captured, status):
    assert all(allowed(i) for i in items), items
    code = OrderStatus(rules.status_compute(items, current=1, gateway_payment=gateway, payment_captured=captured))
    assert code.label == status
    assert rules.status_compute(items, current=7, gateway_payment=gateway, payment_captured=captured) == 7


@pytest.mark.parametrize(("done", "total", "state"), [(0, 0, "none"), (0, 3, "none"), (1, 3, "partial"),
                                                      (3, 3, "full"), (4, 3, "full")])
def test_doc_state(done, total, state):
    assert rules.doc_state(done, total) == state


# ---------------------------------------------------------------- fraud, through the API



def _actions(order, item_id):
    return [
        ("invoices", {}, "order_not_invoiceable"),
        ("shipments", {"inventory_source_id": default_source().id}, "order_not_shippable"),
        ("refunds", {"items": [{"order_item_id": item_id, "quantity": 1}]}, "order_not_refundable"),
        ("refunds/preview", {"items": [{"order_item_id": item_id, "quantity": 1}]}, "order_not_refundable"),
        ("cancel", None, "order_not_cancelable"),
    ]


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_passwords")
def test_fraud_refuses_every_action_with_its_code(api):
    a, b = product(stock=5), product(stock=5)
    order = order_with((a, 2), (b, 2))
    ia = items_of(order)[0]
    from sales.services.common import LineQty
    from sales.services.invoicing import invoice_create

    invoice_create(order_id=order.id, items=[LineQty(ia.id, 1)], actor=None)  # something to refund, ship, cancel
    set_status(order, OrderStatus.FRAUD)
    d = api.get(f"/api/admin/orders/{order.id}").json()
    assert d["status"] == "fraud" and d["status_id"] == 7
    assert d["can"] == {"invoice": False, "ship": False, "refund": False, "cancel": False, "edit": False,
                        "hold": True, "release_hold": False}
    for path, body, code in _actions(order, ia.id):
        with nothing_written(api, order.id):
            assert_error(api.post(f"/api/admin/orders/{order.id}/{path}", body, format="json"), 409, code,
                         says="fraud")
    r = api.post(f"/api/admin/orders/{order.id}/comments", {"comment": "checking with the bank"}, format="json")
    assert r.status_code == 201 and reload(order).status == OrderStatus.FRAUD


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_passwords")
@pytest.mark.parametrize(("setup", "after"), [
    ("new", "pending"), ("gateway", "pending_payment"), ("partly_invoiced", "processing"),
    ("invoiced_and_shipped", "completed"),
])
def test_clear_fraud_restores_the_computed_status(api, admin_user, setup, after):
    p = product(stock=5)
    order = order_with((p, 2), payment="paypal_standard" if setup == "gateway" else "cashondelivery")
    line = items_of(order)[0]
    if setup == "partly_invoiced":
        from sales.services.common import LineQty
        from sales.services.invoicing import invoice_create

        invoice_create(order_id=order.id, items=[LineQty(line.id, 1)], actor=None)
    if setup == "invoiced_and_shipped":
        invoice_all(order)
        api.post(f"/api/admin/orders/{order.id}/shipments", {"inventory_source_id": default_source().id},
                 format="json")
    set_status(order, OrderStatus.FRAUD)
    r = api.post(f"/api/admin/orders/{order.id}/clear-fraud")
    assert r.status_code == 200, r.json()
    assert r.json()["status"] == after and r.json()["id"] == order.id
    assert reload(order).status == OrderStatus[after.upper()]
    events = [e for e in api.get(f"/api/admin/orders/{order.id}/history").json() if e["type"] == "fraud_cleared"]
    assert len(events) == 1 and events[0]["actor"]["id"] == admin_user.id


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_passwords")
def test_fraud_keeps_stock_reserved_until_cleared_and_canceled(api):
    from catalog.models import Product

    p = product(stock=5)
    order = fraud_order((p, 2))
    assert Product.objects.get(id=p.id).qty_reserved == 2
    assert api.post(f"/api/admin/orders/{order.id}/cancel").status_code == 409
    assert Product.objects.get(id=p.id).qty_reserved == 2
    assert api.post(f"/api/admin/orders/{order.id}/clear-fraud").status_code == 200
    assert api.post(f"/api/admin/orders/{order.id}/cancel").json()["status"] == "canceled"
    assert Product.objects.get(id=p.id).qty_reserved == 0


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_passwords")
def test_clear_fraud_refusals(api, staff_api):
    order = order_with((product(), 1))
    with nothing_written(api, order.id):
        assert_error(api.post(f"/api/admin/orders/{order.id}/clear-fraud"), 409, "order_not_fraud")
    flagged = fraud_order()
    for client in (staff_api(), staff_api("sales.view_order", "sales.change_order", "sales.cancel_order")):
        with nothing_written(api, flagged.id):
            assert_error(client.post(f"/api/admin/orders/{flagged.id}/clear-fraud"), 403, "permission_denied")
    assert_error(api.post("/api/admin/orders/987654321/clear-fraud"), 404, "not_found")
    assert staff_api("sales.clear_fraud").post(f"/api/admin/orders/{flagged.id}/clear-fraud").status_code == 200
