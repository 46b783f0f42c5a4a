from __future__ import annotations

from django.db import transaction

from accounts.models import User
from sales.events import event_commented, events_scope
from sales.locks import order_lock
from sales.models import OrderComment
from sales.services.emails import email_after_commit


def comment_add(*, order_id: int, comment: str, customer_notified: bool = False, actor: User | None) -> OrderComment:
    """Comments are allowed at any status and never change it."""
    with transaction.atomic(), events_scope():
        order = order_lock(order_id)
        order.save(update_fields=["updated_at"])  # a comment is a change: incremental sync must see it
        note = OrderComment.objects.create(order=order, comment=comment, customer_notified=customer_notified,
                                           author=actor if actor and actor.pk else None,
                                           author_name=(actor.get_full_name() if actor and actor.pk else ""))
        event_commented(order, actor, comment_id=note.id, customer_notified=customer_notified)
        if customer_notified:
            email_after_commit(order_id=order.id, kind="comment", comment=comment)
    return note
