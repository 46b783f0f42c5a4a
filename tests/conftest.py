import os

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.services.auth import token_issue
from tests.accounts.factories import UserFactory

IS_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _engine() -> str:
    from django.conf import settings

    return settings.DATABASES["default"]["ENGINE"]


def pytest_collection_modifyitems(config, items):
    if "postgresql" in _engine():
        return
    pg_items = [i for i in items if i.get_closest_marker("postgres")]
    if not pg_items:
        return
    if IS_CI:
        # CI runs these in its PostgreSQL pass (.ci/run); here they are deselected, not skipped.
        config.hook.pytest_deselected(items=pg_items)
        items[:] = [i for i in items if not i.get_closest_marker("postgres")]
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: run `make test-postgres` (DATABASE_URL=postgres://...)")
    for item in pg_items:
        item.add_marker(skip)


@pytest.fixture
def admin_user(db):
    return UserFactory(email="admin@example.com", is_staff=True, is_superuser=True, name="Ada Admin")


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=user).token}")
    return client


@pytest.fixture
def api(admin_user) -> APIClient:
    """An API client authenticated as a superuser (Bearer token)."""
    return client_for(admin_user)


@pytest.fixture
def staff_api(db):
    """Factory: an API client for a staff user holding exactly the given permissions."""
    from django.contrib.auth.models import Permission

    def make(*perms: str) -> APIClient:
        user = UserFactory(is_staff=True)
        for perm in perms:
            app_label, codename = perm.split(".")
            user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        return client_for(user)

    return make


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


def is_postgres() -> bool:
    return connection.vendor == "postgresql"
