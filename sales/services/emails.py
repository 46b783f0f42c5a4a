"""Customer e-mails, made and sent in a Celery task after the commit (SPEC §5, §13).

An action calls ``email_after_commit`` inside its transaction; once the transaction commits,
the task ``sales.send_order_email`` is sent (never from inside a transaction that may roll back,
and nothing at all for a refused or rolled-back action). The task renders the mail — the
invoice e-mail with the invoice as a PDF attachment — and sends it through Django's mail
framework. So the action neither waits for the mail server nor fails with it:

- with a broker (``CELERY_BROKER_URL``) the request only publishes the task; a worker renders and
  sends;
- without one the task runs in-process right after the commit (development); ``EMAIL_TIMEOUT``
  bounds a hanging server, and an error never reaches the action.

A failed send is logged and retried after each delay of ``EMAIL_RETRY_SCHEDULE`` (seconds; on
a worker the retries wait, in-process they follow at once); after the last try the order's
history gets an ``email_failed`` note (kind, recipient, subject, attempts, error). Each mail sent
leaves an ``email_sent`` note.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template import Context
from django.template.loader import get_template

logger = logging.getLogger(__name__)

SUBJECTS = {
    "order_placed": "Your order #{number} has been received",
    "invoice": "Invoice #{doc} for your order #{number}",
    "shipment": "Your order #{number} has shipped",
    "refund": "Refund #{doc} for your order #{number}",
    "comment": "An update on your order #{number}",
    "canceled": "Your order #{number} has been canceled",
}


def email_retry_schedule() -> tuple[float, ...]:
    """Seconds before each retry of a failed send (``EMAIL_RETRY_SCHEDULE``); its length is the
    number of retries."""
    raw = settings.EMAIL_RETRY_SCHEDULE
    parts = [x for x in raw.split(",") if x.strip()] if isinstance(raw, str) else list(raw)
    return tuple(float(x) for x in parts)


def order_email_build(*, order_id: int, kind: str, context_extra: dict[str, Any]) -> EmailMultiAlternatives | None:
    """The customer e-mail of ``kind`` for the order as it stands now, or None when there is no one
    to send it to (the order is gone, or has no e-mail address). The invoice e-mail carries the
    invoice as a PDF."""
    from sales.models import Order

    order = Order.objects.select_related("customer").prefetch_related("items").filter(id=order_id).first()
    if order is None or not order.customer_email:
        return None
    context = {"order": order, "items": list(order.items.all()), "store_name": settings.STORE_NAME, **context_extra}
    subject = SUBJECTS[kind].format(number=order.number, doc=context_extra.get("document_number", ""))
    body = render_text(f"emails/{kind}.txt", context)
    message = EmailMultiAlternatives(subject=subject, body=body, to=[order.customer_email])
    if kind == "invoice" and context_extra.get("document_number"):
        from sales.pdf import invoice_pdf
        from sales.selectors import invoice_queryset

        invoice = invoice_queryset().filter(order_id=order.id, number=context_extra["document_number"]).first()
        if invoice is not None:
            message.attach(f"invoice-{invoice.number}.pdf", invoice_pdf(invoice), "application/pdf")
    return message


def order_email_send(*, order_id: int, kind: str, context_extra: dict[str, Any]) -> bool:
    """Build and send one customer e-mail and note it in the history; True when sent, False when
    there was no one to send it to. A mail server error is raised to the caller (the task retries)."""
    from sales.events import event_email_sent
    from sales.models import Order

    message = order_email_build(order_id=order_id, kind=kind, context_extra=context_extra)
    if message is None:
        return False
    message.send()
    order = Order.objects.only("id", "customer_email").get(id=order_id)
    event_email_sent(order, kind=kind, subject=str(message.subject))
    return True


def order_email_failed(*, order_id: int, kind: str, context_extra: dict[str, Any], attempts: int,
                       error: BaseException) -> None:
    """After the last try: the failure in the log and as an ``email_failed`` note in the history."""
    from sales.events import event_email_failed
    from sales.models import Order

    order = Order.objects.only("id", "number", "customer_email").filter(id=order_id).first()
    if order is None:
        return
    subject = SUBJECTS[kind].format(number=order.number, doc=context_extra.get("document_number", ""))
    logger.error("Giving up on the %s e-mail for order %s after %d attempts: %s", kind, order.number, attempts,
                 error)
    event_email_failed(order, kind=kind, subject=subject, attempts=attempts,
                       error=f"{type(error).__name__}: {error}"[:500])


def render_text(template_name: str, context: dict[str, Any]) -> str:
    """Render a plain-text template with autoescaping off: a text e-mail must show ``O'Brien & Co``,
    not ``O&#x27;Brien &amp; Co`` (render_to_string would HTML-escape every variable)."""
    template: Any = get_template(template_name)  # the backend's wrapper; .template is Django's own Template
    text: str = template.template.render(Context(context, autoescape=False))
    return text


def email_after_commit(*, order_id: int, kind: str, **context_extra: Any) -> None:
    """Send the customer e-mail of ``kind`` once the current transaction commits (its task)."""
    def send() -> None:
        from sales.tasks import send_order_email

        send_order_email.delay(order_id, kind, context_extra)

    # robust: a broker that cannot take the task is logged; the committed action stands.
    transaction.on_commit(send, robust=True)
