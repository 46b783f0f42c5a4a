"""Customer e-mails on a real Celery worker (SPEC §13, issue 12): the action only publishes the
task, so a mail server that hangs never slows it; the worker sends (the invoice with its PDF),
retries, and notes `email_failed` after the last try. PostgreSQL and Redis, like the webhook
worker tests whose fixtures these reuse."""

from __future__ import annotations

import email
import socket
import threading
import time
from decimal import Decimal

import pytest

from sales.models import EventType, OrderEvent
from sales.services.invoicing import invoice_create
from tests.customers.factories import CustomerFactory
from tests.sales.helpers import placed_order
from tests.sales.lifecycle_support import product
from tests.webhooks.test_celery_worker import broker, wait_until, workers  # noqa: F401 - fixtures

pytestmark = [pytest.mark.celery, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def an_order():
    return placed_order((product("10.00", stock=10), 2), customer=CustomerFactory(email="wes@example.com"))


def notes(order, type_: str) -> list[dict]:
    return [e.data for e in OrderEvent.objects.filter(order_id=order.id, type=type_).order_by("id")]


@pytest.fixture
def silent_smtp():
    """A mail server that accepts connections and never says a word (a hung SMTP server)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(5)
    for conn in held:
        conn.close()
    server.close()


def test_the_worker_sends_the_invoice_with_its_pdf(workers, monkeypatch, tmp_path):  # noqa: F811
    monkeypatch.setenv("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
    monkeypatch.setenv("EMAIL_FILE_PATH", str(tmp_path / "mail"))
    workers()
    order = an_order()
    invoice = invoice_create(order_id=order.id, items=None, actor=None)
    sent = wait_until(lambda: len(notes(order, EventType.EMAIL_SENT)) == 2 and notes(order, EventType.EMAIL_SENT),
                      what="both e-mails sent by the worker")
    assert sorted(n["kind"] for n in sent) == ["invoice", "order_placed"]
    messages = [email.message_from_bytes(p.read_bytes().split(b"\n" + b"-" * 79 + b"\n")[0])
                for p in (tmp_path / "mail").iterdir()]
    invoice_mail = next(m for m in messages if m["Subject"].startswith("Invoice #"))
    [pdf] = [part for part in invoice_mail.walk() if part.get_content_type() == "application/pdf"]
    assert pdf.get_filename() == f"invoice-{invoice.number}.pdf"
    assert pdf.get_payload(decode=True).startswith(b"%PDF-")


def test_a_hung_mail_server_never_slows_the_action_and_is_noted_after_the_last_try(
        workers, monkeypatch, silent_smtp):  # noqa: F811
    monkeypatch.setenv("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
    monkeypatch.setenv("EMAIL_HOST", "127.0.0.1")
    monkeypatch.setenv("EMAIL_PORT", str(silent_smtp))
    monkeypatch.setenv("EMAIL_TIMEOUT", "5")
    monkeypatch.setenv("EMAIL_RETRY_SCHEDULE", "1")
    workers()
    order = an_order()
    started = time.monotonic()
    invoice_create(order_id=order.id, items=None, actor=None)
    took = time.monotonic() - started
    assert took < 2.5, f"the action waited {took:.2f}s for the mail server"  # one try alone would take 5 s
    failed = wait_until(lambda: len(notes(order, EventType.EMAIL_FAILED)) == 2 and notes(order, EventType.EMAIL_FAILED),
                        timeout=40, what="both e-mails given up on")
    assert sorted(n["kind"] for n in failed) == ["invoice", "order_placed"]
    assert {n["attempts"] for n in failed} == {2}
    assert all("timed out" in n["error"].lower() for n in failed), failed
    assert notes(order, EventType.EMAIL_SENT) == []
    assert Decimal(order.grand_total) > 0
