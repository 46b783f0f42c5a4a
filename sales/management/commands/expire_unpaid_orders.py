from django.core.management.base import BaseCommand

from sales.services.expiring import orders_expire_unpaid, unpaid_ttl


class Command(BaseCommand):
    help = ("Cancel the gateway orders left unpaid longer than UNPAID_ORDER_TTL_MINUTES (the beat job, once): "
            "their stock is released and their history says payment_expired.")

    def handle(self, *args, **options):
        if unpaid_ttl() is None:
            self.stdout.write("0 orders canceled (UNPAID_ORDER_TTL_MINUTES is 0: orders never expire)")
            return
        n = orders_expire_unpaid()
        self.stdout.write(f"{n} order{'' if n == 1 else 's'} canceled")
