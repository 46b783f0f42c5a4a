"""Demo data: catalog, stock at two sources, customers, coupons, and N orders in every status.

Orders are *planned* in memory and *written* in bulk, batch by batch (5,000 orders a batch,
one transaction each, a tqdm progress bar over orders): rows go in through the bulk writer
``import_orders`` uses too (``sales.importing.bulk``: one ``executemany`` per table on SQLite,
``COPY`` on PostgreSQL, ``bulk_create`` on other engines). With more
than one batch, two forked processes plan while this one writes (``--workers``; the
planning reads nothing from the database). 100,000 orders make about 1.4 million rows:
orders, items, invoices, shipments, refunds and their lines, payments, coupon uses and the
history. Measured figures are in ``bench/results/seed_demo.txt`` (``bench/seed_bench.py``).

Every order obeys the rules exactly as if the services had made it, because the planning
calls the same pure functions the services call, on in-memory stand-ins for the rows:

- prices, discounts, tax and totals: ``carts.pricing.compute_totals`` (with the currency
  conversion, coupon terms and tax rates the cart uses);
- invoices: ``sales.services.invoicing.invoice_plan`` and ``invoice_count`` (so ``amounts_for_billing``: pro rata,
  the last invoice of a line takes what is left, shipping on the first invoice);
- refunds: ``sales.services.refunding.refund_plan`` (``amounts_for_refund`` and every limit);
- cancels: ``sales.services.canceling.cancel_check`` and ``cancel_counts``;
- status and the invoiced / shipped columns: ``sales.services.common.order_refresh_state``
  (``sales.status.status_compute``);
- history: each event's payload from its typed builder in ``sales.events`` (``placed_data``,
  ``invoiced_data``, ``shipped_data``, ``refunded_data``, ``canceled_data``, ...).

Stock moves like the services move it: placing reserves ``qty_to_ship`` of stocked items,
a shipment takes its units from the source it ships from and releases their reservation
(its amounts: ``amounts_for_shipment``, the shipment completing a line taking what is left),
a refund takes paid-but-unsent units first and releases their reservation, then shipped ones
(``sales.status.refund_units``, counted in ``qty_returned``; with ``return_to_stock`` they go
back at the source of the item's latest shipment), a cancel releases
what it cancels. When a source would run short the planner books a goods receipt first
(counted in the summary), as a real store restocks. Fraud-flagged orders keep their stock
reserved. Numbers come from ``numbers_reserve`` as each batch is written (gap-free per
type; documents in time order within a batch). Dates spread over the last two years; the
newest fifth of the orders are still open, older ones mostly settled. The first ten orders
take one scenario each, so every status exists whatever N is.

Re-running adds orders to what is there (catalog, customers and coupons are reused);
``--if-empty`` does nothing when products exist (``make run``).
"""

from __future__ import annotations

import random
import secrets
import time
import unicodedata
from bisect import bisect_right
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import F, Max, Model
from django.utils import timezone
from tqdm import tqdm

from accounts.models import User
from carts.models import Coupon, CouponUsage, PaymentMethod, ShippingCalc, ShippingMethod
from carts.pricing import PricingLine, compute_totals
from carts.services.carts import coupon_terms
from catalog.models import Currency, InventorySource, Product, ProductInventory, TaxCategory, TaxRate
from catalog.services.pricing_inputs import convert, tax_rate_map
from config.money import ZERO, q2
from customers.models import Customer, CustomerAddress
from sales import status as rules
from sales.events import canceled_data, invoiced_data, payment_captured_data, placed_data, refunded_data, shipped_data
from sales.importing.bulk import BulkWriter, bulk_written, document_item_rows
from sales.management.commands.demo_credentials import DEMO_EMAIL, DEMO_PASSWORD
from sales.models import (
    EventType,
    FulfillmentType,
    Invoice,
    InvoiceItem,
    Order,
    OrderEvent,
    OrderItem,
    Payment,
    Refund,
    RefundItem,
    Sequence,
    Shipment,
    ShipmentItem,
)
from sales.services.canceling import cancel_check, cancel_counts
from sales.services.common import (
    LineAmounts,
    LineQty,
    amounts_for_shipment,
    line_amounts,
    lines_data,
    order_refresh_state,
)
from sales.services.counters import work_left
from sales.services.invoicing import invoice_count, invoice_plan
from sales.services.numbering import STARTS, numbers_reserve
from sales.services.refunding import RefundRequest, refund_plan


class Weighted:
    """A weighted choice with its cumulative weights computed once."""

    __slots__ = ("values", "cum", "total")

    def __init__(self, pairs):
        from itertools import accumulate

        self.values = [v for v, _ in pairs]
        self.cum = list(accumulate(w for _, w in pairs))
        self.total = self.cum[-1]

    def pick(self, rng: random.Random):
        return self.values[bisect_right(self.cum, rng.random() * self.total)]


FIRST = ["Ada", "Alan", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances", "John", "Radia",
         "Tim", "Hedy", "Edsger", "Katherine", "Guido", "Zoë", "José", "Øystein", "Chloé"]
LAST = ["Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Thompson", "Liskov", "Ritchie", "Allen",
        "McCarthy", "Perlman", "Berners-Lee", "Lamarr", "Dijkstra", "Johnson", "Rossum", "Brontë", "Müller"]


def email_local(name: str) -> str:
    """A name as an e-mail's local part: lower-case ASCII (Zoë → zoe, Øystein → oystein), which
    is what Django's e-mail validation, and so the API and the admin, accept. The names keep
    their accents; only the demo e-mail addresses are plain."""
    name = name.replace("Ø", "O").replace("ø", "o")
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()


CITIES = [("US", "NY", "New York", "10001"), ("US", "CA", "San Francisco", "94105"), ("GB", "", "London", "EC1A 1BB"),
          ("DE", "", "Berlin", "10115"), ("US", "TX", "Austin", "73301"), ("FR", "", "Paris", "75001")]
STREETS = ["High Street", "Main St", "Market St", "Elm Avenue", "Königstraße", "Rue de Rivoli", "Baker Street"]
CARRIERS = [("UPS", "1Z"), ("DHL Express", "JD"), ("FedEx", "FX"), ("USPS", "94"), ("Royal Mail", "RM")]

# What each order ends as, with weights (the first orders take one of each, so that every
# status exists whatever N is).
SCENARIOS = [("pending", 12), ("pending_payment", 7), ("processing", 16), ("completed", 30), ("closed", 7),
             ("partly_refunded", 9), ("partly_canceled", 5), ("canceled", 9), ("fraud", 3), ("captured", 2)]
PAYMENTS = Weighted([("cashondelivery", 3), ("moneytransfer", 2)])
LINES = Weighted([(1, 30), (2, 30), (3, 20), (4, 12), (5, 8)])
QTY = Weighted([(1, 55), (2, 25), (3, 12), (4, 8)])
COUPONS = Weighted([("WELCOME10", 6), ("FIVEOFF", 3), ("SHIPFREE", 1)])
# The newest fifth of the orders are still being worked on; older ones are mostly settled.
RECENT_SCENARIOS = [("pending", 25), ("pending_payment", 10), ("processing", 25), ("completed", 15), ("closed", 3),
                    ("partly_refunded", 5), ("partly_canceled", 3), ("canceled", 6), ("fraud", 4), ("captured", 4)]
OLD_WEIGHTS = {"pending": 1, "pending_payment": 1, "processing": 2, "fraud": 1}
BATCH = 5000
MODELS: tuple[type[Model], ...] = (Order, OrderItem, Invoice, InvoiceItem, Shipment, ShipmentItem, Refund, RefundItem, Payment, OrderEvent,
                                   CouponUsage)
EV = {e.name: e.value for e in EventType}  # event types as plain strings
MODEL_BY_LABEL = {m._meta.label: m for m in MODELS}
MODEL_LABELS = {"invoice": Invoice._meta.label, "shipment": Shipment._meta.label, "refund": Refund._meta.label}
# The most rows one order can make, per table (≤ 6 lines; ≤ 2 invoices, 2 shipments, 1 refund, 1 cancel):
# with several planners, each batch gets a block of ids this size per order.
ROWS_PER_ORDER: dict[type[Model], int] = {Order: 1, OrderItem: 6, Invoice: 2, InvoiceItem: 12, Shipment: 2,
                                          ShipmentItem: 12, Refund: 1, RefundItem: 6, Payment: 2, OrderEvent: 8, CouponUsage: 1}
NUMBER = "\x00number\x00"  # stands for a document's number in its event until the batch is written
NUMBER_MARK = '"\\u0000number\\u0000"'  # ... as json.dumps writes it
DAY = 86400.0


# ---------------------------------------------------------------- in-memory stand-ins

class _Docs:
    """order.invoices.exists() for the planning functions."""

    __slots__ = ("count",)

    def __init__(self):
        self.count = 0

    def exists(self) -> bool:
        return self.count > 0


class ProductInfo:
    """What the planner reads of a product, with its price per currency converted once."""

    __slots__ = ("id", "sku", "name", "type", "shippable", "stocked", "tax_category_id", "price", "prices")

    def __init__(self, p: Product):
        self.id, self.sku, self.name, self.type = p.id, p.sku, p.name, str(p.type)
        self.shippable, self.stocked, self.tax_category_id, self.price = p.is_shippable, p.is_stocked, \
            p.tax_category_id, p.price
        self.prices: dict[str, Decimal] = {}

    def price_in(self, code: str, rate: Decimal) -> Decimal:
        price = self.prices.get(code)
        if price is None:
            price = self.prices[code] = convert(self.price, rate)  # as a cart converts it
        return price


class PlannedItem:
    """An order line with the attributes the pure rule functions read (duck-typed OrderItem)."""

    __slots__ = ("id", "order_id", "product_id", "sku", "name", "type", "is_shippable", "is_stocked", "qty_ordered",
                 "qty_invoiced", "qty_shipped", "qty_refunded", "qty_returned", "qty_canceled", "price", "subtotal",
                 "tax_percent", "tax_amount", "discount_amount", "total", "subtotal_invoiced", "tax_invoiced",
                 "discount_invoiced", "subtotal_canceled", "tax_canceled", "discount_canceled", "subtotal_refunded",
                 "tax_refunded", "discount_refunded", "shipped", "last_source")

    def __init__(self, id, order_id, product_id, sku, name, type, is_shippable, is_stocked, qty_ordered, price,  # noqa: A002
                 subtotal, tax_percent, tax_amount, discount_amount, total):
        self.id, self.order_id, self.product_id, self.sku, self.name, self.type = id, order_id, product_id, sku, name, type
        self.is_shippable, self.is_stocked, self.qty_ordered, self.price = is_shippable, is_stocked, qty_ordered, price
        self.subtotal, self.tax_percent, self.tax_amount = subtotal, tax_percent, tax_amount
        self.discount_amount, self.total = discount_amount, total
        self.qty_invoiced = self.qty_shipped = self.qty_refunded = self.qty_returned = self.qty_canceled = 0
        self.subtotal_invoiced = self.tax_invoiced = self.discount_invoiced = ZERO
        self.subtotal_canceled = self.tax_canceled = self.discount_canceled = ZERO
        self.subtotal_refunded = self.tax_refunded = self.discount_refunded = ZERO
        self.shipped = (ZERO, ZERO, ZERO)  # what shipments took of the line (the last one takes the rest)
        self.last_source = None

    qty_to_invoice = property(rules.qty_to_invoice)
    qty_to_ship = property(rules.qty_to_ship)
    qty_to_refund = property(rules.qty_to_refund)
    qty_to_cancel = property(rules.qty_to_cancel)


class PlannedOrder:
    __slots__ = ("id", "number", "status", "payment_method_code", "payment_captured", "total_invoiced",
                 "total_refunded", "total_canceled", "shipping_invoiced", "shipping_refunded", "shipping_total",
                 "invoice_state", "shipment_state", "invoices", "row", "items", "updated_at", "coupon_id",
                 "customer_id", "held_at", "grand_total")

    def __init__(self, *, id, number, status, payment_method_code, shipping_total, updated_at, coupon_id,  # noqa: A002
                 customer_id):
        self.id, self.number, self.status, self.payment_method_code = id, number, status, payment_method_code
        self.shipping_total, self.updated_at, self.coupon_id, self.customer_id = shipping_total, updated_at, \
            coupon_id, customer_id
        self.invoice_state = self.shipment_state = "none"  # until order_refresh_state sets them
        self.row: dict[str, Any] = {}  # the order's columns, filled once its lines are priced
        self.items: list[PlannedItem] = []
        self.total_invoiced = self.total_refunded = self.total_canceled = ZERO
        self.shipping_invoiced = self.shipping_refunded = ZERO
        self.payment_captured = False
        self.held_at = None  # demo orders are never on hold (order_refresh_state reads it)
        self.grand_total = ZERO  # set from the priced lines (the placed event reads it)
        self.invoices = _Docs()


class Stock:
    """On hand per (product, source) and reserved per product, moved like catalog.services.stock."""

    def __init__(self, on_hand: dict[tuple[int, int], int], reserved: dict[int, int], active: set[int],
                 receive_at: int):
        self.on_hand = defaultdict(int, on_hand)
        self.reserved = defaultdict(int, reserved)
        self.active = active
        self.receive_at = receive_at
        self.receipts = 0
        self.received = 0
        self.touched: set[tuple[int, int]] = set(on_hand)

    def _receive(self, pid: int, source: int, qty: int, *, lot: int = 250) -> None:
        lot = max(qty, lot)
        self.on_hand[(pid, source)] += lot
        self.touched.add((pid, source))
        self.receipts += 1
        self.received += lot

    def reserve(self, pid: int, qty: int) -> None:
        saleable = sum([self.on_hand[(pid, s)] for s in self.active]) - self.reserved[pid]
        if saleable < qty:
            self._receive(pid, self.receive_at, qty - saleable)
        self.reserved[pid] += qty

    def can_take(self, pid: int, source: int, qty: int) -> bool:
        return self.on_hand[(pid, source)] >= qty

    def restock(self, pid: int, source: int, lot: int) -> None:
        """A store's weekly delivery (only when many orders are seeded, so a small demo shows
        what the store had at the start)."""
        self._receive(pid, source, lot, lot=lot)

    def top_up(self, pids, minimum: int, lot: int) -> None:
        """Leave every product saleable at the end, as a store that keeps selling would."""
        for pid in pids:
            saleable = sum([self.on_hand[(pid, s)] for s in self.active]) - self.reserved[pid]
            if saleable < minimum:
                self._receive(pid, self.receive_at, minimum - saleable + lot)

    def take(self, pid: int, source: int, qty: int) -> None:
        if self.on_hand[(pid, source)] < qty:
            self._receive(pid, source, qty - self.on_hand[(pid, source)])
        self.on_hand[(pid, source)] -= qty
        self.touched.add((pid, source))
        self.reserved[pid] -= qty

    def release(self, pid: int, qty: int) -> None:
        self.reserved[pid] -= qty

    def put_back(self, pid: int, source: int, qty: int) -> None:
        self.on_hand[(pid, source)] += qty
        self.touched.add((pid, source))


class Rows:
    """Rows of one batch, per model, as dicts of column values ready for the database."""

    def __init__(self):
        self.by_model: dict[type, list[dict]] = defaultdict(list)

    def add(self, model, **row) -> dict:
        self.by_model[model].append(row)
        return row


# ---------------------------------------------------------------- the command

class Command(BaseCommand):
    help = "Load demo data: catalog, stock at two sources, customers, coupons and N orders in every status."

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=50, help="How many orders to create (default 50)")
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when products already exist")
        parser.add_argument("--seed", type=int, default=42, help="Random seed (same seed, same data)")
        parser.add_argument("--batch", type=int, default=BATCH, help="Orders written per transaction")
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar")
        parser.add_argument("--workers", type=int, default=2,
                            help="Processes that plan the orders while this one writes (Linux, when there is more "
                                 "than one batch; default 2); 0: plan here, between writes")

    def handle(self, *args, orders: int, if_empty: bool, seed: int, batch: int, no_progress: bool, workers: int,
               **options):
        if orders < 0:
            raise CommandError("--orders must be 0 or more.")
        if if_empty and Product.objects.exists():
            self.stdout.write("Demo data already present; skipping.")
            return
        started = time.monotonic()
        rng = random.Random(seed)
        with transaction.atomic():
            actor = self._staff()
            sources = self._sources()
            products = self._catalog(rng, sources)
            customers = self._customers(rng, wanted=max(40, min(5000, orders // 40)))
            self._coupons()
        stats = {"receipts": 0, "received": 0}
        if orders:
            planner = OrderPlanner(rng=rng, actor=actor, sources=sources, products=products, customers=customers)
            stats = planner.run(orders, batch=max(1, batch), progress=not no_progress and orders >= 20,
                                stderr=self.stderr, workers=workers, seed=seed)
        elapsed = time.monotonic() - started
        if orders >= 1000:
            _refresh_statistics()
        self.stdout.write(self.style.SUCCESS(
            f"Demo data: {Product.objects.count()} products, {Customer.objects.count()} customers, "
            f"{Order.objects.count()} orders ({orders} new in {elapsed:.1f} s; stock receipts: {stats['receipts']}, "
            f"{stats['received']} units)."))
        if orders and options.get("verbosity", 1) > 1:
            self.stdout.write(f"CPU: planning {stats['plan']:.1f} s, writing {stats['write']:.1f} s "
                              f"(writes took {stats['write_wall']:.1f} s) "
                              f"({stats['rows']} rows; planned in {_processes(stats['workers'])}).")

    # -- catalog, customers, coupons (idempotent: a second run reuses them)

    def _staff(self) -> User:
        user = User.objects.filter(email=DEMO_EMAIL).first()
        if user is None:
            user = User.objects.create_superuser(DEMO_EMAIL, DEMO_PASSWORD, name="Demo Admin")
        return user

    def _sources(self) -> list[InventorySource]:
        default = InventorySource.objects.get(code="default")
        store, _ = InventorySource.objects.get_or_create(
            code="downtown", defaults={"name": "Downtown store", "priority": 1, "pickup_enabled": True,
                                       "address": {"first_name": "", "last_name": "", "company": "Downtown store",
                                                   "phone": "+1 555 0199", "line_1": "5 Market St", "line_2": "",
                                                   "city": "San Francisco", "zone": "CA", "postcode": "94105",
                                                   "country": "US"}})
        return [default, store]

    def _catalog(self, rng: random.Random, sources: list[InventorySource]) -> list[Product]:
        standard, _ = TaxCategory.objects.get_or_create(code="standard", defaults={"name": "Standard goods"})
        for country, zone, rate in (("US", "", "0"), ("US", "NY", "8.8750"), ("US", "CA", "7.2500"),
                                    ("US", "TX", "6.2500"), ("GB", "", "20"), ("DE", "", "19"), ("FR", "", "20")):
            TaxRate.objects.get_or_create(category=standard, country=country, zone=zone,
                                          defaults={"rate": Decimal(rate)})
        if not Product.objects.filter(sku="DEMO-001").exists():
            self._catalog_create(rng, sources, standard)
        wanted = [f"DEMO-{n:03d}" for n in range(1, 17)] + ["DEMO-TEE-S", "DEMO-TEE-M", "DEMO-TEE-L", "DEMO-GIFT"]
        return list(Product.objects.filter(sku__in=wanted, status="enabled").order_by("id"))

    def _catalog_create(self, rng, sources, standard) -> None:
        items = [("Espresso cup", "12.50"), ("Coffee grinder", "89.00"), ("French press", "34.90"),
                 ("Pour-over kettle", "59.00"), ("Paper filters (100)", "6.99"), ("Milk jug", "18.00"),
                 ("Tamper", "24.00"), ("Scale", "45.00"), ("Travel mug", "21.50"), ("Bean canister", "16.00"),
                 ("Cleaning tablets", "9.99"), ("Knock box", "27.00"), ("Barista apron", "31.00"),
                 ("Cold brew jar", "29.00"), ("Moka pot", "39.00"), ("Latte glasses (2)", "19.00")]
        products: list[Product] = []
        for n, (name, price) in enumerate(items, start=1):
            products.append(Product(sku=f"DEMO-{n:03d}", name=name, price=Decimal(price), tax_category=standard,
                                    weight=Decimal("0.5")))
        products.append(Product(sku="DEMO-GIFT", name="Gift card (e-mail)", type="virtual", price=Decimal("25.00")))
        products.append(Product(sku="DEMO-CLASS", name="Latte art class", type="booking", price=Decimal("80.00")))
        products.append(Product(sku="DEMO-OLD", name="Discontinued dripper", price=Decimal("15.00"),
                                status="disabled"))
        parent = Product(sku="DEMO-TEE", name="Coffee T-shirt", type="configurable", price=Decimal("22.00"),
                         tax_category=standard)
        Product.objects.bulk_create([*products, parent])
        parent = Product.objects.get(sku="DEMO-TEE")
        variants = [Product(sku=f"DEMO-TEE-{size}", name=f"Coffee T-shirt ({size})", price=Decimal("22.00"),
                            parent=parent, tax_category=standard) for size in ("S", "M", "L")]
        Product.objects.bulk_create(variants)
        stocked = list(Product.objects.filter(sku__startswith="DEMO-", type="simple"))
        ProductInventory.objects.bulk_create(
            [ProductInventory(product=p, source=sources[0], qty=rng.randint(200, 500)) for p in stocked]
            + [ProductInventory(product=p, source=sources[1], qty=rng.randint(5, 40)) for p in stocked])
        # One product with a single unit left, to show out-of-stock refusals.
        last = Product.objects.create(sku="DEMO-LAST", name="Limited edition cup", price=Decimal("49.00"),
                                      tax_category=standard)
        ProductInventory.objects.create(product=last, source=sources[0], qty=1)

    def _customers(self, rng: random.Random, *, wanted: int) -> list[Customer]:
        existing = list(Customer.objects.filter(email__endswith="@example.com", addresses__isnull=False)
                        .distinct().order_by("id")[:wanted])
        missing = wanted - len(existing)
        if missing > 0:
            start = Customer.objects.count()
            new = [Customer(email=f"{email_local(f)}.{email_local(ln)}{n}@example.com", first_name=f, last_name=ln,
                            phone=f"+1 555 {n % 10000:04d}")
                   for n, (f, ln) in enumerate(((rng.choice(FIRST), rng.choice(LAST)) for _ in range(missing)),
                                               start=start)]
            Customer.objects.bulk_create(new)
            created = list(Customer.objects.filter(email__in=[c.email for c in new]).order_by("id"))
            addresses = []
            for c in created:
                country, zone, city, postcode = rng.choice(CITIES)
                addresses.append(CustomerAddress(customer=c, first_name=c.first_name, last_name=c.last_name,
                                                 line_1=f"{rng.randint(1, 999)} {rng.choice(STREETS)}", city=city,
                                                 zone=zone, postcode=postcode, country=country, phone=c.phone,
                                                 is_default_billing=True, is_default_shipping=True))
            CustomerAddress.objects.bulk_create(addresses)
            existing += created
        return existing

    def _coupons(self) -> None:
        Coupon.objects.get_or_create(code="WELCOME10", defaults={"discount_type": "percent", "value": Decimal("10")})
        Coupon.objects.get_or_create(code="FIVEOFF", defaults={"discount_type": "fixed", "value": Decimal("5"),
                                                               "min_subtotal": Decimal("30")})
        Coupon.objects.get_or_create(code="SHIPFREE", defaults={"discount_type": "fixed", "value": Decimal("0"),
                                                                "free_shipping": True})


# ---------------------------------------------------------------- planning

class OrderPlanner:
    def __init__(self, *, rng: random.Random, actor: User, sources: list[InventorySource], products: list[Product],
                 customers: list[Customer]):
        self.rng = rng
        self.actor_id = actor.id
        self.default, self.downtown = sources
        self.sources = {s.id: s for s in sources}
        self.stocked = [ProductInfo(p) for p in products if p.is_stocked]
        self.virtual = [ProductInfo(p) for p in products if not p.is_stocked]
        self.writer = BulkWriter(MODELS)
        self.base = settings.BASE_CURRENCY
        self.currencies = {c.code: c for c in Currency.objects.filter(enabled=True)}
        self.shipping = {m.code: m for m in ShippingMethod.objects.filter(enabled=True)}
        self.payments = {m.code: m.title for m in PaymentMethod.objects.filter(enabled=True)}
        self.coupons = {c.code: c for c in Coupon.objects.filter(code__in=["WELCOME10", "FIVEOFF", "SHIPFREE"])}
        addresses: dict[int, dict[str, str]] = {}
        for a in CustomerAddress.objects.filter(customer__in=customers, is_default_billing=True).order_by("id"):
            addresses.setdefault(a.customer_id, a.as_dict())
        self.customers = [(c.id, c.email, c.name, addresses[c.id], self.writer.json(addresses[c.id]))
                          for c in customers if c.id in addresses]
        self.empty_json = self.writer.json({})
        if not self.customers or not self.stocked:
            raise CommandError("Demo catalog or customers missing.")
        # Everything the planning needs from the database is read here, so that the planning
        # itself can run in another process while this one writes.
        self.category_ids = {p.tax_category_id for p in products if p.tax_category_id}
        self.tax_cache: dict[tuple, dict[int, Decimal]] = {}
        for address in [c[3] for c in self.customers] + [self.downtown.address or {}]:
            self._tax_rates(address)
        self.ids = {m: (m._default_manager.aggregate(m=Max("id"))["m"] or 0) + 1 for m in MODELS}
        self.id_start = dict(self.ids)
        self.next_number = {}
        for kind in ("order", "invoice", "shipment", "refund"):
            seq, _ = Sequence.objects.get_or_create(name=kind, defaults={"last_value": 0,
                                                                         "start": STARTS.get(kind, 100000000)})
            self.next_number[kind] = seq.start + seq.last_value + 1
        self.stock = Stock(
            on_hand={(pid, sid): qty for pid, sid, qty in ProductInventory.objects.values_list("product_id",
                                                                                               "source_id", "qty")},
            reserved=dict(Product.objects.filter(qty_reserved__gt=0).values_list("id", "qty_reserved")),
            active={s.id for s in InventorySource.objects.filter(active=True)}, receive_at=self.default.id)
        self.reserved_start = dict(self.stock.reserved)
        self.now = timezone.now().astimezone(UTC).replace(microsecond=0, tzinfo=None)  # naive UTC
        self.scenario_names = [s for s, _ in SCENARIOS]
        self.scenario_pick_recent = Weighted(RECENT_SCENARIOS)
        self.scenario_pick_old = Weighted([(name, OLD_WEIGHTS.get(name, w)) for name, w in SCENARIOS])
        self.recent_from = 0
        self.span = 730 * DAY
        self.restock_store = False
        self.currency_pick = Weighted([(self.base, 85), ("EUR", 10), ("GBP", 5)])
        self.coupon_uses: dict[int, int] = defaultdict(int)
        self.timings = {"plan": 0.0, "write": 0.0, "write_wall": 0.0, "rows": 0, "workers": 0}

    # -- driving

    def run(self, count: int, *, batch: int, progress: bool, stderr, workers: int = 1, seed: int = 42) -> dict:
        offsets = sorted(self.rng.random() * self.span for _ in range(count))
        start = self.now - timedelta(seconds=self.span)
        self.restock_store = count >= 2000
        self.recent_from = int(count * 0.8)
        self.batch_size = batch
        chunks = [(offsets[n:n + batch], n) for n in range(0, count, batch)]
        bar = tqdm(total=count, desc="orders", unit="order", disable=not progress, file=getattr(stderr, "_out", None),
                   mininterval=0.5)
        fork = _fork_context() if workers > 0 and len(chunks) > 1 else None
        planners = min(workers, len(chunks)) if fork else 0
        self.timings["workers"] = planners
        finals: list[dict] = []
        try:
            if fork is None:
                batches = (self.plan(start, chunk, first) for chunk, first in chunks)
            else:
                batches = self._planned_elsewhere(fork, planners, start, chunks, seed, finals)
            for planned in batches:
                cpu, wall = time.process_time(), time.perf_counter()
                with transaction.atomic():
                    self._write(planned)
                self.timings["write"] += time.process_time() - cpu
                self.timings["write_wall"] += time.perf_counter() - wall
                bar.update(planned["count"])
        finally:
            bar.close()
            self.writer.end_bulk_session()
        final = _merge_finals(finals) if finals else self.final_state()
        self.timings["plan"] = final["plan"]
        with transaction.atomic():
            self._finish_stock(final)
            self.writer.reset_sequences()
        return {"receipts": final["receipts"], "received": final["received"], **self.timings}

    def _planned_elsewhere(self, fork, planners: int, start: datetime, chunks, seed: int, finals: list):
        """Plan in forked processes (they read nothing from the database) while this one writes.

        One planner plans every batch in turn. Several split the batches round-robin; each then
        has its own random stream, its own share of the stock (on hand split evenly; its receipts,
        reservations and moves its own, summed at the end) and, per batch, a fixed block of ids
        per table (room for the most rows an order can make), so the ids of a table may skip
        numbers between batches. Document numbers are given out by this process as it writes,
        so they stay gap-free and in time order."""
        queues = [fork.Queue(maxsize=2) for _ in range(planners)]
        processes = [fork.Process(target=_plan_all, daemon=True,
                                  args=(self, k, planners, seed, start, chunks[k::planners], queues[k]))
                     for k in range(planners)]
        for process in processes:
            process.start()

        def receive(queue):
            kind, payload = queue.get()
            if kind == "error":
                raise CommandError(f"Planning the demo orders failed:\n{payload}")
            return kind, payload

        try:
            for n in range(len(chunks)):
                kind, payload = receive(queues[n % planners])
                yield payload
            for queue in queues:
                kind, payload = receive(queue)
                finals.append(payload)
        finally:
            for process in processes:
                process.join(timeout=5)
                if process.is_alive():
                    process.kill()

    def partition(self, k: int, planners: int, seed: int) -> None:
        """Make this (forked) planner the k-th of several (see _planned_elsewhere)."""
        if planners == 1:
            return
        self.rng = random.Random(f"{seed}:{k}")
        stock = self.stock
        on_hand = {key: qty // planners + (1 if k < qty % planners else 0) for key, qty in stock.on_hand.items()}
        self.stock = Stock(on_hand=on_hand, reserved=stock.reserved if k == 0 else {}, active=stock.active,
                           receive_at=stock.receive_at)
        self.id_blocks = True

    def plan(self, start: datetime, chunk: list[float], first_index: int) -> dict:
        """One batch of orders, as rows ready to insert. Reads and writes no database."""
        cpu = time.process_time()
        self.rows = Rows()
        self.docs: list[tuple[datetime, str, dict, list[dict]]] = []  # (created_at, kind, row, events' data)
        if getattr(self, "id_blocks", False):
            self.id_limit = {}
            for model, per_order in ROWS_PER_ORDER.items():
                self.ids[model] = self.id_start[model] + first_index * per_order
                self.id_limit[model] = self.ids[model] + len(chunk) * per_order
        first_number = self.next_number["order"] + first_index
        orders = []
        for n, offset in enumerate(chunk):
            index = first_index + n
            if index < len(self.scenario_names):
                scenario = self.scenario_names[index]
            else:  # older orders have mostly been dealt with; the newest fifth are still open
                recent = index >= self.recent_from
                scenario = (self.scenario_pick_recent if recent else self.scenario_pick_old).pick(self.rng)
            orders.append(self._order(str(first_number + n), start + timedelta(seconds=offset), scenario))
        if getattr(self, "id_blocks", False):
            for model, limit in self.id_limit.items():
                if self.ids[model] > limit:
                    raise CommandError(f"{model.__name__}: more rows than ROWS_PER_ORDER allows")
        docs = self._order_documents()
        w = self.writer
        for order in orders:
            self._order_row(order)
        events = self.rows.by_model.get(OrderEvent, [])
        for event in events:
            event["data"] = w.json(event["data"])
        rows = {model._meta.label: w.build(model, self.rows.by_model.get(model, [])) for model in MODELS}
        self.rows = Rows()  # the batch's rows are built: let them go
        self.timings["plan"] += time.process_time() - cpu
        return {"rows": rows, "orders": (first_number, len(chunk)), "docs": docs, "count": len(chunk)}

    def final_state(self) -> dict:
        stock = self.stock
        if self.restock_store:
            stock.top_up([p.id for p in self.stocked], minimum=100, lot=200)
        return {"on_hand": {k: stock.on_hand[k] for k in stock.touched}, "reserved": dict(stock.reserved),
                "coupon_uses": dict(self.coupon_uses), "receipts": stock.receipts, "received": stock.received,
                "plan": self.timings["plan"]}

    def _write(self, planned: dict) -> None:
        """Take the batch's numbers from the gap-free sequences, put them on its documents, insert."""
        first, count = planned["orders"]
        taken = numbers_reserve("order", count)
        if taken and int(taken[0]) != first:
            raise CommandError(f"Order numbers were taken by someone else while seeding (planned {first}, got "
                               f"{taken[0]}); nothing of this batch was written. Run the command again.")
        rows = planned["rows"]
        events = rows[OrderEvent._meta.label]
        data_col = self._column(OrderEvent, "data")
        for kind, (model, order, event_rows) in planned["docs"].items():
            numbers = numbers_reserve(kind, len(order))
            docs = rows[model]
            col = self._column(MODEL_BY_LABEL[model], "number")
            for n, number in zip(order, numbers, strict=True):
                row = docs[n]
                docs[n] = row[:col] + (number,) + row[col + 1:]
            for n, k in event_rows:
                row = events[n]
                data = row[data_col]
                data = data.replace(NUMBER_MARK, f'"{numbers[k]}"', 1) if isinstance(data, str) \
                    else {**data, "number": numbers[k]}
                events[n] = row[:data_col] + (data,) + row[data_col + 1:]
        for model in MODELS:
            batch = rows.get(model._meta.label, [])
            self.writer.insert(model, batch)
            self.timings["rows"] += len(batch)
        id_col = self._column(Order, "id")
        bulk_written(order_ids=[row[id_col] for row in rows.get(Order._meta.label, [])])

    def _column(self, model, attname: str) -> int:
        return self.writer.tables[model].attnames.index(attname)

    def _next_id(self, model) -> int:
        value = self.ids[model]
        self.ids[model] = value + 1
        return value

    def _order_documents(self) -> dict[str, tuple[str, list[int], list[tuple[int, int]]]]:
        """Per document type: its rows in time order, and the events that name each one's number.
        The numbers themselves are taken when the batch is written."""
        rows = self.rows.by_model
        position = {}
        for model in (Invoice, Shipment, Refund, OrderEvent):
            for n, row in enumerate(rows.get(model, [])):
                position[id(row)] = n
            for n, row in enumerate(rows.get(model, [])):
                if model is OrderEvent:
                    position[id(row["data"])] = n
        by_kind: dict[str, list] = defaultdict(list)
        for doc in self.docs:
            by_kind[doc[1]].append(doc)
        out = {}
        for kind, docs in by_kind.items():
            docs.sort(key=lambda d: (d[0], d[2]["id"]))
            order = [position[id(d[2])] for d in docs]
            event_rows = [(position[id(data)], k) for k, d in enumerate(docs) for data in d[3]]
            out[kind] = (MODEL_LABELS[kind], order, event_rows)
        return out

    def _later(self, t: datetime, *, max_days: float = 6.0) -> datetime:
        """A moment a little after t (minutes to days), never in the future."""
        step = self.rng.random() ** 2 * max_days * DAY + 60
        later = t + timedelta(seconds=int(step))
        return min(later, self.now)

    # -- one order

    def _order(self, number: str, created_at: datetime, scenario: str) -> PlannedOrder:
        rng = self.rng
        customer_id, customer_email, customer_name, address, address_json = rng.choice(self.customers)
        gateway = scenario in ("pending_payment", "captured") or (scenario in ("canceled", "fraud")
                                                                  and rng.random() < 0.25)
        if gateway:
            payment = rng.choice(["paypal_standard", "paylink"])
        else:
            payment = PAYMENTS.pick(rng)
        # lines
        n_lines = LINES.pick(rng)
        chosen = rng.sample(self.stocked, min(n_lines, len(self.stocked)))
        if self.virtual and rng.random() < 0.08:
            if rng.random() < 0.3:
                chosen = []  # a gift card alone: nothing ships
            chosen.append(rng.choice(self.virtual))
        lines = [(p, QTY.pick(rng)) for p in chosen]
        ships = any(p.shippable for p, _ in lines)
        # currency
        code = self.currency_pick.pick(rng)
        currency = self.currencies.get(code) or self.currencies[self.base]
        rate = currency.rate
        # fulfillment and the address that decides tax
        pickup = ships and "pickup" in self.shipping and rng.random() < 0.1
        if not ships:
            method, shipping_address, tax_address, fulfillment = None, None, address, FulfillmentType.NONE
        elif pickup:
            method, shipping_address, fulfillment = self.shipping["pickup"], None, FulfillmentType.PICKUP
            tax_address = self.downtown.address or address
        else:
            options = [c for c in ("flatrate", "free") if c in self.shipping]
            method = self.shipping[options[0] if len(options) == 1 or rng.random() < 0.8 else options[1]]
            shipping_address, tax_address, fulfillment = address, address, FulfillmentType.SHIPPING
        prices = [p.price_in(code, rate) for p, _ in lines]
        subtotal_guess = sum((pr * q for pr, (_, q) in zip(prices, lines, strict=True)), ZERO)
        shipping_amount = ZERO
        if method is not None and method.code not in ("pickup",):
            if method.code == "free":
                threshold = None if method.free_threshold is None else convert(method.free_threshold, rate)
                if threshold is not None and subtotal_guess < threshold:
                    method = self.shipping.get("flatrate", method)
            if method.code != "free":
                shipping_amount = convert(method.amount, rate)
                if method.calc == ShippingCalc.PER_UNIT:
                    shipping_amount *= sum(q for p, q in lines if p.shippable)
        # coupon
        coupon = None
        if rng.random() < 0.18:
            coupon = self.coupons.get(COUPONS.pick(rng))
            if coupon is not None and coupon.min_subtotal is not None and \
                    subtotal_guess < convert(coupon.min_subtotal, rate):
                coupon = None
        rates = self._tax_rates(tax_address)
        taxes = [rates.get(p.tax_category_id, ZERO) if p.tax_category_id else ZERO for p, _ in lines]
        totals = compute_totals([PricingLine(price=pr, quantity=q, tax_percent=tx)
                                 for pr, (_, q), tx in zip(prices, lines, taxes, strict=True)],
                                coupon=coupon_terms(coupon, rate) if coupon else None, shipping_amount=shipping_amount)
        order_id = self._next_id(Order)
        order = PlannedOrder(id=order_id, number=number, status=rules.PENDING_PAYMENT if gateway else rules.PENDING,
                             payment_method_code=payment, shipping_total=totals.shipping_total, updated_at=created_at,
                             coupon_id=coupon.id if coupon else None, customer_id=customer_id)
        for (product, qty), price, tax, lt in zip(lines, prices, taxes, totals.lines, strict=True):
            order.items.append(PlannedItem(
                id=self._next_id(OrderItem), order_id=order_id, product_id=product.id, sku=product.sku,
                name=product.name, type=product.type, is_shippable=product.shippable, is_stocked=product.stocked,
                qty_ordered=qty, price=price, subtotal=lt.subtotal, tax_percent=tax, tax_amount=lt.tax,
                discount_amount=lt.discount, total=lt.total))
        w = self.writer
        order.row = {
            "id": order_id, "number": number, "channel": "admin" if rng.random() < 0.8 else "api",
            "customer_id": customer_id, "customer_email": customer_email, "customer_name": customer_name,
            "currency": currency.code, "base_currency": self.base, "exchange_rate": rate,
            "billing_address": address_json, "shipping_address": address_json if shipping_address else None,
            "fulfillment_type": fulfillment.value, "pickup_location_id": self.downtown.id if pickup else None,
            "shipping_method_code": method.code if method else "", "shipping_method_title": method.title if method else "",
            "payment_method_code": payment, "payment_method_title": self.payments.get(payment, payment),
            "coupon_id": coupon.id if coupon else None, "coupon_code": coupon.code if coupon else "",
            "subtotal": totals.subtotal, "discount_total": totals.discount_total, "tax_total": totals.tax_total,
            "shipping_total": totals.shipping_total, "grand_total": totals.grand_total,
            "checkout_token": secrets.token_urlsafe(32) if gateway else None,
            "created_by_id": self.actor_id, "created_at": created_at, "metadata": self.empty_json, "extra": self.empty_json,
        }
        # placing reserves the units that will ship
        for item in order.items:
            if item.is_stocked and item.product_id:
                self.stock.reserve(item.product_id, item.qty_ordered)
        order.grand_total = totals.grand_total
        self._event(order, EV["PLACED"], created_at, placed_data(order, cart_id=None, items=len(lines)))
        getattr(self, f"_scenario_{scenario}")(order, created_at)
        # Status and the invoiced / shipped columns, from the quantities (the services refresh after
        # every action; no action here depends on the intermediate status, so once is the same).
        order_refresh_state(order, order.items)
        if coupon is not None and not all(i.qty_canceled == i.qty_ordered for i in order.items):
            self.rows.add(CouponUsage, id=self._next_id(CouponUsage), coupon_id=coupon.id, customer_id=customer_id,
                          order_id=order_id, created_at=w.when(created_at))
            self.coupon_uses[coupon.id] += 1
        return order

    def _tax_rates(self, address: dict) -> dict[int, Decimal]:
        key = (address.get("country"), address.get("zone"))
        if key not in self.tax_cache:
            self.tax_cache[key] = tax_rate_map(self.category_ids, country=key[0], zone=key[1])
        return self.tax_cache[key]

    # -- scenarios: each ends in the status its name says (status_compute decides, not the name)

    def _scenario_pending(self, order, t):
        pass

    def _scenario_pending_payment(self, order, t):
        pass

    def _scenario_fraud(self, order, t):
        order.status = rules.FRAUD  # a payment reported as fraudulent: everything stays reserved

    def _scenario_canceled(self, order, t):
        self._cancel(order, self._later(t, max_days=3))

    def _scenario_captured(self, order, t):
        """A gateway order paid through its checkout link, then shipped."""
        t = self._later(t, max_days=1)
        self._invoice(order, None, t, capture=True)
        if self.rng.random() < 0.7:
            self._ship_all(order, self._later(t))

    def _scenario_processing(self, order, t):
        """Part invoiced and / or part shipped."""
        t = self._later(t)
        self._invoice(order, self._some_of(order, lambda i: i.qty_to_invoice) or None, t)
        partial = self._some_of(order, lambda i: i.qty_to_ship, shippable=True)
        if partial and self.rng.random() < 0.7:
            self._ship(order, partial, self._pick_source(order, partial), self._later(t))

    def _scenario_completed(self, order, t):
        rng = self.rng
        t = self._later(t)
        if rng.random() < 0.3:
            first = self._some_of(order, lambda i: i.qty_to_invoice)
            if first:
                self._invoice(order, first, t)
                t = self._later(t, max_days=2)
        self._invoice(order, None, t)
        self._ship_all(order, self._later(t))

    def _scenario_partly_refunded(self, order, t):
        """Completed (or invoiced, not yet shipped), then one unit of one line refunded, or a goodwill amount."""
        if self.rng.random() < 0.7:
            self._scenario_completed(order, t)
        else:
            self._invoice(order, None, self._later(t))
        t = self._later(order.updated_at, max_days=20)
        item = self.rng.choice([i for i in order.items if i.qty_to_refund > 0])
        if sum(i.qty_ordered for i in order.items) == 1:  # refunding the unit would close the order
            request = RefundRequest(adjustment_refund=min(Decimal("5.00"), order.total_invoiced))
        else:
            fee = Decimal(self.rng.choice([0, 0, 0, 1, 2])) if item.price > 5 else ZERO
            request = RefundRequest(items=[LineQty(item.id, 1)], adjustment_fee=q2(fee),
                                    return_to_stock=item.qty_to_ship == 0 and self.rng.random() < 0.5)
        self._refund(order, request, t)

    def _scenario_closed(self, order, t):
        t = self._later(t)
        self._invoice(order, None, t)
        shipped = self.rng.random() < 0.7
        if shipped:
            self._ship_all(order, self._later(t))
        t = self._later(order.updated_at, max_days=30)
        items = [LineQty(i.id, i.qty_to_refund) for i in order.items if i.qty_to_refund > 0]
        request = RefundRequest(items=items, shipping_amount=order.shipping_invoiced - order.shipping_refunded,
                                return_to_stock=shipped and self.rng.random() < 0.6)
        self._refund(order, request, t)

    def _scenario_partly_canceled(self, order, t):
        """Some units billed and sent, the rest canceled: completed with a canceled share."""
        t = self._later(t)
        part = self._some_of(order, lambda i: i.qty_to_invoice)
        if part:
            self._invoice(order, part, t)
            by_id = {i.id: i for i in order.items}
            send = {iid: min(q, by_id[iid].qty_to_ship) for iid, q in part.items() if by_id[iid].qty_to_ship}
            if send:
                self._ship(order, send, self._pick_source(order, send), self._later(t))
        self._cancel(order, self._later(order.updated_at, max_days=2))

    # -- helpers that pick quantities

    def _any_ship(self, order) -> bool:
        return any(i.qty_to_ship > 0 for i in order.items)

    def _some_of(self, order, remaining, *, shippable: bool = False) -> dict[int, int]:
        """Part (never all) of what is left: a few lines, some units each."""
        left = [(i, remaining(i)) for i in order.items if remaining(i) > 0 and (i.is_shippable or not shippable)]
        total = sum(q for _, q in left)
        if total <= 1:
            return {}
        wanted: dict[int, int] = {}
        for item, q in left:
            if self.rng.random() < 0.6:
                wanted[item.id] = self.rng.randint(1, q)
        if not wanted:
            item, q = left[0]
            wanted[item.id] = 1
        if sum(wanted.values()) >= total:  # keep something back
            key = next(iter(wanted))
            wanted[key] -= 1
            if not wanted[key]:
                del wanted[key]
        return wanted

    def _store_has(self, pid: int, qty: int) -> bool:
        if not self.stock.can_take(pid, self.downtown.id, qty) and self.restock_store:
            self.stock.restock(pid, self.downtown.id, self.rng.randint(20, 40))
        return self.stock.can_take(pid, self.downtown.id, qty)

    def _pick_source(self, order, wanted: dict[int, int]) -> int:
        by_id = {i.id: i for i in order.items}
        if self.rng.random() < 0.35 and all(
                self._store_has(by_id[iid].product_id, q) for iid, q in wanted.items()
                if by_id[iid].is_stocked):
            return self.downtown.id
        return self.default.id

    def _ship_all(self, order, t) -> None:
        """Everything left to ship: from one source, or split over both when the store has stock."""
        rest = {i.id: i.qty_to_ship for i in order.items if i.qty_to_ship > 0}
        if not rest:
            return
        if self.rng.random() < 0.4:
            by_id = {i.id: i for i in order.items}
            store = {}
            for iid, q in rest.items():
                take = self.rng.randint(1, q)
                if by_id[iid].is_stocked and self._store_has(by_id[iid].product_id, take):
                    store[iid] = take
            if store and sum(store.values()) < sum(rest.values()):
                self._ship(order, store, self.downtown.id, t)
                t = self._later(t, max_days=2)
                rest = {i.id: i.qty_to_ship for i in order.items if i.qty_to_ship > 0}
        self._ship(order, rest, self._pick_source(order, rest), t)

    # -- actions, as the services apply them

    def _event(self, order, type_: str, t, data: dict) -> dict:
        """One history row; ``data`` comes from the event's typed payload builder (``sales.events``)."""
        self.rows.by_model[OrderEvent].append({
            "id": self._next_id(OrderEvent), "order_id": order.id, "type": type_,
            "actor_id": None if type_ == EV["PAYMENT_CAPTURED"] else self.actor_id,
            "created_at": self.writer.when(t), "data": data})
        if t > order.updated_at:
            order.updated_at = t
        return data

    def _doc_items(self, model, fk: str, doc_id: int, lines: list[LineAmounts]) -> None:
        add = self.rows.by_model[model].append
        for row in document_item_rows(fk, doc_id, lines):
            row["id"] = self._next_id(model)
            add(row)

    def _invoice(self, order, wanted: dict[int, int] | None, t: datetime, *, capture: bool = False) -> None:
        lines = None if wanted is None else [LineQty(k, v) for k, v in wanted.items()]
        plan = invoice_plan(order, order.items, lines, skip_gateway_check=capture)
        invoice_count(order, order.items, plan)
        totals = plan.totals
        invoice_id = self._next_id(Invoice)
        row = self.rows.add(Invoice, id=invoice_id, order_id=order.id, created_by_id=None if capture else self.actor_id,
                            created_at=self.writer.when(t), state="paid", **totals)
        self._doc_items(InvoiceItem, "invoice_id", invoice_id, plan.lines)
        bits = f"{self.rng.getrandbits(128):032x}"
        reference = f"test_{bits[:16]}" if capture else \
            f"{bits[:8]}-{bits[8:12]}-4{bits[13:16]}-{'89ab'[int(bits[16], 16) % 4]}{bits[17:20]}-{bits[20:]}"
        self.rows.add(Payment, id=self._next_id(Payment), order_id=order.id, method=order.payment_method_code,
                      amount=totals["grand_total"], state="captured", reference=reference,
                      created_at=self.writer.when(t))
        order.invoices.count += 1
        data = self._event(order, EV["INVOICED"], t, invoiced_data(
            invoice_id=invoice_id, number=NUMBER, grand_total=totals["grand_total"], items=lines_data(plan.lines)))
        if capture:
            self._event(order, EV["PAYMENT_CAPTURED"], t, payment_captured_data(
                provider="test", reference=reference, amount=totals["grand_total"], invoice_id=invoice_id))
        self.docs.append((t, "invoice", row, [data]))

    def _ship(self, order, wanted: dict[int, int], source_id: int, t: datetime) -> None:
        by_id = {i.id: i for i in order.items}
        lines = []
        for item_id, qty in wanted.items():
            item = by_id[item_id]
            assert 0 < qty <= item.qty_to_ship, (item_id, qty, item.qty_to_ship)
            lines.append(line_amounts(item, qty, amounts_for_shipment(item, qty, item.shipped)))
        for line in lines:
            item = by_id[line.order_item_id]
            if item.is_stocked and item.product_id:
                self.stock.take(item.product_id, source_id, line.quantity)
            item.qty_shipped += line.quantity
            subtotal, tax, discount = item.shipped
            item.shipped = (subtotal + line.subtotal, tax + line.tax_amount, discount + line.discount_amount)
            item.last_source = source_id
        subtotal = sum((x.subtotal for x in lines), ZERO)
        tax = sum((x.tax_amount for x in lines), ZERO)
        discount = sum((x.discount_amount for x in lines), ZERO)
        total_qty = sum(x.quantity for x in lines)
        carrier, prefix = self.rng.choice(CARRIERS)
        track = f"{prefix}{self.rng.getrandbits(40):012d}"
        shipment_id = self._next_id(Shipment)
        row = self.rows.add(Shipment, id=shipment_id, order_id=order.id, created_by_id=self.actor_id,
                            created_at=self.writer.when(t), state="shipped", carrier_title=carrier, track_number=track,
                            inventory_source_id=source_id, total_qty=total_qty, subtotal=subtotal, tax_total=tax,
                            discount_total=discount, shipping_total=ZERO, grand_total=subtotal - discount + tax)
        self._doc_items(ShipmentItem, "shipment_id", shipment_id, lines)
        source = self.sources[source_id]
        data = self._event(order, EV["SHIPPED"], t, shipped_data(
            shipment_id=shipment_id, number=NUMBER, source_id=source_id, source_code=source.code, total_qty=total_qty,
            carrier_title=carrier, track_number=track, items=lines_data(lines)))
        self.docs.append((t, "shipment", row, [data]))

    def _refund(self, order, request: RefundRequest, t: datetime) -> None:
        plan = refund_plan(order, order.items, request)
        by_id = {i.id: i for i in order.items}
        for line in plan.lines:
            item = by_id[line.order_item_id]
            returned = plan.returned.get(item.id, 0)  # the rest of the line's units were never sent
            if item.is_stocked and item.product_id and item.is_shippable:
                if line.quantity - returned:
                    self.stock.release(item.product_id, line.quantity - returned)
                if plan.return_to_stock and returned and item.last_source:
                    self.stock.put_back(item.product_id, item.last_source, returned)
            item.qty_refunded += line.quantity
            item.qty_returned += returned
            item.subtotal_refunded += line.subtotal
            item.tax_refunded += line.tax_amount
            item.discount_refunded += line.discount_amount
        totals = plan.totals
        refund_id = self._next_id(Refund)
        row = self.rows.add(Refund, id=refund_id, order_id=order.id, created_by_id=self.actor_id,
                            created_at=self.writer.when(t), state="refunded", return_to_stock=plan.return_to_stock,
                            **totals)
        self._doc_items(RefundItem, "refund_id", refund_id, plan.lines)
        order.total_refunded += totals["grand_total"]
        order.shipping_refunded += plan.shipping_amount
        data = self._event(order, EV["REFUNDED"], t, refunded_data(
            refund_id=refund_id, number=NUMBER, grand_total=totals["grand_total"],
            shipping_amount=plan.shipping_amount, adjustment_refund=plan.adjustment_refund,
            adjustment_fee=plan.adjustment_fee, return_to_stock=plan.return_to_stock, items=lines_data(plan.lines)))
        self.docs.append((t, "refund", row, [data]))

    def _cancel(self, order, t: datetime) -> None:
        outcome = cancel_counts(order, order.items, cancel_check(order, order.items))  # the service's own rule
        for pid, qty in outcome.release.items():
            self.stock.release(pid, qty)
        self._event(order, EV["CANCELED"], t, canceled_data(items=outcome.lines, amount=outcome.amount,
                                                            fully=outcome.fully))

    # -- rows

    def _order_row(self, order: PlannedOrder) -> None:
        w = self.writer
        row = order.row
        row.update(status=order.status, total_invoiced=order.total_invoiced, total_refunded=order.total_refunded,
                   total_canceled=order.total_canceled, shipping_invoiced=order.shipping_invoiced,
                   shipping_refunded=order.shipping_refunded, invoice_state=order.invoice_state or "none",
                   shipment_state=order.shipment_state or "none", payment_captured=order.payment_captured,
                   created_at=w.when(row["created_at"]), updated_at=w.when(order.updated_at),
                   work_left=work_left(order.items))  # bulk_written then skips checking it
        self.rows.add(Order, **row)
        add = self.rows.by_model[OrderItem].append
        for i in order.items:
            add({"id": i.id, "order_id": i.order_id, "product_id": i.product_id, "sku": i.sku, "name": i.name,
                 "type": i.type, "is_shippable": i.is_shippable, "is_stocked": i.is_stocked,
                 "qty_ordered": i.qty_ordered, "qty_invoiced": i.qty_invoiced, "qty_shipped": i.qty_shipped,
                 "qty_refunded": i.qty_refunded, "qty_returned": i.qty_returned, "qty_canceled": i.qty_canceled,
                 "price": i.price,
                 "subtotal": i.subtotal, "tax_percent": i.tax_percent, "tax_amount": i.tax_amount,
                 "discount_amount": i.discount_amount, "total": i.total, "subtotal_invoiced": i.subtotal_invoiced,
                 "tax_invoiced": i.tax_invoiced, "discount_invoiced": i.discount_invoiced,
                 "subtotal_canceled": i.subtotal_canceled, "tax_canceled": i.tax_canceled,
                 "discount_canceled": i.discount_canceled, "subtotal_refunded": i.subtotal_refunded,
                 "tax_refunded": i.tax_refunded, "discount_refunded": i.discount_refunded})

    def _finish_stock(self, final: dict) -> None:
        """Write on-hand per source and the products' reservations as the planning left them."""
        on_hand = final["on_hand"]
        existing = {(pid, sid): inv for pid, sid, inv in
                    ProductInventory.objects.values_list("product_id", "source_id", "id")}
        ProductInventory.objects.bulk_create([ProductInventory(product_id=pid, source_id=sid, qty=qty)
                                              for (pid, sid), qty in on_hand.items() if (pid, sid) not in existing])
        ProductInventory.objects.bulk_update([ProductInventory(id=existing[key], qty=qty)
                                              for key, qty in on_hand.items() if key in existing],
                                             ["qty"], batch_size=500)
        Product.objects.bulk_update([Product(id=pid, qty_reserved=qty) for pid, qty in final["reserved"].items()
                                     if qty != self.reserved_start.get(pid, 0)], ["qty_reserved"], batch_size=500)
        for coupon_id, uses in final["coupon_uses"].items():
            Coupon.objects.filter(id=coupon_id).update(times_used=F("times_used") + uses)


def _processes(n: int) -> str:
    return "this process" if not n else "1 forked process" if n == 1 else f"{n} forked processes"


def _fork_context():
    """Forking (Linux) lets a child plan from this process's memory; elsewhere plan in-process."""
    import multiprocessing

    try:
        return multiprocessing.get_context("fork")
    except ValueError:
        return None


def _plan_all(planner: OrderPlanner, k: int, planners: int, seed: int, start: datetime, chunks, queue) -> None:
    """A planning process: its batches into the queue, then its final stock and coupon state."""
    try:
        planner.partition(k, planners, seed)
        for chunk, first in chunks:
            queue.put(("batch", planner.plan(start, chunk, first)))
        queue.put(("done", planner.final_state()))
    except BaseException:  # noqa: BLE001 - reported to the writing process, which raises it
        import traceback

        queue.put(("error", traceback.format_exc()))


def _merge_finals(finals: list[dict]) -> dict:
    out: dict[str, Any] = {"on_hand": defaultdict(int), "reserved": defaultdict(int), "coupon_uses": defaultdict(int),
                           "receipts": 0, "received": 0, "plan": 0.0}
    for final in finals:
        for key in ("on_hand", "reserved", "coupon_uses"):
            for k, v in final[key].items():
                out[key][k] += v
        for key in ("receipts", "received", "plan"):
            out[key] += final[key]
    return out


def _refresh_statistics() -> None:
    """After a bulk load, give PostgreSQL fresh statistics and a visibility map, so that list
    pages get good plans and counts run as index-only scans straight away (autovacuum would
    get there later)."""
    from django.db import connection

    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        for table in ("sales_order", "sales_orderitem", "sales_invoice", "sales_shipment", "sales_refund",
                      "sales_orderevent", "catalog_product", "catalog_productinventory"):
            cursor.execute(f'VACUUM (ANALYZE) "{table}"')
