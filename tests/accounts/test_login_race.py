"""Concurrent wrong logins on PostgreSQL (SPEC §2): the throttle's count holds under a race.

15 threads, each with its own connection and its own API client, post a wrong password for
one e-mail at the same moment. The limit is 5 failures per e-mail: at most 5 may be answered
401 and recorded, every other one 429. Without the per-e-mail lock in
``accounts.services.auth`` each thread counts the failures before any other has recorded
its own, and all 15 are answered 401.

``transaction=True``: the threads must see each other's commits. Nothing can hang: each
connection has a ``lock_timeout``, the barrier has a timeout and every join a deadline.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import LoginAttempt
from tests.accounts.factories import UserFactory
from tests.race import race_run

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

THREADS = 15


def race(work, n: int = THREADS) -> list:
    """Run ``work(i)`` in n threads that start together; return each thread's result."""
    results = race_run(work, n, name="login")
    errors = [error for _, error in results if error is not None]
    assert not errors, [repr(e) for e in errors]
    return [result for result, _ in results]


def wrong_login(i: int, *, email: str, ip: str | None = None):
    client = APIClient()
    return client.post("/api/admin/login", {"email": email, "password": "wrong-password"}, format="json",
                       REMOTE_ADDR=ip or f"10.1.0.{i + 1}")


def test_fifteen_parallel_wrong_logins_for_one_email_answer_at_most_five_401():
    UserFactory(email="kim@example.com", is_staff=True)

    responses = race(lambda i: wrong_login(i, email="kim@example.com"))

    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(401) <= 5, statuses
    assert statuses.count(401) + statuses.count(429) == THREADS, statuses
    assert {r.json()["code"] for r in responses if r.status_code == 429} == {"throttled"}
    assert all(int(r["Retry-After"]) >= 1 for r in responses if r.status_code == 429)
    # What is recorded matches what was answered: one failure per 401, none per 429.
    assert LoginAttempt.objects.filter(email="kim@example.com").count() == statuses.count(401)


def test_twenty_five_parallel_wrong_logins_from_one_ip_answer_at_most_twenty_401():
    # Different e-mails (each below its own limit of 5), one address: the per-IP count holds too.
    responses = race(lambda i: wrong_login(i, email=f"guess{i}@example.com", ip="192.0.2.9"), n=25)

    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(401) <= 20, statuses
    assert statuses.count(401) + statuses.count(429) == 25, statuses
    assert LoginAttempt.objects.filter(ip_address="192.0.2.9").count() == statuses.count(401)
