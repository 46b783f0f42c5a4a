"""Admin for webhooks: importing the module registers its ModelAdmins with the admin site."""

from webhooks.admin import endpoints  # noqa: F401
