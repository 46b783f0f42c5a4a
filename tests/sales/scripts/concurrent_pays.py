"""Run by tests/sales/test_checkout_concurrency.py in its own process, on a SQLite *file* (the test
run's in-memory database cannot be shared by threads that each open a connection).

Ten threads press Pay on one checkout page at once; prints a JSON summary of what they got.
"""

import json
import os
import sys
import threading
from decimal import Decimal

sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from sales.models import Invoice, Payment  # noqa: E402
from sales.services.direct import DirectOrderRequest, order_create_direct  # noqa: E402

call_command("migrate", verbosity=0)
order = order_create_direct(request=DirectOrderRequest(email="payer@example.com", cost=Decimal("12.50"),
                                                       send_receipt=False), actor=None)
connection.close()
path = f"/checkout/{order.checkout_token}/"
barrier = threading.Barrier(10)
statuses: list[int] = []


def pay() -> None:
    client = Client(raise_request_exception=False)
    barrier.wait()
    statuses.append(client.post(path).status_code)
    connection.close()


threads = [threading.Thread(target=pay) for _ in range(10)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps({"statuses": sorted(statuses), "payments": Payment.objects.filter(order_id=order.id).count(),
                  "invoices": Invoice.objects.filter(order_id=order.id).count()}))
