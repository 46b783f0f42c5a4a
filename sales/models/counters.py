"""Counters the services keep in the same transactions as the order writes (SPEC §5 count, §14
dashboard, §15 scale). Owned by ``sales.services.counters``: nothing else writes these tables.

Both tables are spread over slots: a writer adds its delta to one slot's row with
``INSERT … ON CONFLICT … DO UPDATE SET n = n + excluded.n``, readers sum the slots, so concurrent
writers do not queue on one hot row. A slot's row means nothing alone (it may be negative)."""

from django.db import models

SLOTS = 16


class OrderCounter(models.Model):
    """How many orders are in each bucket (status, archived, held, to_invoice, to_ship)."""

    status = models.PositiveSmallIntegerField()
    archived = models.BooleanField()
    held = models.BooleanField()
    to_invoice = models.BooleanField()
    to_ship = models.BooleanField()
    slot = models.PositiveSmallIntegerField()
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["status", "archived", "held", "to_invoice", "to_ship", "slot"],
                                               name="order_counter_bucket_slot")]

    def __str__(self) -> str:
        return f"{self.status}/{self.archived}/{self.held}/{self.to_invoice}/{self.to_ship}[{self.slot}]={self.n}"


class SalesDay(models.Model):
    """Daily rollups for the dashboard, in base-currency cents (exact on every database).

    ``product_id`` 0 is the day's totals: ``orders`` placed and ``amount`` = Σ base(grand_total) of
    them, ``revenue`` = Σ base(invoice grand_total) − Σ base(refund grand_total) of the documents
    created that day. Any other ``product_id`` is a product's line of the day: ``units`` ordered and
    ``amount`` = Σ base(line total) of the orders created that day (slot 0 only: placing already
    locks the product's row, so these rows are not a new point of contention)."""

    day = models.DateField()
    product_id = models.BigIntegerField()  # not a foreign key: a rollup outlives nothing, and 0 is "the day"
    slot = models.PositiveSmallIntegerField()
    orders = models.BigIntegerField(default=0)
    units = models.BigIntegerField(default=0)
    amount = models.BigIntegerField(default=0)
    revenue = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "product_id", "slot"], name="sales_day_product_slot")]

    def __str__(self) -> str:
        return f"{self.day} p{self.product_id}[{self.slot}]"


# A bucket: (status, archived, held, to_invoice, to_ship). None: the order is not counted (yet).
Bucket = tuple[int, bool, bool, bool, bool]
WORK_INVOICE, WORK_SHIP = 1, 2  # Order.work_left bits
WAITING_STATUSES = frozenset({1, 3})  # pending, processing: the orders work waits on (SPEC §14)
BUCKET_FIELDS = ("status", "archived_at", "held_at", "work_left")


def bucket_of(status: int, archived: bool, held: bool, work_left: int | None) -> Bucket | None:
    """The bucket an order with these values is counted in: to_invoice / to_ship only for pending
    or processing orders that are not held (the dashboard's "work waiting")."""
    if work_left is None:
        return None
    waiting = status in WAITING_STATUSES and not held
    return (int(status), bool(archived), bool(held), waiting and bool(work_left & WORK_INVOICE),
            waiting and bool(work_left & WORK_SHIP))


NOT_LOADED = object()  # Order._counted_as when the row was not read with every bucket field


def bucket_loaded(order, field_names) -> object:
    """The bucket of an order as read from the database (Order.from_db), or NOT_LOADED."""
    if not all(name in field_names for name in BUCKET_FIELDS):
        return NOT_LOADED
    return bucket_of(order.status, order.archived_at is not None, order.held_at is not None, order.work_left)
