"""Customer e-mails (SPEC §5): one per action, to the customer, only after commit; none when the
action is refused or rolled back; each one sent leaves an `email_sent` event in the history."""

from decimal import Decimal

import pytest
from django.db import transaction

from catalog.models import InventorySource
from sales.errors import OrderNotCancelable, PaymentMethodNotInvoiceable, RefundExceedsRefundable
from sales.models import EventType, OrderEvent
from sales.services.canceling import order_cancel
from sales.services.comments import comment_add
from sales.services.common import LineQty
from sales.services.invoicing import invoice_create
from sales.services.refunding import RefundRequest, refund_create
from sales.services.shipping import shipment_create
from tests.catalog.factories import ProductFactory
from tests.customers.factories import CustomerFactory
from tests.sales.helpers import placed_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class Boom(Exception):
    pass


def _emails_sent(order) -> list[dict]:
    return [e.data for e in OrderEvent.objects.filter(order=order, type=EventType.EMAIL_SENT).order_by("id")]


def _order(capture, **kwargs):
    from customers.models import Customer

    customer = (Customer.objects.filter(email="zoe@example.com").first()
                or CustomerFactory(email="zoe@example.com", first_name="Zoë", last_name="Brontë"))
    with capture(execute=True):
        return placed_order((ProductFactory(price=Decimal("10.00"), stock=10), 3),
                            (ProductFactory(price=Decimal("4.50"), stock=10), 2), customer=customer, **kwargs)


def test_order_placed_email(mailoutbox, django_capture_on_commit_callbacks):
    customer = CustomerFactory(email="zoe@example.com", first_name="Zoë", last_name="Brontë")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        order = placed_order((ProductFactory(price=Decimal("10.00"), stock=10), 3), customer=customer)
        assert mailoutbox == []  # nothing leaves inside the transaction
    assert mailoutbox == []
    for callback in callbacks:
        callback()
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["zoe@example.com"]
    assert mail.subject == f"Your order #{order.number} has been received"
    assert "Zoë Brontë" in mail.body and "35.00" in mail.body  # 3 × 10.00 + 5.00 shipping
    assert _emails_sent(order) == [{"kind": "order_placed", "to": "zoe@example.com", "subject": mail.subject}]


def test_paylink_order_placed_email_carries_the_checkout_link(mailoutbox, django_capture_on_commit_callbacks):
    order = _order(django_capture_on_commit_callbacks, payment="paylink")
    assert len(mailoutbox) == 1
    assert f"/checkout/{order.checkout_token}/" in mailoutbox[0].body


def test_invoice_email(mailoutbox, django_capture_on_commit_callbacks):
    order = _order(django_capture_on_commit_callbacks)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        invoice = invoice_create(order_id=order.id, items=None, actor=None)
        assert mailoutbox == []
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["zoe@example.com"]
    assert mail.subject == f"Invoice #{invoice.number} for your order #{order.number}"
    assert str(invoice.grand_total) in mail.body
    assert _emails_sent(order)[-1] == {"kind": "invoice", "to": "zoe@example.com", "subject": mail.subject}


def test_shipment_email(mailoutbox, django_capture_on_commit_callbacks):
    order = _order(django_capture_on_commit_callbacks)
    mailoutbox.clear()
    source = InventorySource.objects.get(code="default")
    with django_capture_on_commit_callbacks(execute=True):
        shipment = shipment_create(order_id=order.id, inventory_source_id=source.id, items=None,
                                   carrier_title="DHL Express", track_number="JD0123456789", actor=None)
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["zoe@example.com"] and mail.subject == f"Your order #{order.number} has shipped"
    assert "DHL Express" in mail.body and "JD0123456789" in mail.body and shipment.number in mail.body
    assert _emails_sent(order)[-1]["kind"] == "shipment"


def test_refund_email(mailoutbox, django_capture_on_commit_callbacks):
    order = _order(django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        invoice_create(order_id=order.id, items=None, actor=None)
    mailoutbox.clear()
    item = order.items.order_by("id").first()
    with django_capture_on_commit_callbacks(execute=True):
        refund = refund_create(order_id=order.id, request=RefundRequest(items=[LineQty(item.id, 1)]), actor=None)
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.subject == f"Refund #{refund.number} for your order #{order.number}"
    assert mail.to == ["zoe@example.com"] and "10.00" in mail.body
    assert _emails_sent(order)[-1]["kind"] == "refund"


def test_comment_email_only_when_customer_notified(mailoutbox, django_capture_on_commit_callbacks):
    order = _order(django_capture_on_commit_callbacks)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        comment_add(order_id=order.id, comment="Internal: check the address", customer_notified=False, actor=None)
    assert mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True):
        comment_add(order_id=order.id, comment="Your parcel leaves on Monday — ça va?", customer_notified=True,
                    actor=None)
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["zoe@example.com"] and mail.subject == f"An update on your order #{order.number}"
    assert "Your parcel leaves on Monday — ça va?" in mail.body
    assert "Internal" not in mail.body
    assert [e["kind"] for e in _emails_sent(order)] == ["order_placed", "comment"]


def test_cancel_email(mailoutbox, django_capture_on_commit_callbacks):
    order = _order(django_capture_on_commit_callbacks)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order_id=order.id, actor=None)
    assert len(mailoutbox) == 1
    assert mailoutbox[0].subject == f"Your order #{order.number} has been canceled"
    assert mailoutbox[0].to == ["zoe@example.com"]
    assert _emails_sent(order)[-1]["kind"] == "canceled"


def test_api_actions_email_once_each(api, mailoutbox, django_capture_on_commit_callbacks):
    """Through the API, the whole journey sends exactly one e-mail per action."""
    order = _order(django_capture_on_commit_callbacks)
    items = list(order.items.order_by("id"))
    source = InventorySource.objects.get(code="default")
    steps = [
        (f"/api/admin/orders/{order.id}/invoices", {"items": [{"order_item_id": items[0].id, "quantity": 3}]}),
        (f"/api/admin/orders/{order.id}/shipments", {"inventory_source_id": source.id,
                                                     "items": [{"order_item_id": items[0].id, "quantity": 3}]}),
        (f"/api/admin/orders/{order.id}/refunds", {"items": [{"order_item_id": items[0].id, "quantity": 1}]}),
        (f"/api/admin/orders/{order.id}/comments", {"comment": "Hello", "customer_notified": True}),
        (f"/api/admin/orders/{order.id}/cancel", {}),
    ]
    for path, body in steps:
        with django_capture_on_commit_callbacks(execute=True):
            r = api.post(path, body, format="json")
        assert r.status_code in (200, 201), (path, r.json())
    kinds = [e["kind"] for e in _emails_sent(order)]
    assert kinds == ["order_placed", "invoice", "shipment", "refund", "comment", "canceled"]
    assert len(mailoutbox) == 6 and all(m.to == ["zoe@example.com"] for m in mailoutbox)
    event_types = list(OrderEvent.objects.filter(order=order).order_by("id").values_list("type", flat=True))
    # each action's own event comes before the e-mail it caused
    assert event_types == ["placed", "email_sent", "invoiced", "email_sent", "shipped", "email_sent", "refunded",
                           "email_sent", "commented", "email_sent", "canceled", "email_sent"]


# ---------------------------------------------------------------- refused or rolled back: no e-mail

def test_refused_actions_send_nothing(api, mailoutbox, django_capture_on_commit_callbacks):
    order = _order(django_capture_on_commit_callbacks, payment="paypal_standard")
    mailoutbox.clear()
    before = OrderEvent.objects.filter(order=order).count()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(PaymentMethodNotInvoiceable):
            invoice_create(order_id=order.id, items=None, actor=None)
        r = api.post(f"/api/admin/orders/{order.id}/invoices", {}, format="json")
        assert r.status_code == 409
        r = api.post(f"/api/admin/orders/{order.id}/refunds", {"adjustment_refund": "1.00"}, format="json")
        assert r.status_code == 409 and r.json()["code"] == "order_not_refundable"
        r = api.post(f"/api/admin/orders/{order.id}/shipments", {"inventory_source_id": 999999}, format="json")
        assert r.status_code == 400
        r = api.post(f"/api/admin/orders/{order.id}/comments", {"comment": "", "customer_notified": True},
                     format="json")
        assert r.status_code == 400
    assert callbacks == []
    assert mailoutbox == []
    assert OrderEvent.objects.filter(order=order).count() == before


def test_refused_cancel_and_refund_send_nothing(mailoutbox, django_capture_on_commit_callbacks):
    order = _order(django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order_id=order.id, actor=None)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(OrderNotCancelable):
        order_cancel(order_id=order.id, actor=None)
    assert callbacks == [] and mailoutbox == []

    order = _order(django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        invoice_create(order_id=order.id, items=None, actor=None)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RefundExceedsRefundable):
        refund_create(order_id=order.id, request=RefundRequest(adjustment_refund=Decimal("9999.00")), actor=None)
    assert callbacks == [] and mailoutbox == []


@pytest.mark.parametrize("action", ["invoice", "shipment", "refund", "comment", "cancel", "place"])
def test_rolled_back_action_sends_nothing(mailoutbox, django_capture_on_commit_callbacks, action):
    """An action that succeeded inside a transaction that then rolls back e-mails no one."""
    order = _order(django_capture_on_commit_callbacks)
    item = order.items.order_by("id").first()
    if action == "refund":
        with django_capture_on_commit_callbacks(execute=True):
            invoice_create(order_id=order.id, items=None, actor=None)
    mailoutbox.clear()
    before = OrderEvent.objects.count()
    source = InventorySource.objects.get(code="default")
    run = {
        "invoice": lambda: invoice_create(order_id=order.id, items=None, actor=None),
        "shipment": lambda: shipment_create(order_id=order.id, inventory_source_id=source.id, items=None, actor=None),
        "refund": lambda: refund_create(order_id=order.id, request=RefundRequest(items=[LineQty(item.id, 1)]),
                                        actor=None),
        "comment": lambda: comment_add(order_id=order.id, comment="Hi", customer_notified=True, actor=None),
        "cancel": lambda: order_cancel(order_id=order.id, actor=None),
        "place": lambda: placed_order((ProductFactory(price=Decimal("2.00"), stock=5), 1)),
    }[action]
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Boom), transaction.atomic():
        run()
        raise Boom
    assert callbacks == []
    assert mailoutbox == []
    assert OrderEvent.objects.count() == before


def test_mail_server_failure_does_not_break_the_action(mailoutbox, django_capture_on_commit_callbacks, settings,
                                                       monkeypatch):
    order = _order(django_capture_on_commit_callbacks)
    mailoutbox.clear()

    def refuse(self, *args, **kwargs):
        raise ConnectionRefusedError("SMTP down")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        invoice = invoice_create(order_id=order.id, items=None, actor=None)
    assert invoice.pk and mailoutbox == []
    assert [e["kind"] for e in _emails_sent(order)] == ["order_placed"]  # no email_sent for the failed one
