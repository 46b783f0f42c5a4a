"""Recount the status counters and the dashboard's daily rollups from the orders and documents."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from sales.services.counters import counters_check, counters_repair


class Command(BaseCommand):
    help = ("Recount every status bucket (status, archived, held, to invoice, to ship), every order's "
            "work_left and the daily rollups from the orders, lines, invoices and refunds, and report "
            "what differs from what the services kept. Exits 1 on a difference, unless --repair, which "
            "rewrites them in one transaction: on PostgreSQL it holds the orders table in SHARE mode, "
            "so concurrent order writes wait and the result is exact (PostgreSQL may abort it, or a writer, "
            "on a deadlock with a writer caught half-way: run it again); on SQLite stop the writers first. "
            "Run it with --repair once after migrating a database that already holds orders.")

    def add_arguments(self, parser):
        parser.add_argument("--repair", action="store_true", help="rewrite what differs")

    def handle(self, *args, repair: bool, **options):
        started = time.perf_counter()
        found = counters_repair() if repair else counters_check()
        took = time.perf_counter() - started
        for line in found.lines():
            self.stdout.write(line)
        if not found:
            self.stdout.write(self.style.SUCCESS(f"Counters and rollups are exact ({took:.2f} s)."))
            return
        summary = (f"{len(found.counts)} bucket(s), {len(found.work_left)} order(s) and {len(found.sales)} "
                   f"day row(s) differed")
        if repair:
            self.stdout.write(self.style.WARNING(f"{summary}; repaired ({took:.2f} s)."))
            return
        raise CommandError(f"{summary}; run with --repair to rewrite them.", returncode=1)
