from django.core.management.base import BaseCommand

from accounts.services.idempotency import idempotency_keys_purge


class Command(BaseCommand):
    help = "Delete stored Idempotency-Key answers older than 24 hours (the beat job, once)."

    def handle(self, *args, **options):
        self.stdout.write(f"{idempotency_keys_purge()} idempotency keys purged")
