"""Demo data: catalog, stock at two sources, customers, coupons, and N orders placed through
the real services (so every order obeys every rule)."""

from __future__ import annotations

import random
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from tqdm import tqdm

from accounts.models import User
from carts.models import Coupon
from catalog.models import InventorySource, Product, ProductInventory, TaxCategory, TaxRate
from customers.models import Customer, CustomerAddress
from sales.management.commands.demo_credentials import DEMO_EMAIL, DEMO_PASSWORD
from sales.models import Order

FIRST = ["Ada", "Alan", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances", "John", "Radia",
         "Tim", "Hedy", "Edsger", "Katherine", "Guido"]
LAST = ["Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Thompson", "Liskov", "Ritchie", "Allen",
        "McCarthy", "Perlman", "Berners-Lee", "Lamarr", "Dijkstra", "Johnson", "Rossum"]
CITIES = [("US", "NY", "New York", "10001"), ("US", "CA", "San Francisco", "94105"), ("GB", "", "London", "EC1A 1BB"),
          ("DE", "", "Berlin", "10115"), ("US", "TX", "Austin", "73301"), ("FR", "", "Paris", "75001")]


class Command(BaseCommand):
    help = "Load demo data: catalog, stock at two sources, customers, coupons and N orders."

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=50)
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when products already exist")
        parser.add_argument("--seed", type=int, default=42)

    def handle(self, *args, orders: int, if_empty: bool, seed: int, **options):
        if if_empty and Product.objects.exists():
            self.stdout.write("Demo data already present; skipping.")
            return
        rng = random.Random(seed)
        with transaction.atomic():
            self._staff()
            sources = self._sources()
            products = self._catalog(rng, sources)
            customers = self._customers(rng)
            self._coupons()
        # Demo customers are fictional: no order e-mails for them.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            self._orders(rng, orders, products, customers)
        self.stdout.write(self.style.SUCCESS(
            f"Demo data: {Product.objects.count()} products, {Customer.objects.count()} customers, "
            f"{Order.objects.count()} orders."))

    def _staff(self) -> None:
        if not User.objects.filter(email=DEMO_EMAIL).exists():
            User.objects.create_superuser(DEMO_EMAIL, DEMO_PASSWORD, name="Demo Admin")

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
        return [p for p in stocked if p.status == "enabled"]

    def _customers(self, rng: random.Random) -> list[Customer]:
        customers = [Customer(email=f"{f.lower()}.{ln.lower()}{n}@example.com", first_name=f, last_name=ln,
                              phone=f"+1 555 01{n:02d}")
                     for n, (f, ln) in enumerate((rng.choice(FIRST), rng.choice(LAST)) for _ in range(40))]
        Customer.objects.bulk_create(customers)
        customers = list(Customer.objects.order_by("id"))
        addresses = []
        for c in customers:
            country, zone, city, postcode = rng.choice(CITIES)
            addresses.append(CustomerAddress(customer=c, first_name=c.first_name, last_name=c.last_name,
                                             line_1=f"{rng.randint(1, 999)} High Street", city=city, zone=zone,
                                             postcode=postcode, country=country, is_default_billing=True,
                                             is_default_shipping=True))
        CustomerAddress.objects.bulk_create(addresses)
        return customers

    def _coupons(self) -> None:
        Coupon.objects.get_or_create(code="WELCOME10", defaults={"discount_type": "percent", "value": Decimal("10")})
        Coupon.objects.get_or_create(code="FIVEOFF", defaults={"discount_type": "fixed", "value": Decimal("5"),
                                                               "min_subtotal": Decimal("30")})
        Coupon.objects.get_or_create(code="SHIPFREE", defaults={"discount_type": "fixed", "value": Decimal("0"),
                                                                "free_shipping": True})

    def _orders(self, rng: random.Random, count: int, products: list[Product], customers: list[Customer]) -> None:
        if count <= 0:
            return
        from carts.services import carts as cart_services
        from sales.services.placing import order_place

        actor = User.objects.get(email=DEMO_EMAIL)
        addresses = {a.customer_id: a.as_dict() for a in CustomerAddress.objects.all()}
        payments = ["cashondelivery", "moneytransfer", "cashondelivery", "paypal_standard"]
        for _ in tqdm(range(count), desc="orders", unit="order", disable=count < 20):
            customer = rng.choice(customers)
            cart = cart_services.cart_create(customer_id=customer.id, actor=actor)
            for product in rng.sample(products, rng.randint(1, 4)):
                cart_services.cart_item_add(cart_id=cart.id, product_id=product.id, quantity=rng.randint(1, 3))
            addr = addresses[customer.id]
            cart_services.cart_addresses_set(cart_id=cart.id, billing=addr, shipping_same_as_billing=True)
            cart_services.cart_shipping_method_set(cart_id=cart.id, code=rng.choice(["flatrate", "flatrate", "free"]))
            cart_services.cart_payment_method_set(cart_id=cart.id, code=rng.choice(payments))
            if rng.random() < 0.2:
                cart_services.cart_coupon_apply(cart_id=cart.id, code="WELCOME10")
            order_place(cart_id=cart.id, actor=actor)
