"""After every test of the sales lifecycle that used the database, the status counters, every
order's work_left and the daily rollups equal a fresh recount (sales.services.counters): each
action keeps them in its own transaction, so any test that places, invoices, ships, refunds,
cancels, holds, archives or imports checks them too. Checked at the test's end, before its
transaction is rolled back (a module-level check would only see the empty database)."""

from __future__ import annotations

import pytest
from django.db import connection

from sales.services.counters import counters_check


@pytest.fixture(autouse=True)
def _counters_exact(request):
    yield
    if not ({"db", "transactional_db", "django_db_setup"} & set(request.fixturenames)
            or request.node.get_closest_marker("django_db")):
        return
    if connection.connection is None or connection.needs_rollback:
        return  # the test broke its transaction (it fails on its own) or never opened a connection
    found = counters_check()
    assert not found, "counters differ from a recount:\n" + "\n".join(found.lines())
