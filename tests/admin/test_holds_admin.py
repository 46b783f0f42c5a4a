"""Holds in the admin (SPEC §12, §14): Hold (with a reason) / Release hold buttons on the order
page, shown only when the order allows them and the user may; the services' messages; hold and
release hold as mass actions with the per-order result page; history sentences."""

import pytest
from django.urls import reverse

from sales.models import Order, OrderEvent, OrderStatus
from sales.services.holding import order_hold
from tests.admin.test_mass_actions import post_action, result_rows
from tests.admin.test_mass_actions import staff_client as mass_staff_client
from tests.admin.test_order_actions import buttons, messages_of, page_url, staff_client, url
from tests.sales.lifecycle_support import canceled_order, nothing_written, order_with, product, reload

pytestmark = pytest.mark.django_db


def held(reason: str = "Address check") -> Order:
    order = order_with((product(), 2))
    order_hold(order_id=order.id, reason=reason, actor=None)
    return reload(order)


# ---------------------------------------------------------------------------- the order page


def test_hold_button_form_and_release(admin_client, admin_user):
    order = order_with((product(), 2))
    r = admin_client.get(page_url(order))
    assert "hold" in buttons(r) and "release-hold" not in buttons(r)
    assert 'id="hold-button"' in r.content.decode()
    r = admin_client.get(url("hold", order))
    assert r.status_code == 200 and 'id="hold-form"' in r.content.decode()
    with nothing_written():
        r = admin_client.post(url("hold", order), {"reason": ""})
    assert r.status_code == 200 and any("correct the errors" in m for m in messages_of(r))
    r = admin_client.post(url("hold", order), {"reason": "Waiting for stock"}, follow=True)
    assert r.redirect_chain[-1][0] == page_url(order)
    assert any("is on hold" in m for m in messages_of(r))
    order = reload(order)
    assert order.hold_reason == "Waiting for stock" and order.held_by_id == admin_user.id
    body = r.content.decode()
    assert 'id="order-held-badge"' in body and "Waiting for stock" in body
    # no invoice, ship, item edit or hold; addresses and note stay editable
    assert buttons(r) == ["cancel", "edit-details", "comment", "archive", "release-hold"]
    event = next(e for e in r.context["events"] if e.type == "held")
    assert str(event.sentence) == "Put on hold by Ada Admin: reason: Waiting for stock"

    r = admin_client.get(url("release_hold", order))
    assert r.status_code == 200 and "Waiting for stock" in r.content.decode()
    r = admin_client.post(url("release_hold", order), follow=True)
    assert any("Hold released" in m for m in messages_of(r))
    assert reload(order).held_at is None
    assert buttons(r) == ["invoice", "ship", "cancel", "edit-items", "edit-details", "comment", "archive", "hold"]
    event = next(e for e in r.context["events"] if e.type == "hold_released")
    assert str(event.sentence) == "Hold released by Ada Admin: it was held for: Waiting for stock"


def test_the_pages_send_back_with_the_services_message(admin_client):
    order = held()
    r = admin_client.get(url("hold", order), follow=True)
    assert r.redirect_chain[-1][0] == page_url(order)
    assert any("already on hold" in m for m in messages_of(r))
    with nothing_written():
        r = admin_client.post(url("hold", order), {"reason": "again"}, follow=True)
    assert any("already on hold" in m for m in messages_of(r))
    free = order_with((product(), 1))
    r = admin_client.get(url("release_hold", free), follow=True)
    assert any("is not on hold" in m for m in messages_of(r))
    with nothing_written():
        r = admin_client.post(url("release_hold", free), follow=True)
    assert any("is not on hold" in m for m in messages_of(r))
    done = canceled_order()
    r = admin_client.get(page_url(done))
    assert "hold" not in buttons(r)
    r = admin_client.get(url("hold", done), follow=True)
    assert any("cannot be put on hold: it is canceled" in m for m in messages_of(r))


def test_a_held_order_sends_invoice_back_with_the_hold_message(admin_client):
    order = held()
    r = admin_client.get(url("invoice", order), follow=True)
    assert r.redirect_chain[-1][0] == page_url(order)
    assert any("is on hold (Address check)" in m for m in messages_of(r))


def test_without_the_permission_no_button_and_403():
    order = order_with((product(), 1))
    client = staff_client("sales.cancel_order")
    r = client.get(page_url(order))
    assert "hold" not in buttons(r)
    with nothing_written():
        assert client.get(url("hold", order)).status_code == 403
        assert client.post(url("hold", order), {"reason": "x"}).status_code == 403
        assert client.post(url("release_hold", order)).status_code == 403
    client = staff_client("sales.hold_order")
    assert "hold" in buttons(client.get(page_url(order)))
    assert client.get(url("hold", order)).status_code == 200


def test_automatic_release_reads_as_a_sentence(admin_client):
    order = held()
    admin_client.post(url("cancel", order))
    assert reload(order).status == OrderStatus.CANCELED
    r = admin_client.get(page_url(order))
    event = next(e for e in r.context["events"] if e.type == "hold_released")
    assert str(event.sentence) == "Hold released as the order became canceled: it was held for: Address check"


# ---------------------------------------------------------------------------- mass actions


def test_the_menu_offers_hold_and_release(admin_client):
    choices = dict(admin_client.get("/admin/sales/order/").context["action_form"].fields["action"].choices)
    assert "mass_hold" in choices and "mass_release_hold" in choices
    client = mass_staff_client("sales.cancel_order")
    choices = dict(client.get("/admin/sales/order/").context["action_form"].fields["action"].choices)
    assert "mass_hold" not in choices and "mass_release_hold" not in choices


def test_mass_hold_asks_a_reason_then_says_per_order(admin_client):
    first, second = order_with((product(), 1)), order_with((product(), 1))
    already = held()
    canceled = canceled_order()
    r = post_action(admin_client, "mass_hold", [first, already, canceled, second])
    assert r.status_code == 200 and 'id="mass-options-form"' in r.content.decode()  # the reason first
    assert reload(first).held_at is None
    r = post_action(admin_client, "mass_hold", [first, already, canceled, second], apply="1", reason="")
    assert r.status_code == 200 and reload(first).held_at is None
    r = post_action(admin_client, "mass_hold", [first, already, canceled, second], apply="1",
                    reason="Inventory count")
    assert r.status_code == 302 and "/admin/sales/order/mass/" in r.url
    page = admin_client.get(r.url)
    rows = result_rows(page)
    assert rows[first.number]["state"] == "done" and rows[second.number]["state"] == "done"
    assert rows[already.number]["state"] == "refused" and "already on hold" in rows[already.number]["text"]
    assert rows[canceled.number]["state"] == "refused" and "it is canceled" in rows[canceled.number]["text"]
    assert "4 orders: 2 held, 2 refused." in page.content.decode()
    assert reload(first).hold_reason == "Inventory count" and reload(second).hold_reason == "Inventory count"
    assert reload(already).hold_reason == "Address check"
    assert OrderEvent.objects.get(order=first, type="held").actor.email == "admin@example.com"


def test_mass_release_hold(admin_client):
    a, b = held(), held()
    free = order_with((product(), 1))
    r = post_action(admin_client, "mass_release_hold", [a, free, b])
    assert r.status_code == 302
    page = admin_client.get(r.url)
    rows = result_rows(page)
    assert rows[a.number]["state"] == "done" and rows[b.number]["state"] == "done"
    assert rows[free.number]["state"] == "refused" and "is not on hold" in rows[free.number]["text"]
    assert "3 orders: 2 released, 1 refused." in page.content.decode()
    assert reload(a).held_at is None and reload(b).held_at is None
    assert page.status_code == 200 and reverse("admin:sales_order_changelist") in page.content.decode()
