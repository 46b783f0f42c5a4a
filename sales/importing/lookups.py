"""What planning needs from the database, for a batch of documents, in a fixed number of queries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.db.models.functions import Lower

from accounts.models import User
from carts.models import PaymentMethod, ShippingMethod
from catalog.models import Currency, InventorySource, Product, ProductType, TaxRate
from config.money import ZERO
from customers.models import Customer
from sales.models import Order

DEFAULT_SOURCE = "default"


CUSTOMER_FIELDS = ("id", "email", "first_name", "last_name")  # what sales.importing.plan reads of a customer


def as_id(value: Any) -> int | None:
    """A positive id given as a number or a string of digits, else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 < value < 2**63 else None
    if isinstance(value, str) and value.isdigit() and len(value) < 19:
        return int(value) or None
    return None


def staff_key(admin: Any) -> int | str | None:
    """A comment's ``admin`` as a staff id (int) or a lower-cased e-mail (str), else None."""
    if isinstance(admin, int) or (isinstance(admin, str) and admin.isdigit() and len(admin) < 19):
        return int(admin)
    if isinstance(admin, str) and "@" in admin:
        return admin.lower()
    return None


@dataclass
class _Wanted:
    """Everything a batch of documents names, collected in one pass."""

    skus: set[str] = field(default_factory=set)
    ids: set[int] = field(default_factory=set)
    customer_ids: set[int] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    staff_ids: set[int] = field(default_factory=set)
    staff_emails: set[str] = field(default_factory=set)
    references: set[str] = field(default_factory=set)

    def add(self, doc: dict[str, Any]) -> None:
        self.references.add(doc["reference"])
        if doc.get("customer_id"):
            self.customer_ids.add(doc["customer_id"])
        elif doc.get("email"):
            self.emails.add(doc["email"].strip().lower())
        for item in doc["items"]:
            if item.get("sku"):
                self.skus.add(item["sku"])
            pid = as_id(item.get("product_id"))
            if pid:
                self.ids.add(pid)
            if item.get("variant_id"):
                self.ids.add(item["variant_id"])
        for comment in doc.get("comments") or ():
            key = staff_key(comment.get("admin"))
            if isinstance(key, int):
                self.staff_ids.add(key)
            elif key is not None:
                self.staff_emails.add(key)


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
        self._rate_cache: dict[tuple[int, str, str], Decimal] = {}

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

    def prefetch(self, docs: Sequence[dict[str, Any]]) -> None:
        """Load what ``docs`` (validated documents) refer to, replacing the previous batch's rows."""
        self._load_static()
        wanted = _Wanted()
        for doc in docs:
            wanted.add(doc)
        self._load_products(wanted)
        self._load_customers(wanted)
        self._load_staff(wanted)
        self.references_taken = {r for r in Order.objects.filter(reference__in=wanted.references)
                                 .values_list("reference", flat=True) if r is not None}

    def _load_products(self, wanted: _Wanted) -> None:
        self.products_by_sku, self.products_by_id, self.variants = {}, {}, {}
        if wanted.skus or wanted.ids:
            for p in Product.objects.filter(Q(sku__in=wanted.skus) | Q(id__in=wanted.ids)):
                self.products_by_sku[p.sku] = p
                self.products_by_id[p.id] = p
            parents = [p.id for p in self.products_by_id.values() if p.type == ProductType.CONFIGURABLE]
            if parents:
                for v in Product.objects.filter(parent_id__in=parents).order_by("id"):
                    assert v.parent_id is not None
                    self.variants.setdefault(v.parent_id, []).append(v)
                    self.products_by_id.setdefault(v.id, v)
        categories = {p.tax_category_id for p in self.products_by_id.values() if p.tax_category_id}
        self.tax_rates = {}
        self._rate_cache = {}
        if categories:
            for rate in TaxRate.objects.filter(category_id__in=categories):
                self.tax_rates.setdefault(rate.category_id, []).append(rate)

    def _load_customers(self, wanted: _Wanted) -> None:
        # Only what the plan reads (id, e-mail, name): a batch loads up to a thousand of them.
        customers = Customer.objects.only(*CUSTOMER_FIELDS)
        self.customers_by_id = ({c.id: c for c in customers.filter(id__in=wanted.customer_ids)}
                                if wanted.customer_ids else {})
        self.customers_by_email = {}
        if wanted.emails:
            for c in customers.annotate(email_lower=Lower("email")).filter(email_lower__in=wanted.emails):
                self.customers_by_email[c.email_lower] = c

    def _load_staff(self, wanted: _Wanted) -> None:
        self.staff_by_id, self.staff_by_email = {}, {}
        if wanted.staff_ids or wanted.staff_emails:
            staff = User.objects.annotate(email_lower=Lower("email")).filter(is_staff=True).filter(
                Q(id__in=wanted.staff_ids) | Q(email_lower__in=wanted.staff_emails))
            for user in staff:
                self.staff_by_id[user.id] = user
                self.staff_by_email[user.email_lower] = user

    def tax_rate(self, product: Product | None, address: dict[str, Any] | None) -> Decimal:
        """SPEC §3: the rate of the product's category for the address; a zone rate wins."""
        if product is None or not product.tax_category_id or not address or not address.get("country"):
            return ZERO
        country = address["country"].upper()
        zone = (address.get("zone") or "").strip().lower()
        key = (product.tax_category_id, country, zone)
        rate = self._rate_cache.get(key)
        if rate is None:
            rate = self._rate_cache[key] = self._rate(product.tax_category_id, country, zone)
        return rate

    def _rate(self, category_id: int, country: str, zone: str) -> Decimal:
        country_wide = zoned = None
        for r in self.tax_rates.get(category_id, ()):
            if r.country != country:
                continue
            if not r.zone:
                country_wide = r.rate
            elif zone and r.zone.strip().lower() == zone:
                zoned = r.rate
        rate = zoned if zoned is not None else country_wide
        return rate if rate is not None else ZERO


__all__ = ["DEFAULT_SOURCE", "ImportLookups", "as_id", "staff_key"]
