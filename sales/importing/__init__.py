"""Order import (SPEC §7.2, seed 002): a JSON order document becomes an order with its lines,
payments, comments and, where the document says so, its paid invoice and its shipments.

Layers, so that the API (one document) and ``manage.py import_orders`` (batches of thousands)
write exactly the same rows:

- ``lookups``: ``ImportLookups`` loads everything planning needs from the database for a list
  of documents in a fixed number of queries (products, customers, staff, tax rates, methods,
  currencies, references already taken).
- ``plan``: ``import_plan`` is pure: a validated document plus the lookups in, an ``ImportPlan``
  out (every amount computed, every id resolved) or a ``DomainError``. All rules live here.
- ``stock``: the stock verdicts both writers take, document by document.
- ``write``: ``order_import`` writes one plan through the lifecycle services
  (``invoice_plan``/``invoice_apply``, ``shipment_plan``/``shipment_apply``), in one
  transaction; ``orders_import_bulk`` writes many plans through ``bulk`` (the raw bulk writer
  ``seed_demo`` uses too) and mirrors what those services write (tests import the same
  document both ways and compare).
- ``batch``: ``batch_import``, one batch of checked documents planned and written (bulk, then
  one by one when the bulk write fails as a whole): the loop ``manage.py import_orders`` and
  import jobs share.
- ``errors``: the import's refusals and ``validation_error`` (a shape error as the API words it).

Callers validate the shape themselves (``sales.api.importing``); the import never imports the API.

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

from sales.importing.errors import (
    DuplicateReference,
    PaymentMethodNotFound,
    ShippingMethodNotFound,
    TotalsMismatch,
    error_describe,
    json_no_constants,
    validation_error,
)
from sales.importing.lookups import ImportLookups
from sales.importing.plan import ImportPlan, ItemPlan, ShipmentPlanned, import_plan
from sales.importing.write import order_import, orders_import_bulk

__all__ = ["DuplicateReference", "ImportLookups", "ImportPlan", "ItemPlan", "PaymentMethodNotFound",
           "ShipmentPlanned", "ShippingMethodNotFound", "TotalsMismatch", "error_describe", "import_plan", "order_import",
           "json_no_constants", "orders_import_bulk", "validation_error"]
