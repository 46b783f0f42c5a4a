"""Order import (SPEC §7.2, seed 002): a JSON order document becomes an order with its lines,
payments, comments and, where the document says so, its paid invoice and its shipments.

Three layers, so that the API (one document) and ``manage.py import_orders`` (batches of
thousands) write exactly the same rows:

- ``ImportLookups`` loads everything planning needs from the database for a list of
  documents in a fixed number of queries (products, customers, staff, tax rates, methods,
  currencies, references already taken).
- ``import_plan`` is pure: a validated document plus the lookups in, an ``ImportPlan`` out
  (every amount computed, every id resolved) or a ``DomainError``. All rules live here.
- Writers: ``order_import`` writes one plan through the lifecycle services
  (``invoice_plan``/``invoice_apply``, ``shipment_plan``/``shipment_apply``), in one
  transaction; ``orders_import_bulk`` writes many plans with ``bulk_create`` and mirrors
  what those services write (tests import the same document both ways and compare).

Decisions where SPEC and seed are silent (also in the README of the import):

- Amounts land where they are stored: unit ``price`` = round(price.amount / 100); line
  ``subtotal`` = round(price.amount × qty / 100), so ``42083.33 × 2`` gives 841.67, not 2 × 420.83.
  ``shipping_total`` = round((shipping.amount + shipping.tax + surcharge.amount + surcharge.tax) / 100).
- An order-level ``discount`` (or its tax) smaller than the items' discounts by more than a
  cent per line is refused like a subtotal mismatch (400 ``totals_mismatch``); within a cent
  the items' figures stand. A line whose discount exceeds its subtotal, or whose tax would go
  below zero, is refused (400, its path).
- An order with no captured payment is never invoiced (a zero total needs a captured 0 payment).
- A fulfillment without ``state`` is ``open`` (kept in history, no shipment); a shipment without
  ``dispatched_at`` is dated like the order. The paid invoice and the payments are dated like
  the order (``ordered_at``), comments at their own ``created_at`` (default now).
- The order's payment method is that of the first captured payment (else the first payment).
  A gateway method (``paylink``, ``paypal_standard``) gets a checkout token like any such order.
- Stock that cannot be reserved (saleable quantity too low) is ``insufficient_stock`` too
  (409, nothing imported), like units a shipment cannot take at the default source.
- A comment without ``admin`` is authored by the importing user (the seed: "the API token's
  name"); ``manage.py import_orders`` has no user, so such comments have no author.
- A ``pickup`` shipping method makes the order a pickup order with no shipping address and
  no pickup location (the document names none); the address stays in ``source_document``.
"""

from __future__ import annotations

import json
import operator
import uuid
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.models import User
from carts.models import PaymentMethod, ShippingMethod
from catalog.error_codes import CatalogErrorCode
from catalog.errors import CurrencyNotSupported, InsufficientStock, InventorySourceNotFound, VariantRequired
from catalog.models import Currency, InventorySource, Product, ProductInventory, ProductType, TaxRate
from catalog.services.stock import lock_products, on_hand_map, stock_reserve, stock_take
from config.error_codes import CommonErrorCode
from config.errors import Conflict, DomainError, InvalidInput, _flatten
from config.money import ZERO, q2, split_pro_rata
from customers.errors import CustomerNotFound
from customers.models import ADDRESS_FIELDS, Customer
from customers.services.customers import customer_get_or_create_by_email
from sales import status as rules
from sales.error_codes import SalesErrorCode
from sales.errors import ItemNotShippable, OrderItemNotFound, QuantityExceedsRemaining
from sales.events import (
    event_imported,
    events_record_bulk,
    events_scope,
    imported_data,
    invoiced_data,
    line_ref,
    shipped_data,
)
from sales.models import (
    EventType,
    FulfillmentType,
    Invoice,
    InvoiceItem,
    Order,
    OrderComment,
    OrderEvent,
    OrderItem,
    OrderStatus,
    Payment,
    Shipment,
    ShipmentItem,
)
from sales.services import counters  # counters (h-counters)
from sales.services.common import LineQty, amounts_for_shipment, order_refresh_state
from sales.services.emails import email_after_commit
from sales.services.invoicing import invoice_apply, invoice_plan
from sales.services.numbering import number_next, numbers_reserve
from sales.services.placing import checkout_token_new, checkout_url_for
from sales.services.shipping import shipment_apply, shipment_plan

MAX_MONEY = Decimal("999999999999.99")  # DecimalField(max_digits=14, decimal_places=2)
MAX_PERCENT = Decimal("9999.9999")  # DecimalField(max_digits=8, decimal_places=4)
HUNDRED = Decimal(100)
PERCENT_PLACES = Decimal("0.0001")
DEFAULT_SOURCE = "default"
CAPTURED = "captured"


class DuplicateReference(Conflict):
    code = SalesErrorCode.DUPLICATE_REFERENCE
    default_message = "An order with this reference has already been imported."


class TotalsMismatch(InvalidInput):
    code = SalesErrorCode.TOTALS_MISMATCH
    default_message = "The document's totals do not match its items."


class ShippingMethodNotFound(InvalidInput):
    code = SalesErrorCode.SHIPPING_METHOD_NOT_FOUND
    default_message = "Shipping method not found."


class PaymentMethodNotFound(InvalidInput):
    code = SalesErrorCode.PAYMENT_METHOD_NOT_FOUND
    default_message = "Payment method not found."


# --------------------------------------------------------------------------- shape


# The shape is the callers' (the API's OrderImportSerializer, import_orders' compiled validator,
# sales.api.importing.document_validate): they pass the validated data in, so the services never
# import the API.


def validation_error(detail: Any) -> InvalidInput:
    """A shape error's detail as one InvalidInput with every invalid field's dotted path
    (``items.0.price.amount``), as the API answers."""
    errors = _flatten(detail)
    first = errors[0] if errors else None
    message = "Invalid input."
    if first:
        message = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
    return InvalidInput(message, errors=errors)


# --------------------------------------------------------------------------- lookups


class ImportLookups:
    """What planning needs from the database, for a list of documents, in a fixed number of
    queries. Methods, currencies and the default source are loaded once per instance."""

    def __init__(self) -> None:
        self._static_loaded = False
        self.shipping_methods: dict[int, ShippingMethod] = {}
        self.payment_methods_by_id: dict[int, PaymentMethod] = {}
        self.payment_methods_by_code: dict[str, PaymentMethod] = {}
        self.currencies: dict[str, Currency] = {}
        self.default_source: InventorySource | None = None
        self.products_by_sku: dict[str, Product] = {}
        self.products_by_id: dict[int, Product] = {}
        self.variants: dict[int, list[Product]] = {}
        self.tax_rates: dict[int, list[TaxRate]] = {}
        self.customers_by_id: dict[int, Customer] = {}
        self.customers_by_email: dict[str, Customer] = {}
        self.staff_by_id: dict[int, User] = {}
        self.staff_by_email: dict[str, User] = {}
        self.references_taken: set[str] = set()

    def _load_static(self) -> None:
        if self._static_loaded:
            return
        self.shipping_methods = {m.id: m for m in ShippingMethod.objects.all()}
        methods = list(PaymentMethod.objects.all())
        self.payment_methods_by_id = {m.id: m for m in methods}
        self.payment_methods_by_code = {m.code: m for m in methods}
        self.currencies = {c.code: c for c in Currency.objects.all()}
        self.default_source = InventorySource.objects.filter(code=DEFAULT_SOURCE).first()
        self._static_loaded = True

    def prefetch(self, docs: Sequence[dict]) -> None:
        """Load what ``docs`` (validated documents) refer to, replacing the previous batch's rows."""
        self._load_static()
        skus: set[str] = set()
        ids: set[int] = set()
        customer_ids: set[int] = set()
        emails: set[str] = set()
        staff_ids: set[int] = set()
        staff_emails: set[str] = set()
        references: set[str] = set()
        for doc in docs:
            references.add(doc["reference"])
            if doc.get("customer_id"):
                customer_ids.add(doc["customer_id"])
            elif doc.get("email"):
                emails.add(doc["email"].strip().lower())
            for item in doc["items"]:
                if item.get("sku"):
                    skus.add(item["sku"])
                pid = _as_id(item.get("product_id"))
                if pid:
                    ids.add(pid)
                if item.get("variant_id"):
                    ids.add(item["variant_id"])
            for comment in doc.get("comments") or ():
                admin = comment.get("admin")
                if isinstance(admin, int) or (isinstance(admin, str) and admin.isdigit() and len(admin) < 19):
                    staff_ids.add(int(admin))
                elif isinstance(admin, str) and "@" in admin:
                    staff_emails.add(admin.lower())
        self.products_by_sku, self.products_by_id, self.variants = {}, {}, {}
        if skus or ids:
            for p in Product.objects.filter(Q(sku__in=skus) | Q(id__in=ids)):
                self.products_by_sku[p.sku] = p
                self.products_by_id[p.id] = p
            parents = [p.id for p in self.products_by_id.values() if p.type == ProductType.CONFIGURABLE]
            if parents:
                for v in Product.objects.filter(parent_id__in=parents).order_by("id"):
                    self.variants.setdefault(v.parent_id, []).append(v)
                    self.products_by_id.setdefault(v.id, v)
        categories = {p.tax_category_id for p in self.products_by_id.values() if p.tax_category_id}
        self.tax_rates = {}
        if categories:
            for rate in TaxRate.objects.filter(category_id__in=categories):
                self.tax_rates.setdefault(rate.category_id, []).append(rate)
        self.customers_by_id = {c.id: c for c in Customer.objects.filter(id__in=customer_ids)} if customer_ids else {}
        self.customers_by_email = {}
        if emails:
            for c in Customer.objects.annotate(email_lower=Lower("email")).filter(email_lower__in=emails):
                self.customers_by_email[c.email_lower] = c
        self.staff_by_id, self.staff_by_email = {}, {}
        if staff_ids or staff_emails:
            staff = User.objects.annotate(email_lower=Lower("email")).filter(is_staff=True).filter(
                Q(id__in=staff_ids) | Q(email_lower__in=staff_emails))
            for user in staff:
                self.staff_by_id[user.id] = user
                self.staff_by_email[user.email_lower] = user
        self.references_taken = set(Order.objects.filter(reference__in=references).values_list("reference", flat=True))

    def tax_rate(self, product: Product | None, address: dict | None) -> Decimal:
        """SPEC §3: the rate of the product's category for the address; a zone rate wins."""
        if product is None or not product.tax_category_id or not address or not address.get("country"):
            return ZERO
        country = address["country"].upper()
        zone = (address.get("zone") or "").strip().lower()
        country_wide = zoned = None
        for r in self.tax_rates.get(product.tax_category_id, ()):
            if r.country != country:
                continue
            if not r.zone:
                country_wide = r.rate
            elif zone and r.zone.strip().lower() == zone:
                zoned = r.rate
        rate = zoned if zoned is not None else country_wide
        return rate if rate is not None else ZERO


def _as_id(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 < value < 2**63 else None
    if isinstance(value, str) and value.isdigit() and len(value) < 19:
        return int(value) or None
    return None


# --------------------------------------------------------------------------- plan


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
    source_document: dict
    source_json: str  # the document as JSONField stores it (json.dumps), made once
    reserve: dict[int, int] = field(default_factory=dict)  # product id → units to reserve (ordered)
    ship: dict[int, int] = field(default_factory=dict)  # product id → units shipments take at the default source

    @property
    def created_at(self) -> datetime:
        return self.order["created_at"]


def _minor(value: Decimal | None) -> Decimal:
    return value if value is not None else ZERO


def _check_money(value: Decimal, field_path: str) -> Decimal:
    if abs(value) > MAX_MONEY:
        raise InvalidInput(f"{field_path}: the amount {value} is larger than this store can hold.",
                           field=field_path)
    return value


def _address(data: dict | None) -> dict | None:
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


def _resolve_product(item: dict, n: int, lookups: ImportLookups) -> Product | None:
    """By sku, then product_id, then variant_id; a configurable product becomes its variant
    (variant_id when it names one of them, else the first)."""
    product = None
    sku = item.get("sku")
    if sku:
        product = lookups.products_by_sku.get(sku)
    if product is None:
        pid = _as_id(item.get("product_id"))
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


def _items_plan(data: dict, lookups: ImportLookups, tax_address: dict | None,
                buy_items: bool) -> tuple[list[ItemPlan], list[tuple[Decimal, Decimal, Decimal, Decimal]]]:
    """Lines in store currency units, and per line the document's minor-unit figures
    (unit amount, unit tax, discount amount, discount tax) that order-level checks compare."""
    plans: list[ItemPlan] = []
    minors: list[tuple[Decimal, Decimal, Decimal, Decimal]] = []
    for n, item in enumerate(data["items"]):
        product = _resolve_product(item, n, lookups)
        if product is None:
            missing = [f for f in ("sku", "name") if not item.get(f)]
            if missing:
                raise InvalidInput(
                    f"items.{n} matches no product (by sku, product_id or variant_id): a custom line needs "
                    f"{' and '.join(missing)}.", code=CatalogErrorCode.PRODUCT_NOT_FOUND,
                    errors=[{"field": f"items.{n}.{f}", "code": CatalogErrorCode.PRODUCT_NOT_FOUND,
                             "message": "Required: the line matches no product, so it becomes a custom line."}
                            for f in missing])
        qty = item["quantity"]
        rate = lookups.tax_rate(product, tax_address)
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
        if product is not None:
            shippable = product.is_shippable and item.get("shippable") is not False
            stocked = product.is_stocked and buy_items
            sku, name, type_ = product.sku, item.get("name") or product.name, product.type
        else:
            shippable = item.get("shippable") is not False
            stocked = False
            sku, name = item["sku"], item["name"]
            type_ = (ProductType.SIMPLE if shippable else ProductType.VIRTUAL).value
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
        plans.append(plan)
        minors.append((unit_amount * qty, unit_tax * qty, disc_amount, disc_tax))
    return plans, minors


def _order_level_checks(data: dict, items: list[ItemPlan], minors: list) -> None:
    """subtotal vs the items (a cent per line), then an order-level discount beyond the
    items' discounts split over the lines pro rata by subtotal (its tax likewise)."""
    tolerance = Decimal("0.01") * len(items)
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
    for n, item in enumerate(items):
        if item.discount_amount > item.subtotal:
            raise InvalidInput(f"items.{n}: the discount {item.discount_amount} is more than the line's subtotal "
                               f"{item.subtotal}.", field=f"items.{n}.discount")
        if item.tax_amount < 0:
            raise InvalidInput(f"items.{n}: the discount's tax takes the line's tax below zero ({item.tax_amount}).",
                               field=f"items.{n}.discount.tax")


def _payments_plan(data: dict, lookups: ImportLookups) -> list[dict[str, Any]]:
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
    user = None
    if isinstance(admin, int) or (isinstance(admin, str) and admin.isdigit() and len(admin) < 19):
        user = lookups.staff_by_id.get(int(admin))
    elif isinstance(admin, str) and "@" in admin:
        user = lookups.staff_by_email.get(admin.lower())
    if user is not None:
        return user, user.get_full_name()
    return None, str(admin)[:255]


def _fulfillments_plan(data: dict, items: list[ItemPlan], created_at: datetime) -> tuple[list[ShipmentPlanned], list]:
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
            others.append({"reference": f.get("reference"), "state": state,
                           "method": None if method is None else str(method), "tracking_code": f.get("tracking_code"),
                           "dispatched_at": f["dispatched_at"].isoformat() if f.get("dispatched_at") else None})
            continue
        lines = None
        if f.get("items"):
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
        shipments.append(ShipmentPlanned(index=n, lines=lines,  # type: ignore[arg-type]  (resolved below)
                                         carrier_title=("" if method is None else str(method))[:255],
                                         track_number=(f.get("tracking_code") or "")[:255],
                                         created_at=f.get("dispatched_at") or created_at))
    return shipments, others


def _shipments_quantities(shipments: list[ShipmentPlanned], items: list[ItemPlan]) -> list[ShipmentPlanned]:
    """Turn (m, sku, qty) lines into (item position, qty), checking what is left to ship (409s).
    A fulfillment without items when nothing is left to ship (an order of virtual lines, or
    earlier fulfillments took every unit) makes no shipment: it is returned, for the history."""
    left = [i.qty if i.is_shippable else 0 for i in items]
    empty = []
    for shipment in shipments:
        n = shipment.index
        if shipment.lines is None:
            if not any(left):
                empty.append(shipment)
                continue
            shipment.lines = [(p, q) for p, q in enumerate(left) if q > 0]
            left = [0] * len(left)
            continue
        merged: dict[int, int] = {}
        for m, sku, qty in shipment.lines:  # type: ignore[misc]
            positions = [p for p, i in enumerate(items) if i.sku == sku and i.is_shippable]
            pos = next((p for p in positions if left[p] - merged.get(p, 0) > 0), positions[0])
            available = left[pos] - merged.get(pos, 0)
            want = available if qty is None else qty
            if want > available or want < 1:
                raise QuantityExceedsRemaining(
                    f"{items[pos].name} ({sku}): {want if qty is not None else 'the rest'} to ship but only "
                    f"{available} left to ship.", field=f"fulfillments.{n}.items.{m}.quantity")
            merged[pos] = merged.get(pos, 0) + want
        for pos, qty in merged.items():
            left[pos] -= qty
        shipment.lines = list(merged.items())
    for shipment in empty:
        shipments.remove(shipment)
    return empty


def import_plan(data: dict, document: dict, lookups: ImportLookups, *, actor: User | None,
                now: datetime) -> ImportPlan:
    """Every rule of the import, in SPEC order: ids in the body (400), the reference (409), then
    quantities (409). Pure apart from ``lookups``; writes nothing. Stock is checked by the writers."""
    try:  # stored as JSON: a number JSON can write but not hold (1e400 parses as infinity) is refused here
        source_json = json.dumps(document, allow_nan=False)
    except ValueError:
        raise InvalidInput("The document holds a number too large to store (JSON cannot hold infinity).",
                           code=CommonErrorCode.VALIDATION_ERROR) from None
    status = data.get("status_id")
    if status is None:
        status = next((s.value for s in OrderStatus if s.label == data.get("state")), OrderStatus.PENDING.value)
    currency = lookups.currencies.get((data.get("currency") or settings.BASE_CURRENCY).upper())
    if currency is None or not currency.enabled:
        raise CurrencyNotSupported(f"Currency {(data.get('currency') or settings.BASE_CURRENCY).upper()} is not "
                                   f"enabled.", field="currency")
    exchange_rate = data.get("exchange_rate") or currency.rate
    billing = _address(data.get("billing_address"))
    shipping_address = _address(data.get("shipping_address"))
    customer = new_customer = None
    if data.get("customer_id"):
        customer = lookups.customers_by_id.get(data["customer_id"])
        if customer is None:
            raise CustomerNotFound(f"No customer with id {data['customer_id']}.", field="customer_id")
        email = (data.get("email") or customer.email).strip().lower()
        customer_name = customer.name
    else:
        if not data.get("email"):
            raise InvalidInput("email is required when customer_id is not given.", field="email")
        email = data["email"].strip().lower()
        customer = lookups.customers_by_email.get(email)
        if customer is not None:
            customer_name = customer.name
        else:
            names = billing or shipping_address or {}
            new_customer = (email, names.get("first_name", ""), names.get("last_name", ""))
            customer_name = f"{new_customer[1]} {new_customer[2]}".strip()
    method = None
    if data.get("shipping_method_id"):
        method = lookups.shipping_methods.get(data["shipping_method_id"])
        if method is None:
            raise ShippingMethodNotFound(f"No shipping method with id {data['shipping_method_id']}.",
                                         field="shipping_method_id")
    buy_items = data.get("buy_items") is not False
    notify = data.get("notify") is not False
    tax_address = shipping_address or billing or {"country": settings.STORE_COUNTRY, "zone": ""}
    items, minors = _items_plan(data, lookups, tax_address, buy_items)
    _order_level_checks(data, items, minors)
    payments = _payments_plan(data, lookups)
    created_at = data.get("ordered_at") or now
    comments = []
    for c in data.get("comments") or ():
        author, author_name = _author(c.get("admin"), lookups, actor)
        comments.append({"comment": c["message"], "customer_notified": bool(c.get("customer_facing")),
                         "author_id": author.pk if author is not None else None, "author_name": author_name,
                         "created_at": c.get("created_at") or now})
    shipments, other_fulfillments = _fulfillments_plan(data, items, created_at)
    if shipments and (lookups.default_source is None or not lookups.default_source.active):
        raise InventorySourceNotFound(f"fulfillments.{shipments[0].index}: the default inventory source "
                                      f"({DEFAULT_SOURCE}) is missing or inactive, so nothing can ship from it.",
                                      field=f"fulfillments.{shipments[0].index}")
    if data["reference"] in lookups.references_taken:
        raise DuplicateReference(f"An order with reference {data['reference']!r} has already been imported.",
                                 field="reference")
    for s in _shipments_quantities(shipments, items):
        f = data["fulfillments"][s.index]
        other_fulfillments.append({"reference": f.get("reference"), "state": "successful",
                                   "method": s.carrier_title or None, "tracking_code": f.get("tracking_code"),
                                   "dispatched_at": f["dispatched_at"].isoformat() if f.get("dispatched_at") else None,
                                   "reason": "nothing left to ship"})

    subtotal = sum((i.subtotal for i in items), ZERO)
    discount_total = sum((i.discount_amount for i in items), ZERO)
    tax_total = sum((i.tax_amount for i in items), ZERO)
    ship, sur = data.get("shipping") or {}, data.get("surcharge") or {}
    shipping_total = _check_money(q2(sum((_minor(x.get(k)) for x in (ship, sur) for k in ("amount", "tax")), ZERO)
                                     / HUNDRED), "shipping.amount")
    grand_total = _check_money(sum((i.total for i in items), ZERO) + shipping_total, "items")
    _check_money(subtotal, "items")
    ships = any(i.is_shippable for i in items)
    pickup = ships and method is not None and method.code == "pickup"
    captured = [p for p in payments if p["state"] == CAPTURED]
    captured_total = sum((p["amount"] for p in captured), ZERO)
    invoice = bool(captured) and captured_total >= grand_total
    main_payment = captured[0] if captured else (payments[0] if payments else None)
    # The order's payment method is one of ours or none: an unknown driver stays on its payment
    # record (SPEC §7.2) and as the title, never as a code that lists, filters and exports trust.
    payment_code = main_payment["method"] if main_payment and main_payment["known"] else ""
    extra: dict[str, Any] = {}
    if data.get("ip"):
        extra["ip"] = data["ip"]
    if data.get("deliver_on"):
        extra["deliver_on"] = data["deliver_on"].isoformat()
    if data.get("subscription_id") is not None:
        extra["subscription_id"] = data["subscription_id"]
    order_fields = {
        "reference": data["reference"], "status": status, "channel": data.get("channel") or "import",
        "customer_email": email, "customer_name": customer_name[:255], "currency": currency.code,
        "base_currency": settings.BASE_CURRENCY, "exchange_rate": exchange_rate, "billing_address": billing,
        "shipping_address": None if pickup else shipping_address,
        "fulfillment_type": (FulfillmentType.PICKUP if pickup else FulfillmentType.SHIPPING if ships
                             else FulfillmentType.NONE).value,
        "shipping_method_code": method.code if method else "", "shipping_method_title": method.title if method else "",
        "payment_method_code": payment_code[:64], "payment_method_title": (main_payment["title"] if main_payment
                                                                           else "")[:255],
        "subtotal": subtotal, "discount_total": discount_total, "tax_total": tax_total,
        "shipping_total": shipping_total, "grand_total": grand_total, "payment_captured": bool(captured),
        "checkout_token": checkout_token_new() if rules.is_gateway_payment(payment_code) else None,
        "created_at": created_at, "extra": extra, "source_document": document,
    }
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
    for f in other_fulfillments:
        why = f.get("reason") or f"it is {f['state']}"
        notes.append(f"Fulfillment {f['reference'] or '(no reference)'}: no shipment ({why}); kept in history only.")
    event = {"reference": data["reference"], "channel": order_fields["channel"], "status": OrderStatus(status).label,
             "grand_total": str(grand_total), "items": len(items), "buy_items": buy_items, "notify": notify,
             "invoiced": invoice, "shipments": len(shipments),
             "payments": [{"method": p["method"], "amount": str(p["amount"]), "state": p["state"],
                           "reference": p["reference"]} for p in payments],
             "fulfillments_not_shipped": other_fulfillments, "notes": notes}
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
    return ImportPlan(reference=data["reference"], status=status, order=order_fields,
                      customer_id=customer.id if customer is not None else None,
                      new_customer=new_customer, items=items, payments=payments, comments=comments, invoice=invoice,
                      shipments=shipments, event=event, notify=notify, buy_items=buy_items, source_document=document,
                      source_json=source_json,
                      reserve=reserve, ship=shipped)


# --------------------------------------------------------------------------- stock


def _stock_verdicts(plans: Sequence[ImportPlan], source_id: int | None) -> tuple[dict[int, Product],
                                                                                  list[InsufficientStock | None]]:
    """Lock the products (pk order) and the default source's rows, then take the plans in
    order as if imported one after another: each either fits in what the previous ones left
    (None) or is refused with the 409 insufficient_stock a one-document import would give it.
    A reservation needs saleable units (Σ qty over active sources − reserved); a shipment
    needs units at the default source. Importing a plan takes its ordered units from the
    saleable quantity (a shipment turns reserved units into shipped ones) and its shipped
    units from the default source."""
    reserve_ids = {pid for plan in plans for pid in plan.reserve}
    ship_ids = {pid for plan in plans for pid in plan.ship}
    products = lock_products(reserve_ids | ship_ids)
    saleable: dict[int, int] = {}
    if reserve_ids:
        on_hand = on_hand_map(reserve_ids)
        saleable = {pid: on_hand[pid] - products[pid].qty_reserved for pid in reserve_ids}
    at_source: dict[int, int] = {}
    if ship_ids and source_id is not None:
        at_source = dict(ProductInventory.objects.select_for_update().filter(source_id=source_id,
                                                                             product_id__in=ship_ids)
                         .order_by("id").values_list("product_id", "qty"))
    verdicts: list[InsufficientStock | None] = []
    for plan in plans:
        error = None
        for pid in sorted(plan.reserve):
            if plan.reserve[pid] > saleable[pid]:
                error = _stock_error(plan, pid, products[pid], f"{max(saleable[pid], 0)} saleable, "
                                                               f"{plan.reserve[pid]} to reserve", shipping=False)
                break
        if error is None and plan.ship and source_id is None:
            error = InsufficientStock("There is no default inventory source to ship from.", field="fulfillments")
        if error is None:
            for pid in sorted(plan.ship):
                if plan.ship[pid] > at_source.get(pid, 0):
                    error = _stock_error(plan, pid, products[pid], f"{at_source.get(pid, 0)} in stock at the "
                                                                   f"default source, {plan.ship[pid]} to ship",
                                         shipping=True)
                    break
        if error is None:
            for pid, q in plan.reserve.items():
                saleable[pid] -= q
            for pid, q in plan.ship.items():
                at_source[pid] = at_source.get(pid, 0) - q
        verdicts.append(error)
    return products, verdicts


def _stock_error(plan: ImportPlan, pid: int, product: Product, what: str, *, shipping: bool) -> InsufficientStock:
    path = "items"
    if shipping:
        for s in plan.shipments:
            for pos, _ in s.lines or ():
                if plan.items[pos].product_id == pid:
                    path = f"fulfillments.{s.index}"
                    break
            if path != "items":
                break
    else:
        pos = next(n for n, i in enumerate(plan.items) if i.product_id == pid)
        path = f"items.{pos}.quantity"
    return InsufficientStock(f"{product.sku}: {what}.", field=path)


# --------------------------------------------------------------------------- one document


def order_import(*, document: dict[str, Any], validated: dict[str, Any], actor: User | None) -> Order:
    """Import one document (SPEC §7.2) in one transaction. ``validated`` is the document's shape
    as the caller checked it (OrderImportSerializer's validated data); ``document`` is kept as sent."""
    data = validated
    try:
        with transaction.atomic(), events_scope():
            lookups = ImportLookups()
            lookups.prefetch([data])
            plan = import_plan(data, document, lookups, actor=actor, now=timezone.now())
            return _write_one(plan, actor=actor, source_id=lookups.default_source.id if lookups.default_source
                              else None)
    except IntegrityError:
        if Order.objects.filter(reference=data["reference"]).exists():
            raise DuplicateReference(f"An order with reference {data['reference']!r} has already been imported.",
                                     field="reference") from None
        raise


def _write_one(plan: ImportPlan, *, actor: User | None, source_id: int | None) -> Order:
    customer_id = plan.customer_id
    if customer_id is None and plan.new_customer is not None:
        email, first, last = plan.new_customer
        customer_id = customer_get_or_create_by_email(email=email, first_name=first, last_name=last).id
    if plan.reserve or plan.ship:
        products, (refused,) = _stock_verdicts([plan], source_id)
        if refused is not None:
            raise refused
        stock_reserve(quantities=plan.reserve, locked=products)
    order = Order.objects.create(number=number_next("order"), customer_id=customer_id, created_by=actor,
                                 **plan.order)
    items = OrderItem.objects.bulk_create([OrderItem(order=order, **i.fields()) for i in plan.items])
    event_imported(order, actor, summary=plan.event)
    Payment.objects.bulk_create([Payment(order=order, method=p["method"], amount=p["amount"], state=p["state"],
                                         reference=p["reference"], created_at=plan.created_at)
                                 for p in plan.payments])
    OrderComment.objects.bulk_create([OrderComment(order=order, **c) for c in plan.comments])
    order.status = OrderStatus.PENDING  # documents are written as on a live order; the imported status returns below
    if plan.invoice:
        invoice = invoice_apply(order, items, invoice_plan(order, items, None, skip_gateway_check=True), actor=actor,
                                notify=False, record_payment=False,
                                created_at=plan.created_at)  # counters (h-counters): revenue on the invoice's day
        Invoice.objects.filter(id=invoice.id).update(created_at=plan.created_at)
    for s in plan.shipments:
        lines = None if s.lines is None else [LineQty(order_item_id=items[pos].id, quantity=q) for pos, q in s.lines]
        try:
            splan = shipment_plan(order, items, lines, source_id)
        except DomainError as exc:  # the planner checked these; point any refusal at the fulfillment
            exc.field = f"fulfillments.{s.index}"
            exc.errors = [{"field": exc.field, "code": exc.code, "message": exc.message}]
            raise
        shipment = shipment_apply(order, items, splan, actor=actor, carrier_title=s.carrier_title,
                                  track_number=s.track_number, notify=False, take_stock=plan.buy_items)
        Shipment.objects.filter(id=shipment.id).update(created_at=s.created_at)
    order_refresh_state(order, items)
    order.status = plan.status  # the imported status stands until the next action recomputes it
    order.save()
    counters.order_imported(order, items)  # counters (h-counters): status counts and day rollups
    if plan.notify:
        email_after_commit(order_id=order.id, kind="order_placed", checkout_url=checkout_url_for(order))
    return order


# --------------------------------------------------------------------------- many documents


class JsonText(str):
    """A value already serialised as JSON (the bulk writer stores it as is)."""


class _Table:
    """Multi-row INSERTs of plain dicts for one model: what ``bulk_create`` writes (every
    concrete field, defaults filled in, values adapted by the backend's own adapters) without
    building model instances — the ORM's per-value machinery costs more than the database."""

    def __init__(self, model, connection) -> None:
        ops = connection.ops
        self.connection = connection
        self.fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        self.attnames = [f.attname for f in self.fields]
        self.getter = operator.itemgetter(*self.attnames)
        self.datetimes: list[int] = []
        self.jsons: list[tuple[int, Any]] = []
        self.generic: list[tuple[int, Any]] = []
        self.decimals = {f.attname for f in self.fields if f.get_internal_type() == "DecimalField"}
        for n, f in enumerate(self.fields):
            kind = f.get_internal_type()
            if kind == "DateTimeField":
                self.datetimes.append(n)
            elif kind == "JSONField":
                self.jsons.append((n, f.encoder))
            elif kind not in ("DecimalField", "CharField", "BooleanField", "IntegerField", "PositiveIntegerField",
                              "BigIntegerField", "PositiveSmallIntegerField", "SmallIntegerField", "ForeignKey",
                              "OneToOneField", "TextField", "EmailField"):
                self.generic.append((n, f))
        qn = ops.quote_name
        self.vendor = connection.vendor
        self.table = qn(model._meta.db_table)
        self.pk = qn(model._meta.pk.column)
        self.columns = ", ".join(qn(f.column) for f in self.fields)
        self.sequence = None
        if self.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [model._meta.db_table, model._meta.pk.column])
                self.sequence = cursor.fetchone()[0]
        self.placeholders = "(" + ", ".join(["%s"] * len(self.fields)) + ")"

    def defaults(self, now: datetime) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in self.fields:
            stamped = getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
            if stamped or (f.has_default() and f.default is timezone.now):
                out[f.attname] = now
            else:
                out[f.attname] = f.get_default()  # as a new model instance has it ("" for text, None if null)
            if f.attname in self.decimals and out[f.attname] is not None:
                out[f.attname] = Decimal(out[f.attname])  # rows carry Decimals; so do defaults
        return out

    def _values(self, rows: list[dict[str, Any]], defaults: dict[str, Any]) -> list[list]:
        ops, getter, datetimes, jsons, generic = self.connection.ops, self.getter, self.datetimes, self.jsons, \
            self.generic
        seen: dict[datetime, Any] = {}  # most rows share a few instants (now, the order's date)
        out = []
        for row in rows:
            values = list(getter(defaults | row))
            for n in datetimes:
                value = values[n]
                if value is not None:
                    adapted = seen.get(value)
                    if adapted is None:
                        adapted = seen[value] = ops.adapt_datetimefield_value(value)
                    values[n] = adapted
            for n, encoder in jsons:
                value = values[n]
                if type(value) is JsonText:
                    values[n] = str(value)  # already JSON text; both backends take text for JSON columns
                elif value is not None:
                    values[n] = ops.adapt_json_value(value, encoder)
            for n, f in generic:
                values[n] = f.get_db_prep_save(values[n], self.connection)
            out.append(values)
        return out

    def insert(self, rows: list[dict[str, Any]], *, defaults: dict[str, Any], returning: bool = False) -> list[int]:
        """Insert ``rows`` (missing keys take ``defaults``); with ``returning``, their new ids in row order.

        PostgreSQL: ids taken from the table's sequence, rows sent with COPY. SQLite:
        ``executemany`` inside the caller's write transaction, where AUTOINCREMENT hands out
        consecutive ids (nothing else can write until it commits). Other databases: multi-row
        INSERT … RETURNING, as ``bulk_create`` does."""
        if not rows:
            return []
        values = self._values(rows, defaults)
        self.connection.ensure_connection()
        raw = self.connection.connection
        if self.vendor == "postgresql":
            ids: list[int] = []
            with raw.cursor() as cursor:
                if returning:
                    cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [self.sequence, len(rows)])
                    ids = sorted(r[0] for r in cursor.fetchall())
                columns = f"{self.pk}, {self.columns}" if returning else self.columns
                with cursor.copy(f"COPY {self.table} ({columns}) FROM STDIN") as copy:
                    if returning:
                        for pk, row in zip(ids, values, strict=True):
                            copy.write_row([pk, *row])
                    else:
                        for row in values:
                            copy.write_row(row)
            return ids
        if self.vendor == "sqlite":
            cursor = raw.cursor()
            try:
                cursor.executemany(f"INSERT INTO {self.table} ({self.columns}) VALUES "
                                   f"({', '.join('?' * len(self.fields))})", values)
                if not returning:
                    return []
                cursor.execute("SELECT last_insert_rowid()")
                last = cursor.fetchone()[0]
            finally:
                cursor.close()
            return list(range(last - len(rows) + 1, last + 1))
        ids = []
        per_statement = max(1, 65535 // len(self.fields))
        with self.connection.cursor() as cursor:
            for start in range(0, len(values), per_statement):
                chunk = values[start:start + per_statement]
                sql = (f"INSERT INTO {self.table} ({self.columns}) VALUES " + ", ".join([self.placeholders] * len(chunk))
                       + (f" RETURNING {self.pk}" if returning else ""))
                cursor.execute(sql, [v for row in chunk for v in row])
                if returning:
                    ids.extend(sorted(r[0] for r in cursor.fetchall()))
        return ids


_TABLES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # per connection (they are per thread)


def _tables() -> dict[str, _Table]:
    wrapper = connections[DEFAULT_DB_ALIAS]  # this thread's connection
    tables = _TABLES.get(wrapper)
    if tables is None:
        tables = _TABLES[wrapper] = {m.__name__: _Table(m, wrapper) for m in (
            Order, OrderItem, OrderEvent, Payment, OrderComment, Invoice, InvoiceItem, Shipment, ShipmentItem)}
    return tables


def orders_import_bulk(plans: Sequence[ImportPlan], *, actor: User | None,
                       lookups: ImportLookups) -> list[int | DomainError]:
    """Write many planned documents with multi-row inserts, producing the same rows as
    ``order_import`` would one by one, in order (orders, lines, events, payments, comments,
    the paid invoice, shipments, stock). The caller holds the transaction. Returns, for each
    plan, the new order's id — or the 409 insufficient_stock that refuses it, exactly as if
    the documents had been imported one after another."""
    results: list[int | DomainError] = [0] * len(plans)
    products: dict[int, Product] = {}
    source = lookups.default_source
    if any(p.reserve or p.ship for p in plans):
        products, verdicts = _stock_verdicts(plans, source.id if source else None)
        for n, refused in enumerate(verdicts):
            if refused is not None:
                results[n] = refused
    accepted = [n for n, r in enumerate(results) if not isinstance(r, DomainError)]
    ids = _write_bulk([plans[n] for n in accepted], actor=actor, source=source, products=products)
    for n, order_id in zip(accepted, ids, strict=True):
        results[n] = order_id
    return results


def _write_bulk(plans: Sequence[ImportPlan], *, actor: User | None, source: InventorySource | None,
                products: dict[int, Product]) -> list[int]:
    if not plans:
        return []
    _customers_bulk(plans)
    tables = _tables()
    now = timezone.now()
    defaults = {name: table.defaults(now) for name, table in tables.items()}
    actor_id = actor.pk if actor is not None and actor.pk else None
    numbers = numbers_reserve("order", len(plans))
    # Rows are namespaces: order_refresh_state and the status rules read them like models.
    orders: list[SimpleNamespace] = []
    all_items: list[list[SimpleNamespace]] = []
    invoices: list[tuple[int, list[tuple]]] = []  # (order position, lines)
    shipments: list[tuple[int, ShipmentPlanned, list[tuple]]] = []
    order_defaults, item_defaults = defaults["Order"], defaults["OrderItem"]
    for n, plan in enumerate(plans):
        order = SimpleNamespace(**(order_defaults | plan.order))
        order.source_document = JsonText(plan.source_json)
        order.number, order.customer_id, order.created_by_id = numbers[n], plan.customer_id, actor_id
        order.status = OrderStatus.PENDING.value
        items = [SimpleNamespace(**(item_defaults | i.fields())) for i in plan.items]
        if plan.invoice:
            invoices.append((n, _invoice_in_memory(order, items)))
        shipped: dict[int, tuple[Decimal, Decimal, Decimal]] = {}
        for s in plan.shipments:
            shipments.append((n, s, _shipment_in_memory(items, s, shipped)))
        order_refresh_state(order, items)  # type: ignore[arg-type]
        order.status = plan.status
        order.work_left = counters.work_left(items)  # counters (h-counters): saves orders_added a rewrite
        orders.append(order)
        all_items.append(items)
    order_ids = tables["Order"].insert([vars(o) for o in orders], defaults=order_defaults, returning=True)
    flat_items = []
    for order_id, items in zip(order_ids, all_items, strict=True):
        for item in items:
            item.order_id = order_id
            flat_items.append(item)
    item_ids = tables["OrderItem"].insert([vars(i) for i in flat_items], defaults=item_defaults, returning=True)
    for item, item_id in zip(flat_items, item_ids, strict=True):
        item.id = item_id
    events = [{"order_id": oid, "type": EventType.IMPORTED.value, "actor_id": actor_id,
               "data": imported_data(order.number, plan.event)}
              for oid, order, plan in zip(order_ids, orders, plans, strict=True)]
    tables["Payment"].insert([
        {"order_id": oid, "method": p["method"], "amount": p["amount"], "state": p["state"],
         "reference": p["reference"], "created_at": plan.created_at}
        for oid, plan in zip(order_ids, plans, strict=True) for p in plan.payments], defaults=defaults["Payment"])
    tables["OrderComment"].insert([
        {"order_id": oid, "comment": c["comment"], "customer_notified": c["customer_notified"],
         "author_id": c["author_id"], "author_name": c["author_name"],
         "created_at": c["created_at"]}
        for oid, plan in zip(order_ids, plans, strict=True) for c in plan.comments], defaults=defaults["OrderComment"])
    later: list[tuple[int, dict]] = []  # (order position, event), written in per-order sequence
    if invoices:
        inv_numbers = numbers_reserve("invoice", len(invoices))
        rows = [{"order_id": order_ids[n], "number": number, "created_by_id": actor_id, "state": "paid",
                 "created_at": plans[n].created_at, **_doc_totals(lines, orders[n].shipping_total)}
                for (n, lines), number in zip(invoices, inv_numbers, strict=True)]
        inv_ids = tables["Invoice"].insert(rows, defaults=defaults["Invoice"], returning=True)
        tables["InvoiceItem"].insert(_doc_items("invoice_id", inv_ids, [lines for _, lines in invoices]),
                                     defaults=defaults["InvoiceItem"])
        for inv_id, row, (n, lines) in zip(inv_ids, rows, invoices, strict=True):
            later.append((n, {"order_id": order_ids[n], "type": EventType.INVOICED.value, "actor_id": actor_id, "data": invoiced_data(
                invoice_id=inv_id, number=row["number"], grand_total=row["grand_total"],
                items=[line_ref(item.id, item.sku, qty) for item, qty, *_ in lines])}))
    if shipments:
        ship_numbers = numbers_reserve("shipment", len(shipments))
        rows = [{"order_id": order_ids[n], "number": number, "created_by_id": actor_id, "carrier_title": s.carrier_title,
                 "track_number": s.track_number, "inventory_source_id": source.id,
                 "total_qty": sum(x[1] for x in lines), "created_at": s.created_at, **_doc_totals(lines, ZERO)}
                for (n, s, lines), number in zip(shipments, ship_numbers, strict=True)]
        ship_ids = tables["Shipment"].insert(rows, defaults=defaults["Shipment"], returning=True)
        tables["ShipmentItem"].insert(_doc_items("shipment_id", ship_ids, [lines for _, _, lines in shipments]),
                                      defaults=defaults["ShipmentItem"])
        for ship_id, row, (n, _, lines) in zip(ship_ids, rows, shipments, strict=True):
            later.append((n, {"order_id": order_ids[n], "type": EventType.SHIPPED.value, "actor_id": actor_id, "data": shipped_data(
                shipment_id=ship_id, number=row["number"], source_id=source.id, source_code=source.code,
                total_qty=row["total_qty"], carrier_title=row["carrier_title"], track_number=row["track_number"],
                items=[line_ref(item.id, item.sku, qty) for item, qty, *_ in lines])}))
    later.sort(key=lambda x: x[0])  # stable: per order, the invoice before its shipments
    events_record_bulk(events + [e for _, e in later],
                       insert=lambda rows: tables["OrderEvent"].insert(rows, defaults=defaults["OrderEvent"],
                                                                       returning=True))
    counters.orders_added(order_ids, work_left_written=True)  # counters (h-counters): status counts, day rollups
    reserve: dict[int, int] = {}
    ship: dict[int, int] = {}
    for plan in plans:
        for pid, q in plan.reserve.items():
            reserve[pid] = reserve.get(pid, 0) + q
        for pid, q in plan.ship.items():
            ship[pid] = ship.get(pid, 0) + q
            reserve[pid] = reserve.get(pid, 0) - q  # shipping releases what it takes
    if reserve:
        stock_reserve(quantities={pid: q for pid, q in reserve.items() if q > 0}, locked=products)
    if ship and source is not None:
        stock_take(source_id=source.id, quantities=ship, release_reservation=False)
    for order_id, order, plan in zip(order_ids, orders, plans, strict=True):
        if plan.notify:
            email_after_commit(order_id=order_id, kind="order_placed",
                               checkout_url=checkout_url_for(order))  # type: ignore[arg-type]
    return order_ids


def _doc_items(fk: str, doc_ids: list[int], docs_lines: list[list[tuple]]) -> list[dict[str, Any]]:
    return [{fk: doc_id, "order_item_id": item.id, "sku": item.sku, "name": item.name, "quantity": qty,
             "price": item.price, "subtotal": sub, "tax_amount": tax, "discount_amount": disc,
             "total": sub - disc + tax}
            for doc_id, lines in zip(doc_ids, docs_lines, strict=True) for item, qty, sub, tax, disc in lines]


def _customers_bulk(plans: Sequence[ImportPlan]) -> None:
    """Find or create the documents' new customers by e-mail (the first document names them)."""
    wanted: dict[str, tuple[str, str, str]] = {}
    for plan in plans:
        if plan.customer_id is None and plan.new_customer is not None:
            wanted.setdefault(plan.new_customer[0], plan.new_customer)
    if not wanted:
        return
    found = {c.email_lower: c for c in Customer.objects.annotate(email_lower=Lower("email"))
             .filter(email_lower__in=list(wanted))}
    missing = [Customer(email=e, first_name=f, last_name=la) for e, (_, f, la) in wanted.items() if e not in found]
    for customer in Customer.objects.bulk_create(missing):
        found[customer.email] = customer
    for plan in plans:
        if plan.customer_id is None and plan.new_customer is not None:
            plan.customer_id = found[plan.new_customer[0]].id


def _invoice_in_memory(order: SimpleNamespace, items: list[SimpleNamespace]) -> list[tuple]:
    """What invoice_plan + invoice_apply do to a fresh order: every line whole, and the shipping."""
    lines = []
    for item in items:
        qty = item.qty_ordered - item.qty_invoiced - item.qty_canceled
        if qty <= 0:
            continue
        sub, tax, disc = item.subtotal, item.tax_amount, item.discount_amount  # the invoice completes the line
        item.qty_invoiced += qty
        item.subtotal_invoiced += sub
        item.tax_invoiced += tax
        item.discount_invoiced += disc
        lines.append((item, qty, sub, tax, disc))
    totals = _doc_totals(lines, order.shipping_total)
    order.total_invoiced += totals["grand_total"]
    order.shipping_invoiced += order.shipping_total
    order.payment_captured = True
    return lines


def _shipment_in_memory(items: list[SimpleNamespace], s: ShipmentPlanned,
                        shipped: dict[int, tuple[Decimal, Decimal, Decimal]]) -> list[tuple]:
    """What shipment_plan + shipment_apply do: each line's amounts pro rata to the units shipped, the
    shipment completing a line taking what is left. ``shipped`` (item position → amounts the
    order's earlier shipments took) is kept apart: the item namespaces are written as rows."""
    lines = []
    for pos, qty in s.lines or ():
        item = items[pos]
        sub, tax, disc = amounts_for_shipment(item, qty, shipped.get(pos, (ZERO, ZERO, ZERO)))  # type: ignore[arg-type]
        lines.append((item, qty, sub, tax, disc))
        item.qty_shipped += qty
        before = shipped.get(pos, (ZERO, ZERO, ZERO))
        shipped[pos] = (before[0] + sub, before[1] + tax, before[2] + disc)
    return lines


def _doc_totals(lines: Iterable[tuple], shipping: Decimal) -> dict[str, Decimal]:
    lines = list(lines)
    subtotal = sum((x[2] for x in lines), ZERO)
    tax = sum((x[3] for x in lines), ZERO)
    discount = sum((x[4] for x in lines), ZERO)
    return {"subtotal": subtotal, "tax_total": tax, "discount_total": discount, "shipping_total": shipping,
            "grand_total": subtotal - discount + tax + shipping}


__all__ = ["DuplicateReference", "ImportLookups", "ImportPlan", "PaymentMethodNotFound", "ShippingMethodNotFound",
           "TotalsMismatch", "import_plan", "order_import",
           "orders_import_bulk", "validation_error"]
