"""``manage.py reseed_demo --orders N --yes``: empty the store and load demo data again.

``make run DEMO_ORDERS=1000`` loads demo data only into an empty store (``seed_demo
--if-empty``); this is the way to start over with another amount (``make reseed
DEMO_ORDERS=1000``). It deletes every row of every table (``flush``), puts back what the
migrations leave in a new store (the default inventory source, currencies, shipping and payment
methods), then runs ``seed_demo``.
"""

from __future__ import annotations

import importlib

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

# The data migrations whose rows a new store has (tests/conftest.py restores the same ones).
DEFAULT_ROWS = ("catalog.migrations.0002_default_data", "carts.migrations.0002_default_methods")


class Command(BaseCommand):
    help = "Delete every order, product, customer and user, then load demo data again (seed_demo)."

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=120, help="How many demo orders to create (default 120)")
        parser.add_argument("--yes", action="store_true", help="Do not ask: this deletes everything in the database")

    def handle(self, *args, orders: int, yes: bool, **options):
        name = settings.DATABASES["default"]["NAME"]
        if not yes:
            answer = input(f"Delete everything in the database {name} and load {orders} demo orders? [y/N] ")
            if answer.strip().lower() not in {"y", "yes"}:
                raise CommandError("Nothing deleted.")
        call_command("flush", interactive=False, verbosity=0)
        for module in DEFAULT_ROWS:
            importlib.import_module(module).forwards(apps, None)
        call_command("seed_demo", orders=orders, stdout=self.stdout, stderr=self.stderr,
                     verbosity=options.get("verbosity", 1))
        self.stdout.write(f"Reseeded {name} with {orders} demo orders.")
