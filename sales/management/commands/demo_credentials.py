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
        self.stdout.write(self.style.SUCCESS("Order Desk is ready."))
        self.stdout.write(f"  Admin:     http://127.0.0.1:8000/admin/  login {DEMO_EMAIL} / {DEMO_PASSWORD}")
        self.stdout.write("  API docs:  http://127.0.0.1:8000/api/docs/")
        self.stdout.write(f"  API token: {issued.token}")
        self.stdout.write(f"  Try:       curl -H 'Authorization: Bearer {issued.token}' http://127.0.0.1:8000/api/admin/orders")
