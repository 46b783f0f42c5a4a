from django.core.management.base import BaseCommand

from webhooks.services.deliveries import deliveries_purge


class Command(BaseCommand):
    help = "Purge delivered webhook deliveries older than WEBHOOK_RETENTION_DAYS and failed ones older than 30 days."

    def handle(self, *args, **options):
        n = deliveries_purge()
        self.stdout.write(f"{n} deliveries purged")
