"""The one thread harness of the PostgreSQL race tests.

``race_run(work, n)`` runs ``work(i)`` in n threads, each on its own database connection, that
meet at a barrier so they start together (each connects, and sets a ``lock_timeout``, before the
barrier: connecting does not stagger the start). Nothing can hang: the barrier has a timeout,
every join a deadline, and a thread stuck on a row lock fails with a lock timeout instead of
waiting. Each thread's result or exception is returned, in thread order, for the test to judge.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connection, connections

BARRIER_TIMEOUT = 30  # seconds for all threads to reach the start line
JOIN_TIMEOUT = 60  # seconds for the whole race to finish
LOCK_TIMEOUT = "15s"  # a thread stuck on a row lock fails instead of hanging


def race_run(work: Callable[[int], Any], n: int, *, name: str = "race") -> list[tuple[Any, BaseException | None]]:
    barrier = threading.Barrier(n, timeout=BARRIER_TIMEOUT)
    results: list[tuple[Any, BaseException | None]] = [(None, None)] * n

    def run(i: int) -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
            barrier.wait()
            results[i] = (work(i), None)
        except BaseException as exc:  # returned to the test, which asserts on it
            results[i] = (None, exc)
        finally:
            connections.close_all()  # this thread's connections only

    threads = [threading.Thread(target=run, args=(i,), name=f"{name}-{i}", daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + JOIN_TIMEOUT
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()))
    stuck = [t.name for t in threads if t.is_alive()]
    assert not stuck, f"threads still running after {JOIN_TIMEOUT}s (deadlock or lock wait?): {stuck}"
    return results
