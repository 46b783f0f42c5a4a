"""Customer e-mails in a task after the commit (SPEC §13, issue 12): the invoice PDF attached, a
failing mail server never failing the action, retries, the log, and the `email_failed` note."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from sales.models import EventType, OrderEvent
from sales.services.invoicing import invoice_create
from tests.customers.factories import CustomerFactory
from tests.sales.helpers import placed_order
from tests.sales.lifecycle_support import fast_passwords, product  # noqa: F401 - fast_passwords is a fixture
from tests.sales.mail_backends import FlakyBackend, RefusingBackend

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]


def notes(order, type_: str) -> list[dict]:
    return [e.data for e in OrderEvent.objects.filter(order_id=order.id, type=type_).order_by("id")]


def an_order(capture):
    with capture(execute=True):
        return placed_order((product("10.00", stock=10), 2), customer=CustomerFactory(email="ann@example.com"))


def test_the_invoice_email_carries_the_invoice_pdf(mailoutbox, django_capture_on_commit_callbacks):
    order = an_order(django_capture_on_commit_callbacks)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        invoice = invoice_create(order_id=order.id, items=None, actor=None)
    [mail] = mailoutbox
    assert mail.subject == f"Invoice #{invoice.number} for your order #{order.number}"
    [(filename, content, mimetype)] = mail.attachments
    assert filename == f"invoice-{invoice.number}.pdf" and mimetype == "application/pdf"
    assert content.startswith(b"%PDF-") and len(content) > 1000
    assert [n["kind"] for n in notes(order, EventType.EMAIL_SENT)] == ["order_placed", "invoice"]


def test_other_emails_have_no_attachment(mailoutbox, django_capture_on_commit_callbacks):
    an_order(django_capture_on_commit_callbacks)
    assert [m.attachments for m in mailoutbox] == [[]]


def test_nothing_is_sent_inside_the_transaction(mailoutbox, django_capture_on_commit_callbacks):
    order = an_order(django_capture_on_commit_callbacks)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        invoice_create(order_id=order.id, items=None, actor=None)
    assert mailoutbox == [] and len(callbacks) == 1  # the task is sent by the commit, not before
    callbacks[0]()
    assert len(mailoutbox) == 1


def test_a_refusing_mail_server_never_fails_the_action(api, settings, mailoutbox, caplog,
                                                       django_capture_on_commit_callbacks):
    order = an_order(django_capture_on_commit_callbacks)
    settings.EMAIL_BACKEND = "tests.sales.mail_backends.RefusingBackend"
    settings.EMAIL_RETRY_SCHEDULE = "0,0,0"
    RefusingBackend.attempts = 0
    mailoutbox.clear()
    with caplog.at_level(logging.WARNING, logger="sales"), django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/admin/orders/{order.id}/invoices", {}, format="json")
    assert response.status_code == 201, response.json()
    assert order.invoices.count() == 1
    assert RefusingBackend.attempts == 4  # the first try and three retries
    assert mailoutbox == []
    assert [n["kind"] for n in notes(order, EventType.EMAIL_SENT)] == ["order_placed"]
    [failed] = notes(order, EventType.EMAIL_FAILED)
    number = response.json()["number"]
    assert failed == {"kind": "invoice", "to": "ann@example.com", "subject": f"Invoice #{number} for your order "
                      f"#{order.number}", "attempts": 4,
                      "error": "SMTPServerDisconnected: Connection unexpectedly closed (test server down)"}
    retries = [r for r in caplog.records if r.levelno == logging.WARNING and "retrying" in r.getMessage()]
    gave_up = [r for r in caplog.records if r.levelno == logging.ERROR and "Giving up" in r.getMessage()]
    assert len(retries) == 3 and len(gave_up) == 1
    # The history says so, in words.
    history = api.get(f"/api/admin/orders/{order.id}/history").json()
    assert "email_failed" in [e["type"] for e in (history["results"] if isinstance(history, dict) else history)]


def test_a_mail_server_that_recovers_gets_the_mail_on_a_retry(settings, mailoutbox, monkeypatch,
                                                             django_capture_on_commit_callbacks):
    order = an_order(django_capture_on_commit_callbacks)
    settings.EMAIL_BACKEND = "tests.sales.mail_backends.FlakyBackend"
    settings.EMAIL_RETRY_SCHEDULE = "0,0,0"
    monkeypatch.setenv("FLAKY_FAILURES", "2")
    FlakyBackend.attempts = 0
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        invoice_create(order_id=order.id, items=None, actor=None)
    assert FlakyBackend.attempts == 3
    assert len(mailoutbox) == 1 and mailoutbox[0].attachments
    assert [n["kind"] for n in notes(order, EventType.EMAIL_SENT)] == ["order_placed", "invoice"]
    assert notes(order, EventType.EMAIL_FAILED) == []


def test_no_retries_configured_notes_the_failure_after_one_try(settings, django_capture_on_commit_callbacks):
    order = an_order(django_capture_on_commit_callbacks)
    settings.EMAIL_BACKEND = "tests.sales.mail_backends.RefusingBackend"
    settings.EMAIL_RETRY_SCHEDULE = ""
    RefusingBackend.attempts = 0
    with django_capture_on_commit_callbacks(execute=True):
        invoice_create(order_id=order.id, items=None, actor=None)
    assert RefusingBackend.attempts == 1
    assert [n["attempts"] for n in notes(order, EventType.EMAIL_FAILED)] == [1]


def test_email_failed_is_not_a_webhook_event():
    from webhooks.types import webhook_type

    assert webhook_type("email_failed") is None and webhook_type("email_sent") is None


def test_the_admin_history_says_it_in_words(admin_client, settings, django_capture_on_commit_callbacks):
    order = an_order(django_capture_on_commit_callbacks)
    settings.EMAIL_BACKEND = "tests.sales.mail_backends.RefusingBackend"
    settings.EMAIL_RETRY_SCHEDULE = "0"
    with django_capture_on_commit_callbacks(execute=True):
        invoice_create(order_id=order.id, items=None, actor=None)
    page = admin_client.get(f"/admin/sales/order/{order.id}/change/").content.decode()
    assert "could not be sent to ann@example.com after 2 attempts" in page


def test_amount_in_the_invoice_email(mailoutbox, django_capture_on_commit_callbacks):
    order = an_order(django_capture_on_commit_callbacks)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        invoice_create(order_id=order.id, items=None, actor=None)
    assert str(Decimal("25.00")) in mailoutbox[0].body  # 2 × 10.00 + 5.00 shipping
