from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.models import User
from accounts.services.auth import token_issue

DEMO_EMAIL = "admin@example.com"
DEMO_PASSWORD = "admin12345"


class Command(BaseCommand):
    help = "Ensure the demo superuser exists and print its login and a fresh API token."

    def handle(self, *args, **options):
        user = User.objects.filter(email=DEMO_EMAIL).first()
        if user is None:
            user = User.objects.create_superuser(DEMO_EMAIL, DEMO_PASSWORD, name="Demo Admin")
        issued = token_issue(user=user)
        base = settings.PUBLIC_BASE_URL  # the port `make run` serves, unless PUBLIC_BASE_URL says otherwise
        self.stdout.write(self.style.SUCCESS("Order Desk is ready."))
        self.stdout.write(f"  Admin:     {base}/admin/  login {DEMO_EMAIL} / {DEMO_PASSWORD}")
        self.stdout.write(f"  API docs:  {base}/api/docs/")
        self.stdout.write(f"  API token: {issued.token}")
        self.stdout.write(f"  Try:       curl -H 'Authorization: Bearer {issued.token}' {base}/api/admin/orders")
        self.stdout.write("  Reseed:    make reseed DEMO_ORDERS=1000   (deletes everything, loads demo data again)")
