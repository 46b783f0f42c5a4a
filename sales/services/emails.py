"""Customer e-mails. Always sent after commit (never from inside a transaction that may roll
back), through Django's mail framework; each sent mail is recorded in the order's history."""

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


def _send(order_id: int, kind: str, context_extra: dict[str, Any]) -> None:
    from sales.events import event_email_sent
    from sales.models import Order

    order = Order.objects.select_related("customer").prefetch_related("items").filter(id=order_id).first()
    if order is None or not order.customer_email:
        return
    context = {"order": order, "items": list(order.items.all()), "store_name": settings.STORE_NAME, **context_extra}
    subject = SUBJECTS[kind].format(number=order.number, doc=context_extra.get("document_number", ""))
    body = render_text(f"emails/{kind}.txt", context)
    message = EmailMultiAlternatives(subject=subject, body=body, to=[order.customer_email])
    try:
        message.send()
    except Exception:  # a mail server outage must not break the request that already committed
        logger.exception("Sending %s e-mail for order %s failed", kind, order.number)
        return
    event_email_sent(order, kind=kind, subject=subject)


def render_text(template_name: str, context: dict[str, Any]) -> str:
    """Render a plain-text template with autoescaping off: a text e-mail must show ``O'Brien & Co``,
    not ``O&#x27;Brien &amp; Co`` (render_to_string would HTML-escape every variable)."""
    template: Any = get_template(template_name)  # the backend's wrapper; .template is Django's own Template
    text: str = template.template.render(Context(context, autoescape=False))
    return text


def email_after_commit(*, order_id: int, kind: str, **context_extra: Any) -> None:
    transaction.on_commit(lambda: _send(order_id, kind, context_extra))
