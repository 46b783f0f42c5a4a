from django.core.management.base import BaseCommand, CommandError

from accounts.services.auth import token_create_for_email
from config.errors import DomainError


class Command(BaseCommand):
    help = "Print a new API token (Bearer) for the staff user with this e-mail."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email: str, **options):
        try:
            issued = token_create_for_email(email=email)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(issued.token)
