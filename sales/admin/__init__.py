"""Admin for sales: importing the modules registers their ModelAdmins with the admin site."""

from sales.admin import documents, import_jobs, orders  # noqa: F401
