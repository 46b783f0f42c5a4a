from django.core.management.base import BaseCommand

from webhooks.services.deliveries import deliveries_retry_due


class Command(BaseCommand):
    help = ("Send the webhook deliveries whose next attempt is due (the beat job, once). Without a broker "
            "they are sent here; with one they are handed to the workers. Run it from cron when no worker runs.")

    def handle(self, *args, **options):
        n = deliveries_retry_due()
        self.stdout.write(f"{n} deliveries due")
