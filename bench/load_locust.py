"""Locust users of bench/load_test.py (run by it; not on its own). Configuration comes from the environment:

- ``LOAD_HOSTS``: comma-separated base URLs; user n talks to host n mod len(hosts), so two servers share the load.
- ``LOAD_TOKEN``: an API token of a staff user with every permission.
- ``LOAD_ORDER_IDS``: a file with one order id a line (the read mix picks details from it).
- ``LOAD_PRODUCT_IDS``, ``LOAD_SOURCE_ID``: the products the write mix orders and the source it ships from.
- ``LOAD_RUN``: a tag stored in each created order's ``metadata`` (``load_run``), so the run's orders can be found.
- ``LOAD_SUMMARY``: where the summary JSON is written when locust stops.

Every request must answer what its step expects (2xx, or the one 409 the write mix asks for on purpose);
anything else is a failure, and 5xx answers and connection errors are counted apart from other failures.
"""

from __future__ import annotations

import itertools
import json
import os
import random
from pathlib import Path

from locust import FastHttpUser, constant, events, task

HOSTS = [h for h in os.environ.get("LOAD_HOSTS", "").split(",") if h]
TOKEN = os.environ.get("LOAD_TOKEN", "")
RUN = os.environ.get("LOAD_RUN", "load")
_ids_file = os.environ.get("LOAD_ORDER_IDS")
ORDER_IDS = [int(x) for x in Path(_ids_file).read_text().split()] if _ids_file else []
PRODUCT_IDS = [int(x) for x in os.environ.get("LOAD_PRODUCT_IDS", "").split(",") if x]
SOURCE_ID = int(os.environ.get("LOAD_SOURCE_ID", "0") or 0)
QTY = 2  # units per write-mix order: all shipped, one refunded and returned to stock

_user_numbers = itertools.count()
_counts = {"requests": 0, "ok": 0, "errors": 0, "server_errors": 0, "connection_errors": 0,
           "expected_4xx": 0, "flows": 0, "flows_failed": 0}
_statuses: dict[str, int] = {}
_samples: list[str] = []  # the first few failures, to say what went wrong


@events.request.add_listener
def _count(request_type, name, response_time, response_length, response=None, exception=None, **kwargs):
    _counts["requests"] += 1
    status = getattr(response, "status_code", 0) or 0
    _statuses[str(status)] = _statuses.get(str(status), 0) + 1
    if status >= 500:
        _counts["server_errors"] += 1
    elif status == 0:
        _counts["connection_errors"] += 1
    if exception is not None:
        _counts["errors"] += 1
        if len(_samples) < 20:
            _samples.append(f"{request_type} {name}: {status} {str(exception)[:300]}")
    else:
        _counts["ok"] += 1


@events.quitting.add_listener
def _write_summary(environment, **kwargs):
    path = os.environ.get("LOAD_SUMMARY")
    if not path:
        return
    stats = environment.stats
    total = stats.total

    def figures(entry) -> dict:
        return {"requests": entry.num_requests, "failures": entry.num_failures,
                "rps": round(entry.total_rps, 2),
                "p50": entry.get_response_time_percentile(0.50), "p95": entry.get_response_time_percentile(0.95),
                "p99": entry.get_response_time_percentile(0.99), "max": entry.max_response_time,
                "avg": round(entry.avg_response_time, 1)}

    Path(path).write_text(json.dumps({
        "total": figures(total),
        "elapsed_s": round(total.last_request_timestamp - total.start_time, 2) if total.last_request_timestamp else 0,
        "by_name": {name: figures(entry) for (name, _method), entry in sorted(stats.entries.items())},
        "counts": _counts, "statuses": _statuses, "samples": _samples,
    }, indent=1))


class _Base(FastHttpUser):
    abstract = True
    wait_time = constant(0)  # a closed loop: each user sends its next request when the last one answered

    def __init__(self, environment):
        self.number = next(_user_numbers)
        self.host = HOSTS[self.number % len(HOSTS)]
        super().__init__(environment)
        self.auth = {"Authorization": f"Bearer {TOKEN}"}
        self.rng = random.Random(self.number)

    def call(self, method: str, path: str, *, name: str, expect: int, body: dict | None = None,
             code: str | None = None) -> dict | None:
        """One request; a failure unless it answers ``expect`` (and, for a refusal, the error ``code``)."""
        kwargs = {"headers": self.auth, "name": name, "catch_response": True}
        if body is not None:
            kwargs["json"] = body
        with self.client.request(method, path, **kwargs) as resp:
            if resp.status_code != expect:
                resp.failure(f"expected {expect}, got {resp.status_code}: {(resp.text or '')[:200]}")
                return None
            try:
                data = resp.json()
            except Exception:  # noqa: BLE001 - a body that is not JSON is this request's failure
                resp.failure(f"{resp.status_code} answer is not JSON: {(resp.text or '')[:200]}")
                return None
            if code is not None and data.get("code") != code:
                resp.failure(f"expected code {code}, got {data.get('code')}")
                return None
            if 400 <= resp.status_code < 500:
                _counts["expected_4xx"] += 1
            resp.success()
            return data


class ReadUser(_Base):
    """The read mix: the order list with filters (4), an order's detail (4), the count by status (2)."""

    LISTS = (
        "/api/admin/orders?page_size=50",
        "/api/admin/orders?status=processing&page_size=50",
        "/api/admin/orders?status=pending,completed&ordering=-grand_total",
        "/api/admin/orders?created_after=2026-01-01&min_total=50.00&page_size=50",
        "/api/admin/orders?payment_method=cashondelivery&ordering=created_at&page=3",
        "/api/admin/orders?search=example.com&page_size=20",
    )

    @task(4)
    def order_list(self) -> None:
        self.call("GET", self.rng.choice(self.LISTS), name="GET /orders?filters", expect=200)

    @task(4)
    def order_detail(self) -> None:
        self.call("GET", f"/api/admin/orders/{self.rng.choice(ORDER_IDS)}", name="GET /orders/{id}", expect=200)

    @task(2)
    def order_count(self) -> None:
        self.call("GET", "/api/admin/orders/count", name="GET /orders/count", expect=200)


class WriteUser(_Base):
    """The write mix, one order's life per iteration: direct create (cash on delivery, 2 units of one product),
    invoice everything, ship everything, refund 1 unit back to stock, and one invoice more that must be
    refused (409 order_not_invoiceable: nothing is left to invoice)."""

    @task
    def order_life(self) -> None:
        ok = self._life()
        _counts["flows" if ok else "flows_failed"] += 1

    def _life(self) -> bool:
        order = self.call("POST", "/api/admin/orders", name="POST /orders (direct create)", expect=201, body={
            "email": f"load-{self.number}@example.com", "payment_method": "cashondelivery",
            "items": [{"product_id": self.rng.choice(PRODUCT_IDS), "quantity": QTY}],
            "metadata": {"load_run": RUN}})
        if order is None:
            return False
        oid, item = order["id"], order["items"][0]["id"]
        if self.call("POST", f"/api/admin/orders/{oid}/invoices", name="POST /orders/{id}/invoices",
                     expect=201, body={}) is None:
            return False
        if self.call("POST", f"/api/admin/orders/{oid}/shipments", name="POST /orders/{id}/shipments",
                     expect=201, body={"inventory_source_id": SOURCE_ID, "carrier_title": "Load"}) is None:
            return False
        if self.call("POST", f"/api/admin/orders/{oid}/refunds", name="POST /orders/{id}/refunds", expect=201,
                     body={"items": [{"order_item_id": item, "quantity": 1}], "return_to_stock": True}) is None:
            return False
        return self.call("POST", f"/api/admin/orders/{oid}/invoices", name="POST /orders/{id}/invoices (409)",
                         expect=409, body={}, code="order_not_invoiceable") is not None
