"""``import_plan``: a validated document plus the lookups in, an ``ImportPlan`` out (every amount
computed, every id resolved) or a ``DomainError``. Pure apart from the lookups: every rule of the
import (SPEC §7.2) lives here; the writers only write what a plan says."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import orjson
from django.conf import settings

from accounts.models import User
from carts.models import ShippingMethod
from catalog.error_codes import CatalogErrorCode
from catalog.errors import CurrencyNotSupported, InventorySourceNotFound, VariantRequired
from catalog.models import Currency, Product, ProductType
from config.error_codes import CommonErrorCode
from config.errors import InvalidInput
from config.jsontext import json_text
from config.money import ZERO, q2, split_pro_rata
from customers.errors import CustomerNotFound
from customers.models import ADDRESS_FIELDS
from sales import status as rules
from sales.errors import ItemNotShippable, OrderItemNotFound, QuantityExceedsRemaining
from sales.importing.errors import DuplicateReference, PaymentMethodNotFound, ShippingMethodNotFound, TotalsMismatch
from sales.importing.lookups import DEFAULT_SOURCE, ImportLookups, as_id, staff_key
from sales.models import FulfillmentType, OrderStatus
from sales.services.placing import checkout_token_new

MAX_MONEY = Decimal("999999999999.99")  # DecimalField(max_digits=14, decimal_places=2)
MAX_PERCENT = Decimal("9999.9999")  # DecimalField(max_digits=8, decimal_places=4)
HUNDRED = Decimal(100)
PERCENT_PLACES = Decimal("0.0001")
CAPTURED = "captured"
STATUS_BY_LABEL = {s.label: s.value for s in OrderStatus}

Minors = tuple[Decimal, Decimal, Decimal, Decimal]


@dataclass
class ItemPlan:
    product_id: int | None
    sku: str | None
    name: str
    type: str
    is_shippable: bool
    is_stocked: bool
    qty: int
    price: Decimal
    subtotal: Decimal
    tax_percent: Decimal
    tax_amount: Decimal
    discount_amount: Decimal

    @property
    def total(self) -> Decimal:
        return self.subtotal - self.discount_amount + self.tax_amount

    def fields(self) -> dict[str, Any]:
        return {"product_id": self.product_id, "sku": self.sku, "name": self.name, "type": self.type,
                "is_shippable": self.is_shippable, "is_stocked": self.is_stocked, "qty_ordered": self.qty,
                "price": self.price, "subtotal": self.subtotal, "tax_percent": self.tax_percent,
                "tax_amount": self.tax_amount, "discount_amount": self.discount_amount, "total": self.total}


@dataclass
class ShipmentPlanned:
    index: int  # position in the document's fulfillments
    lines: list[tuple[int, int]] | None  # (item position, quantity), merged by item; None = everything left
    carrier_title: str
    track_number: str
    created_at: datetime
    wanted: list[tuple[int, str, int | None]] | None = None  # (position in the fulfillment, sku, quantity)


@dataclass
class ImportPlan:
    reference: str
    status: int
    order: dict[str, Any]  # Order fields, except number, customer and created_by
    customer_id: int | None
    new_customer: tuple[str, str, str] | None  # (email, first_name, last_name) to find or create
    items: list[ItemPlan]
    payments: list[dict[str, Any]]
    comments: list[dict[str, Any]]
    invoice: bool
    shipments: list[ShipmentPlanned]
    event: dict[str, Any]
    notify: bool
    buy_items: bool
    source_document: dict[str, Any]
    source_json: str  # the document as JSONField stores it (JSON text), made once
    reserve: dict[int, int] = field(default_factory=dict)  # product id → units to reserve (ordered)
    ship: dict[int, int] = field(default_factory=dict)  # product id → units shipments take at the default source

    @property
    def created_at(self) -> datetime:
        created: datetime = self.order["created_at"]
        return created


@dataclass
class _Customer:
    id: int | None
    new: tuple[str, str, str] | None
    email: str
    name: str


@dataclass
class _Totals:
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    shipping: Decimal
    grand: Decimal


# --------------------------------------------------------------------------- small rules


def _minor(value: Decimal | None) -> Decimal:
    return value if value is not None else ZERO


def _check_money(value: Decimal, field_path: str) -> Decimal:
    if abs(value) > MAX_MONEY:
        raise InvalidInput(f"{field_path}: the amount {value} is larger than this store can hold.",
                           field=field_path)
    return value


def _address(data: dict[str, Any] | None) -> dict[str, Any] | None:
    if not data:
        return None
    out = {f: (data.get(f) or "") for f in ADDRESS_FIELDS}
    if not out["phone"]:
        out["phone"] = data.get("mobile") or ""
    if not out["country"]:
        out["country"] = settings.STORE_COUNTRY
    return out


def _split_gross(gross: Decimal, rate: Decimal) -> tuple[Decimal, Decimal]:
    """A price including tax → (amount, tax), tax = gross − gross / (1 + rate)."""
    if not rate:
        return gross, ZERO
    tax = gross - gross / (1 + rate / HUNDRED)
    return gross - tax, tax


def _finite(raw: bytes) -> bool:
    """Whether the JSON text ``raw`` holds no number that parses as infinity (such as 1e400):
    orjson refuses those ("number is infinity when parsed as double"), and anything else it
    refuses errs only towards the slow check. ~4 µs for a 1 KB document."""
    try:
        orjson.loads(raw)
    except orjson.JSONDecodeError:
        return False
    return True


def _source_json(document: dict[str, Any], raw: bytes | None) -> str:
    if raw is not None and _finite(raw):  # then the fast serialiser (which writes infinity as null) is exact
        return json_text(document)
    try:  # stored as JSON: a number JSON can write but not hold (1e400 parses as infinity) is refused here
        return json.dumps(document, allow_nan=False)
    except ValueError:
        raise InvalidInput("The document holds a number too large to store (JSON cannot hold infinity).",
                           code=CommonErrorCode.VALIDATION_ERROR) from None


def _status(data: dict[str, Any]) -> int:
    status = data.get("status_id")
    if status is None:
        return STATUS_BY_LABEL.get(data.get("state") or "", OrderStatus.PENDING.value)
    return int(status)


def _currency(data: dict[str, Any], lookups: ImportLookups) -> Currency:
    code = (data.get("currency") or settings.BASE_CURRENCY).upper()
    currency = lookups.currencies.get(code)
    if currency is None or not currency.enabled:
        raise CurrencyNotSupported(f"Currency {code} is not enabled.", field="currency")
    return currency


def _customer(data: dict[str, Any], lookups: ImportLookups, names: dict[str, Any]) -> _Customer:
    if data.get("customer_id"):
        customer = lookups.customers_by_id.get(data["customer_id"])
        if customer is None:
            raise CustomerNotFound(f"No customer with id {data['customer_id']}.", field="customer_id")
        return _Customer(customer.id, None, (data.get("email") or customer.email).strip().lower(), customer.name)
    if not data.get("email"):
        raise InvalidInput("email is required when customer_id is not given.", field="email")
    email = data["email"].strip().lower()
    found = lookups.customers_by_email.get(email)
    if found is not None:
        return _Customer(found.id, None, email, found.name)
    new = (email, names.get("first_name", ""), names.get("last_name", ""))
    return _Customer(None, new, email, f"{new[1]} {new[2]}".strip())


def _shipping_method(data: dict[str, Any], lookups: ImportLookups) -> ShippingMethod | None:
    if not data.get("shipping_method_id"):
        return None
    method = lookups.shipping_methods.get(data["shipping_method_id"])
    if method is None:
        raise ShippingMethodNotFound(f"No shipping method with id {data['shipping_method_id']}.",
                                     field="shipping_method_id")
    return method


# --------------------------------------------------------------------------- items


def _resolve_product(item: dict[str, Any], n: int, lookups: ImportLookups) -> Product | None:
    """By sku, then product_id, then variant_id; a configurable product becomes its variant
    (variant_id when it names one of them, else the first)."""
    product = None
    sku = item.get("sku")
    if sku:
        product = lookups.products_by_sku.get(sku)
    if product is None:
        pid = as_id(item.get("product_id"))
        if pid:
            product = lookups.products_by_id.get(pid)
    if product is None and item.get("variant_id"):
        product = lookups.products_by_id.get(item["variant_id"])
    if product is not None and product.type == ProductType.CONFIGURABLE:
        variants = lookups.variants.get(product.id, [])
        chosen = next((v for v in variants if v.id == item.get("variant_id")), variants[0] if variants else None)
        if chosen is None:
            raise VariantRequired(f"{product.sku} is a configurable product with no variants: name a variant.",
                                  field=f"items.{n}.product_id")
        product = chosen
    return product


def _custom_line_check(item: dict[str, Any], n: int) -> None:
    missing = [f for f in ("sku", "name") if not item.get(f)]
    if missing:
        raise InvalidInput(
            f"items.{n} matches no product (by sku, product_id or variant_id): a custom line needs "
            f"{' and '.join(missing)}.", code=CatalogErrorCode.PRODUCT_NOT_FOUND,
            errors=[{"field": f"items.{n}.{f}", "code": CatalogErrorCode.PRODUCT_NOT_FOUND,
                     "message": "Required: the line matches no product, so it becomes a custom line."}
                    for f in missing])


def _unit_figures(item: dict[str, Any], rate: Decimal) -> Minors:
    """(unit amount, unit tax, discount amount, discount tax) in the document's minor units."""
    price = item["price"]
    if price["gross"] is not None:
        unit_amount, unit_tax = _split_gross(price["gross"], rate)
    else:
        unit_amount, unit_tax = price["amount"], price["tax"]
    discount = item.get("discount")
    if not discount:
        disc_amount = disc_tax = ZERO
    elif discount["gross"] is not None:
        disc_amount, disc_tax = _split_gross(discount["gross"], rate)
    else:
        disc_amount, disc_tax = _minor(discount["amount"]), _minor(discount["tax"])
    return unit_amount, unit_tax, disc_amount, disc_tax


def _line_identity(item: dict[str, Any], product: Product | None, buy_items: bool) -> tuple[str | None, str, str,
                                                                                              bool, bool]:
    """(sku, name, type, is_shippable, is_stocked) of a line."""
    if product is not None:
        return (product.sku, item.get("name") or product.name, product.type,
                product.is_shippable and item.get("shippable") is not False, product.is_stocked and buy_items)
    shippable = item.get("shippable") is not False
    return item["sku"], item["name"], (ProductType.SIMPLE if shippable else ProductType.VIRTUAL).value, shippable, False


def _item_plan(item: dict[str, Any], n: int, lookups: ImportLookups, tax_address: dict[str, Any] | None,
               buy_items: bool) -> tuple[ItemPlan, Minors]:
    product = _resolve_product(item, n, lookups)
    if product is None:
        _custom_line_check(item, n)
    qty = item["quantity"]
    unit_amount, unit_tax, disc_amount, disc_tax = _unit_figures(item, lookups.tax_rate(product, tax_address))
    sku, name, type_, shippable, stocked = _line_identity(item, product, buy_items)
    tax_percent = ZERO
    if unit_amount:
        tax_percent = (unit_tax / unit_amount * HUNDRED).quantize(PERCENT_PLACES, rounding=ROUND_HALF_UP)
        if tax_percent > MAX_PERCENT:
            raise InvalidInput(f"items.{n}.price.tax: the tax is {tax_percent}% of the amount.",
                               field=f"items.{n}.price.tax")
    plan = ItemPlan(
        product_id=product.id if product is not None else None, sku=sku, name=name[:255], type=type_,
        is_shippable=shippable, is_stocked=stocked, qty=qty,
        price=_check_money(q2(unit_amount / HUNDRED), f"items.{n}.price"),
        subtotal=_check_money(q2(unit_amount * qty / HUNDRED), f"items.{n}.quantity"),
        tax_percent=tax_percent,
        tax_amount=_check_money(q2((unit_tax * qty - disc_tax) / HUNDRED), f"items.{n}.price.tax"),
        discount_amount=_check_money(q2(disc_amount / HUNDRED), f"items.{n}.discount"),
    )
    return plan, (unit_amount * qty, unit_tax * qty, disc_amount, disc_tax)


def _items_plan(data: dict[str, Any], lookups: ImportLookups, tax_address: dict[str, Any] | None,
                buy_items: bool) -> tuple[list[ItemPlan], list[Minors]]:
    """Lines in store currency units, and per line the document's minor-unit figures
    (amount × qty, tax × qty, discount amount, discount tax) that order-level checks compare."""
    plans: list[ItemPlan] = []
    minors: list[Minors] = []
    for n, item in enumerate(data["items"]):
        plan, minor = _item_plan(item, n, lookups, tax_address, buy_items)
        plans.append(plan)
        minors.append(minor)
    return plans, minors


def _subtotal_check(data: dict[str, Any], minors: list[Minors], tolerance: Decimal) -> None:
    subtotal = data.get("subtotal") or {}
    for key, pos, label in (("amount", 0, "price.amount × quantity"), ("tax", 1, "price.tax × quantity")):
        if subtotal.get(key) is None:
            continue
        given = q2(subtotal[key] / HUNDRED)
        computed = sum((q2(m[pos] / HUNDRED) for m in minors), ZERO)
        if abs(given - computed) > tolerance:
            raise TotalsMismatch(
                f"subtotal.{key} is {given} but the items' {label} add up to {computed} "
                f"(a difference of {given - computed}, more than a cent per line).", field=f"subtotal.{key}")


def _order_discount(data: dict[str, Any], items: list[ItemPlan], minors: list[Minors], tolerance: Decimal) -> None:
    discount = data.get("discount") or {}
    weights = [i.subtotal for i in items]
    for key, pos in (("amount", 2), ("tax", 3)):
        if discount.get(key) is None:
            continue
        items_sum = sum((m[pos] for m in minors), ZERO)
        extra = q2((discount[key] - items_sum) / HUNDRED)
        if extra < -tolerance:
            raise TotalsMismatch(
                f"discount.{key} is {q2(discount[key] / HUNDRED)} but the items' discount {key}s add up to "
                f"{q2(items_sum / HUNDRED)}, more than the order's.", field=f"discount.{key}")
        if extra <= 0:
            continue
        for item, part in zip(items, split_pro_rata(extra, weights), strict=True):
            if key == "amount":
                item.discount_amount += part
            else:
                item.tax_amount -= part


def _order_level_checks(data: dict[str, Any], items: list[ItemPlan], minors: list[Minors]) -> None:
    """subtotal vs the items (a cent per line), then an order-level discount beyond the
    items' discounts split over the lines pro rata by subtotal (its tax likewise)."""
    tolerance = Decimal("0.01") * len(items)
    _subtotal_check(data, minors, tolerance)
    _order_discount(data, items, minors, tolerance)
    for n, item in enumerate(items):
        if item.discount_amount > item.subtotal:
            raise InvalidInput(f"items.{n}: the discount {item.discount_amount} is more than the line's subtotal "
                               f"{item.subtotal}.", field=f"items.{n}.discount")
        if item.tax_amount < 0:
            raise InvalidInput(f"items.{n}: the discount's tax takes the line's tax below zero ({item.tax_amount}).",
                               field=f"items.{n}.discount.tax")


# --------------------------------------------------------------------------- payments, comments


def _payments_plan(data: dict[str, Any], lookups: ImportLookups) -> list[dict[str, Any]]:
    out = []
    for n, p in enumerate(data.get("payments") or ()):
        if p.get("method_id"):
            method = lookups.payment_methods_by_id.get(p["method_id"])
            if method is None:
                raise PaymentMethodNotFound(f"No payment method with id {p['method_id']}.",
                                            field=f"payments.{n}.method_id")
            code, title, known_method = method.code, method.title, True
        else:
            known = lookups.payment_methods_by_code.get(p["driver"])
            code, title = (known.code, known.title) if known else (p["driver"], p["driver"])
            known_method = known is not None
        out.append({"method": code, "title": title, "known": known_method,
                    "amount": _check_money(q2(p["amount"] / HUNDRED), f"payments.{n}.amount"),
                    "state": p.get("state") or CAPTURED, "reference": p.get("reference") or str(uuid.uuid4())})
    return out


def _author(admin: Any, lookups: ImportLookups, actor: User | None) -> tuple[User | None, str]:
    if admin is None or admin == "":
        if actor is not None and actor.pk:
            return actor, actor.get_full_name()
        return None, ""
    key = staff_key(admin)
    user = lookups.staff_by_id.get(key) if isinstance(key, int) else \
        lookups.staff_by_email.get(key) if key is not None else None
    if user is not None:
        return user, user.get_full_name()
    return None, str(admin)[:255]


def _comments_plan(data: dict[str, Any], lookups: ImportLookups, actor: User | None,
                   now: datetime) -> list[dict[str, Any]]:
    comments = []
    for c in data.get("comments") or ():
        author, author_name = _author(c.get("admin"), lookups, actor)
        comments.append({"comment": c["message"], "customer_notified": bool(c.get("customer_facing")),
                         "author_id": author.pk if author is not None else None, "author_name": author_name,
                         "created_at": c.get("created_at") or now})
    return comments


# --------------------------------------------------------------------------- fulfillments


def _fulfillment_kept(f: dict[str, Any], *, state: str, method: str | None,
                      reason: str | None = None) -> dict[str, Any]:
    """A fulfillment that makes no shipment, as the history keeps it."""
    kept = {"reference": f.get("reference"), "state": state, "method": method,
            "tracking_code": f.get("tracking_code"),
            "dispatched_at": f["dispatched_at"].isoformat() if f.get("dispatched_at") else None}
    if reason is not None:
        kept["reason"] = reason
    return kept


def _fulfillment_lines(f: dict[str, Any], n: int, items: list[ItemPlan],
                       by_sku: dict[str, list[int]]) -> list[tuple[int, str, int | None]]:
    lines = []
    for m, fi in enumerate(f["items"]):
        positions = by_sku.get(fi["sku"])
        if not positions:
            raise OrderItemNotFound(f"fulfillments.{n}.items.{m}: no line of this order has sku "
                                    f"{fi['sku']!r}.", field=f"fulfillments.{n}.items.{m}.sku")
        if not any(items[p].is_shippable for p in positions):
            raise ItemNotShippable(f"{items[positions[0]].name} ({fi['sku']}) does not ship.",
                                   field=f"fulfillments.{n}.items.{m}.sku")
        lines.append((m, fi["sku"], fi.get("quantity")))
    return lines


def _fulfillments_plan(data: dict[str, Any], items: list[ItemPlan],
                       created_at: datetime) -> tuple[list[ShipmentPlanned], list[dict[str, Any]]]:
    """Successful fulfillments → shipments (lines by sku: 400s here, quantities checked later)."""
    shipments: list[ShipmentPlanned] = []
    others: list[dict[str, Any]] = []
    by_sku: dict[str, list[int]] = {}
    for pos, item in enumerate(items):
        if item.sku:
            by_sku.setdefault(item.sku, []).append(pos)
    for n, f in enumerate(data.get("fulfillments") or ()):
        state = f.get("state") or "open"
        method = f.get("method")
        if state != "successful":
            others.append(_fulfillment_kept(f, state=state, method=None if method is None else str(method)))
            continue
        wanted = _fulfillment_lines(f, n, items, by_sku) if f.get("items") else None
        shipments.append(ShipmentPlanned(index=n, lines=None, wanted=wanted,
                                         carrier_title=("" if method is None else str(method))[:255],
                                         track_number=(f.get("tracking_code") or "")[:255],
                                         created_at=f.get("dispatched_at") or created_at))
    return shipments, others


def _merge_lines(shipment: ShipmentPlanned, items: list[ItemPlan], left: list[int]) -> dict[int, int]:
    n = shipment.index
    merged: dict[int, int] = {}
    for m, sku, qty in shipment.wanted or ():
        positions = [p for p, i in enumerate(items) if i.sku == sku and i.is_shippable]
        pos = next((p for p in positions if left[p] - merged.get(p, 0) > 0), positions[0])
        available = left[pos] - merged.get(pos, 0)
        want = available if qty is None else qty
        if want > available or want < 1:
            raise QuantityExceedsRemaining(
                f"{items[pos].name} ({sku}): {want if qty is not None else 'the rest'} to ship but only "
                f"{available} left to ship.", field=f"fulfillments.{n}.items.{m}.quantity")
        merged[pos] = merged.get(pos, 0) + want
    return merged


def _shipments_quantities(shipments: list[ShipmentPlanned], items: list[ItemPlan]) -> list[ShipmentPlanned]:
    """Turn (m, sku, qty) lines into (item position, qty), checking what is left to ship (409s).
    A fulfillment without items when nothing is left to ship (an order of virtual lines, or
    earlier fulfillments took every unit) makes no shipment: it is returned, for the history."""
    left = [i.qty if i.is_shippable else 0 for i in items]
    empty = []
    for shipment in shipments:
        if shipment.wanted is None:
            if not any(left):
                empty.append(shipment)
                continue
            shipment.lines = [(p, q) for p, q in enumerate(left) if q > 0]
            left = [0] * len(left)
            continue
        merged = _merge_lines(shipment, items, left)
        for pos, qty in merged.items():
            left[pos] -= qty
        shipment.lines = list(merged.items())
    for shipment in empty:
        shipments.remove(shipment)
    return empty


# --------------------------------------------------------------------------- the plan


def _totals(data: dict[str, Any], items: list[ItemPlan]) -> _Totals:
    subtotal = sum((i.subtotal for i in items), ZERO)
    ship, sur = data.get("shipping") or {}, data.get("surcharge") or {}
    shipping = _check_money(q2(sum((_minor(x.get(k)) for x in (ship, sur) for k in ("amount", "tax")), ZERO)
                               / HUNDRED), "shipping.amount")
    grand = _check_money(sum((i.total for i in items), ZERO) + shipping, "items")
    _check_money(subtotal, "items")
    return _Totals(subtotal=subtotal, discount=sum((i.discount_amount for i in items), ZERO),
                   tax=sum((i.tax_amount for i in items), ZERO), shipping=shipping, grand=grand)


def _extra(data: dict[str, Any]) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if data.get("ip"):
        extra["ip"] = data["ip"]
    if data.get("deliver_on"):
        extra["deliver_on"] = data["deliver_on"].isoformat()
    if data.get("subscription_id") is not None:
        extra["subscription_id"] = data["subscription_id"]
    return extra


def _notes(invoice: bool, payments: list[dict[str, Any]], captured_total: Decimal, grand_total: Decimal,
           others: list[dict[str, Any]]) -> list[str]:
    notes = []
    if invoice:
        notes.append(f"Captured payments ({captured_total}) cover the grand total ({grand_total}): imported as "
                     f"fully invoiced.")
    elif payments:
        notes.append(f"Captured payments ({captured_total}) do not cover the grand total ({grand_total}): nothing "
                     f"invoiced.")
    for p in payments:
        if p["state"] != CAPTURED:
            notes.append(f"Payment {p['reference']} of {p['amount']} by {p['method']} recorded as {p['state']}: "
                         f"no document created.")
    for f in others:
        why = f.get("reason") or f"it is {f['state']}"
        notes.append(f"Fulfillment {f['reference'] or '(no reference)'}: no shipment ({why}); kept in history only.")
    return notes


def _stock_needs(items: list[ItemPlan], shipments: list[ShipmentPlanned]) -> tuple[dict[int, int], dict[int, int]]:
    """(units to reserve, units the shipments take) per product."""
    reserve: dict[int, int] = {}
    shipped: dict[int, int] = {}
    for item in items:
        if item.is_stocked and item.is_shippable and item.product_id is not None:
            reserve[item.product_id] = reserve.get(item.product_id, 0) + item.qty
    for shipment in shipments:
        for pos, qty in shipment.lines or ():
            item = items[pos]
            if item.is_stocked and item.product_id is not None:
                shipped[item.product_id] = shipped.get(item.product_id, 0) + qty
    return reserve, shipped


def _check_shipping_source(shipments: list[ShipmentPlanned], lookups: ImportLookups) -> None:
    if shipments and (lookups.default_source is None or not lookups.default_source.active):
        raise InventorySourceNotFound(f"fulfillments.{shipments[0].index}: the default inventory source "
                                      f"({DEFAULT_SOURCE}) is missing or inactive, so nothing can ship from it.",
                                      field=f"fulfillments.{shipments[0].index}")


def _shipments_checked(data: dict[str, Any], shipments: list[ShipmentPlanned], items: list[ItemPlan],
                       others: list[dict[str, Any]]) -> None:
    """Quantities (409s); a fulfillment with nothing left to ship joins the history's list."""
    for s in _shipments_quantities(shipments, items):
        f = data["fulfillments"][s.index]
        others.append(_fulfillment_kept(f, state="successful", method=s.carrier_title or None,
                                        reason="nothing left to ship"))


@dataclass
class _Parts:
    """What the order row is made of, gathered by ``import_plan``."""

    status: int
    currency: Currency
    customer: _Customer
    billing: dict[str, Any] | None
    shipping_address: dict[str, Any] | None
    method: ShippingMethod | None
    items: list[ItemPlan]
    payments: list[dict[str, Any]]
    totals: _Totals
    created_at: datetime


def _order_fields(data: dict[str, Any], document: dict[str, Any], p: _Parts) -> dict[str, Any]:
    ships = any(i.is_shippable for i in p.items)
    pickup = ships and p.method is not None and p.method.code == "pickup"
    captured = [x for x in p.payments if x["state"] == CAPTURED]
    main_payment = captured[0] if captured else (p.payments[0] if p.payments else None)
    # The order's payment method is one of ours or none: an unknown driver stays on its payment
    # record (SPEC §7.2) and as the title, never as a code that lists, filters and exports trust.
    payment_code = main_payment["method"] if main_payment and main_payment["known"] else ""
    fulfillment = FulfillmentType.PICKUP if pickup else FulfillmentType.SHIPPING if ships else FulfillmentType.NONE
    return {
        "reference": data["reference"], "status": p.status, "channel": data.get("channel") or "import",
        "customer_email": p.customer.email, "customer_name": p.customer.name[:255], "currency": p.currency.code,
        "base_currency": settings.BASE_CURRENCY, "exchange_rate": data.get("exchange_rate") or p.currency.rate,
        "billing_address": p.billing, "shipping_address": None if pickup else p.shipping_address,
        "fulfillment_type": fulfillment.value,
        "shipping_method_code": p.method.code if p.method else "",
        "shipping_method_title": p.method.title if p.method else "",
        "payment_method_code": payment_code[:64],
        "payment_method_title": (main_payment["title"] if main_payment else "")[:255],
        "subtotal": p.totals.subtotal, "discount_total": p.totals.discount, "tax_total": p.totals.tax,
        "shipping_total": p.totals.shipping, "grand_total": p.totals.grand, "payment_captured": bool(captured),
        "checkout_token": checkout_token_new() if rules.is_gateway_payment(payment_code) else None,
        "created_at": p.created_at, "extra": _extra(data), "source_document": document,
    }


def _event_summary(data: dict[str, Any], order: dict[str, Any], p: _Parts, *, invoice: bool, buy_items: bool,
                   notify: bool, shipments: int, others: list[dict[str, Any]]) -> dict[str, Any]:
    captured_total = sum((x["amount"] for x in p.payments if x["state"] == CAPTURED), ZERO)
    return {"reference": data["reference"], "channel": order["channel"], "status": OrderStatus(p.status).label,
            "grand_total": str(p.totals.grand), "items": len(p.items), "buy_items": buy_items, "notify": notify,
            "invoiced": invoice, "shipments": shipments,
            "payments": [{"method": x["method"], "amount": str(x["amount"]), "state": x["state"],
                          "reference": x["reference"]} for x in p.payments],
            "fulfillments_not_shipped": others,
            "notes": _notes(invoice, p.payments, captured_total, p.totals.grand, others)}


def import_plan(data: dict[str, Any], document: dict[str, Any], lookups: ImportLookups, *, actor: User | None,
                now: datetime, raw: bytes | None = None) -> ImportPlan:
    """Every rule of the import, in SPEC order: ids in the body (400), the reference (409), then
    quantities (409). Pure apart from ``lookups``; writes nothing. Stock is checked by the writers.
    ``raw``: the JSON text the document was parsed from, when the caller has it (a bulk import's line)."""
    source_json = _source_json(document, raw)
    status = _status(data)
    currency = _currency(data, lookups)
    billing = _address(data.get("billing_address"))
    shipping_address = _address(data.get("shipping_address"))
    customer = _customer(data, lookups, billing or shipping_address or {})
    method = _shipping_method(data, lookups)
    buy_items = data.get("buy_items") is not False
    notify = data.get("notify") is not False
    tax_address = shipping_address or billing or {"country": settings.STORE_COUNTRY, "zone": ""}
    items, minors = _items_plan(data, lookups, tax_address, buy_items)
    _order_level_checks(data, items, minors)
    payments = _payments_plan(data, lookups)
    created_at = data.get("ordered_at") or now
    comments = _comments_plan(data, lookups, actor, now)
    shipments, others = _fulfillments_plan(data, items, created_at)
    _check_shipping_source(shipments, lookups)
    if data["reference"] in lookups.references_taken:
        raise DuplicateReference(f"An order with reference {data['reference']!r} has already been imported.",
                                 field="reference")
    _shipments_checked(data, shipments, items, others)
    parts = _Parts(status=status, currency=currency, customer=customer, billing=billing,
                   shipping_address=shipping_address, method=method, items=items, payments=payments,
                   totals=_totals(data, items), created_at=created_at)
    captured_total = sum((p["amount"] for p in payments if p["state"] == CAPTURED), ZERO)
    invoice = any(p["state"] == CAPTURED for p in payments) and captured_total >= parts.totals.grand
    order = _order_fields(data, document, parts)
    event = _event_summary(data, order, parts, invoice=invoice, buy_items=buy_items, notify=notify,
                           shipments=len(shipments), others=others)
    reserve, shipped = _stock_needs(items, shipments)
    return ImportPlan(reference=data["reference"], status=status, order=order, customer_id=customer.id,
                      new_customer=customer.new, items=items, payments=payments, comments=comments, invoice=invoice,
                      shipments=shipments, event=event, notify=notify, buy_items=buy_items, source_document=document,
                      source_json=source_json, reserve=reserve, ship=shipped)


__all__ = ["ImportPlan", "ItemPlan", "ShipmentPlanned", "import_plan"]
