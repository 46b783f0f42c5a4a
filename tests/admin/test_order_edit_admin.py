"""Edit items (with its dry-run preview) and Edit addresses and note on the order page (SPEC §12, §14),
on Django's test client.

The buttons show only when the order allows the edit and the user holds sales.edit_order; the
preview runs the real edit and writes nothing, and what it shows is what Save then writes; Save
without a preview of the same edit previews again; every refusal shows the service's message and
writes nothing (tests.sales.lifecycle_support.nothing_written); the details form sends only what
changed, so an untouched form records no event.
"""

from decimal import Decimal

import pytest

from carts.models import Coupon
from sales.models import Order, OrderEvent, OrderStatus
from sales.services.common import LineQty
from sales.services.holding import order_hold
from sales.services.shipping import shipment_create
from tests.admin.test_order_actions import buttons, messages_of, page_url, staff_client, url
from tests.sales.lifecycle_support import (
    canceled_order,
    closed_order,
    default_source,
    fast_passwords,  # noqa: F401
    invoice_lines,
    items_of,
    nothing_written,
    order_with,
    product,
    reload,
)

pytestmark = pytest.mark.django_db

D = Decimal


def processing(*lines, **kwargs) -> Order:
    """An order with one unit of its first line invoiced: processing."""
    order = order_with(*lines, **kwargs)
    invoice_lines(order, (items_of(order)[0].id, 1))
    order = reload(order)
    assert order.status == OrderStatus.PROCESSING
    return order


def quantities(order: Order, **overrides) -> dict[str, str]:
    """The Edit items form as shown (every line at its effective quantity), with ``qty_<id>`` overrides."""
    data = {f"qty_{i.id}": str(i.qty_ordered - i.qty_canceled) for i in items_of(order)}
    data.update({k: str(v) for k, v in overrides.items()})
    return data


def preview(client, order: Order, data: dict):
    return client.post(url("edit_items", order), {**data, "action": "preview"})


def save(client, order: Order, data: dict, response=None):
    """Save what ``response`` (a preview) showed."""
    token = response.context["previewed"] if response is not None else ""
    return client.post(url("edit_items", order), {**data, "action": "save", "previewed": token}, follow=True)


def totals(response) -> dict[str, tuple[Decimal, Decimal]]:
    return {row.key: (row.before, row.after) for row in response.context["preview"].totals}


# ---------------------------------------------------------------------------- buttons and permission


def test_buttons_follow_the_order_and_the_permission(admin_client):
    pending = order_with((product(), 2))
    r = admin_client.get(page_url(pending))
    assert {"edit-items", "edit-details"} <= set(buttons(r))
    body = r.content.decode()
    assert 'id="edit-items-button"' in body and 'id="edit-details-button"' in body

    held = order_with((product(), 1))
    order_hold(order_id=held.id, reason="Address check", actor=None)
    r = admin_client.get(page_url(held))
    assert "edit-items" not in buttons(r) and "edit-details" in buttons(r)  # addresses stay editable on hold

    for done in (canceled_order(), closed_order()):
        r = admin_client.get(page_url(done))
        assert "edit-items" not in buttons(r) and "edit-details" not in buttons(r)


def test_without_sales_edit_order_no_button_and_403():
    order = order_with((product(), 2))
    item = items_of(order)[0]
    client = staff_client("sales.cancel_order", "sales.hold_order")
    r = client.get(page_url(order))
    assert "edit-items" not in buttons(r) and "edit-details" not in buttons(r)
    with nothing_written():
        assert client.get(url("edit_items", order)).status_code == 403
        assert client.post(url("edit_items", order), {f"qty_{item.id}": "3", "action": "save"}).status_code == 403
        assert client.get(url("edit_details", order)).status_code == 403
        assert client.post(url("edit_details", order), {"staff_note": "x"}).status_code == 403
    client = staff_client("sales.edit_order")
    assert {"edit-items", "edit-details"} <= set(buttons(client.get(page_url(order))))
    assert client.get(url("edit_items", order)).status_code == 200
    assert client.get(url("edit_details", order)).status_code == 200


def test_unknown_order_is_404(admin_client):
    assert admin_client.get("/admin/sales/order/999999/edit-items/").status_code == 404
    assert admin_client.get("/admin/sales/order/999999/edit-details/").status_code == 404


# ---------------------------------------------------------------------------- edit items: page, preview, save


def test_page_lists_lines_with_their_minimum_and_explains_the_rule(admin_client):
    a, b = product(), product()
    order = processing((a, 4), (b, 1))
    ia, ib = items_of(order)
    shipment_create(order_id=order.id, inventory_source_id=default_source().id, items=[LineQty(ia.id, 2)], actor=None)
    r = admin_client.get(url("edit_items", order))
    assert r.status_code == 200
    body = r.content.decode()
    assert 'id="edit-items-form"' in body and "a higher quantity adds a new line" in body
    rows = {row["item"].id: row for row in r.context["rows"]}
    # line a: 4 ordered, 1 invoiced, 2 shipped → 2 open units, minimum 2; line b: nothing billed or sent
    assert (rows[ia.id]["effective"], rows[ia.id]["minimum"]) == (4, 2)
    assert (rows[ib.id]["effective"], rows[ib.id]["minimum"]) == (1, 0)
    assert f'name="qty_{ia.id}"' in body and 'value="4"' in body and 'min="2"' in body
    assert len(r.context["add_rows"]) == 3
    assert 'class="edit-autocomplete' in body and "/admin/autocomplete/" in body  # the admin's own picker
    assert 'id="edit-save"' not in body  # Save comes with a preview


def test_preview_writes_nothing_and_save_writes_what_it_showed(admin_client, admin_user):
    a, b = product("10.00", tax="10"), product("4.00")
    order = processing((a, 3), (b, 2))
    ia, ib = items_of(order)
    data = quantities(order, **{f"qty_{ia.id}": 5, f"qty_{ib.id}": 1})  # +2 units of a, 1 unit of b canceled
    c = product("7.50")
    data.update(add_product_0=str(c.id), add_qty_0="2")
    with nothing_written():
        r = preview(admin_client, order, data)
    assert r.status_code == 200, messages_of(r)
    p = r.context["preview"]
    assert [(i.product_id, i.qty_ordered, i.price) for i in p.added] == [(a.id, 2, D("10.00")), (c.id, 2, D("7.50"))]
    assert [(x["item"].id, x["units"], x["amount"]) for x in p.canceled] == [(ib.id, 1, D("4.00"))]
    assert {m["sku"]: m["reserved"] for m in p.stock} == {a.sku: 2, b.sku: -1, c.sku: 2}
    t = totals(r)
    # new lines: 2 × 10.00 + 10 % tax = 22.00, 2 × 7.50 = 15.00; shipping never changes
    assert t["grand_total"] == (order.grand_total, order.grand_total + D("37.00"))
    assert t["shipping_total"][0] == t["shipping_total"][1]
    assert t["total_canceled"][1] == D("4.00")
    assert t["total_due"][1] == order.grand_total + D("37.00") - order.total_invoiced - D("4.00")
    body = r.content.decode()
    assert 'id="edit-preview"' in body and 'id="edit-save"' in body
    assert f"{order.grand_total + D('37.00')} USD" in body

    r = save(admin_client, order, data, r)
    assert r.redirect_chain[-1][0] == page_url(order)
    after = reload(order)
    assert (after.grand_total, after.total_due, after.total_canceled) == (t["grand_total"][1], t["total_due"][1],
                                                                          t["total_canceled"][1])
    assert any(f"Order #{order.number} edited: grand total {order.grand_total} → {after.grand_total} USD" in m
               for m in messages_of(r))
    event = OrderEvent.objects.get(order=order, type="edited")
    assert event.actor_id == admin_user.id
    sentence = str(next(e for e in r.context["events"] if e.type == "edited").sentence)
    assert sentence == (f"Items edited by {admin_user.name}: 2 lines added, 1 item canceled, grand total "
                        f"{order.grand_total} USD → {after.grand_total} USD")
    assert "order_item_id" not in r.content.decode()


def test_save_of_something_not_previewed_previews_it_again(admin_client):
    order = processing((product(), 3))
    item = items_of(order)[0]
    shown = preview(admin_client, order, quantities(order, **{f"qty_{item.id}": 4}))
    with nothing_written():
        # the quantity changed after the preview: Save shows the new preview and writes nothing
        r = admin_client.post(url("edit_items", order), {**quantities(order, **{f"qty_{item.id}": 5}),
                                                         "action": "save", "previewed": shown.context["previewed"]})
        assert r.status_code == 200 and r.context["preview"] is not None
        assert any("changed since the preview" in m for m in messages_of(r))
        assert [i.qty_ordered for i in r.context["preview"].added] == [2]
        r = admin_client.post(url("edit_items", order), {**quantities(order, **{f"qty_{item.id}": 4}),
                                                         "action": "save"})  # no preview at all
        assert r.status_code == 200 and r.context["preview"] is not None
    # the order changed since the preview (another invoice): preview again
    invoice_lines(order, (item.id, 1))
    with nothing_written():
        r = admin_client.post(url("edit_items", order), {**quantities(order, **{f"qty_{item.id}": 4}),
                                                         "action": "save", "previewed": shown.context["previewed"]})
        assert r.status_code == 200 and any("changed since the preview" in m for m in messages_of(r))
    r = save(admin_client, order, quantities(order, **{f"qty_{item.id}": 4}), r)
    assert r.redirect_chain[-1][0] == page_url(order)
    assert [i.qty_ordered for i in items_of(order)] == [3, 1]


def test_a_pending_order_changes_in_place_and_loses_its_coupon(admin_client):
    a, b = product("10.00"), product("5.00")
    order = order_with((a, 2), (b, 1), coupon_percent="10")
    assert order.status == OrderStatus.PENDING and order.coupon_code
    ia, ib = items_of(order)
    r = admin_client.get(url("edit_items", order))
    assert f"its coupon {order.coupon_code} and the discounts are removed" in r.content.decode()
    data = quantities(order, **{f"qty_{ia.id}": 3, f"qty_{ib.id}": 0})
    with nothing_written():
        r = preview(admin_client, order, data)
    p = r.context["preview"]
    assert [(c["before"].qty_ordered, c["after"].qty_ordered) for c in p.changed] == [(2, 3)]
    assert [i.id for i in p.removed] == [ib.id] and p.coupon_removed == order.coupon_code
    assert totals(r)["discount_total"][1] == 0
    r = save(admin_client, order, data, r)
    after = reload(order)
    assert after.grand_total == totals(preview(admin_client, after, quantities(after, **{f"qty_{ia.id}": 4})))[
        "grand_total"][0]
    assert [i.qty_ordered for i in items_of(order)] == [3] and after.coupon_code == ""
    assert Coupon.objects.get().times_used == 0


# ---------------------------------------------------------------------------- edit items: refusals


def test_below_the_minimum_is_refused_with_the_minimum_named_and_nothing_written(admin_client):
    a = product()
    order = processing((a, 3))
    item = items_of(order)[0]
    for action in ("preview", "save"):
        with nothing_written():
            r = admin_client.post(url("edit_items", order), {**quantities(order, **{f"qty_{item.id}": 0}),
                                                             "action": action, "previewed": "x"})
        assert r.status_code == 200
        assert any("can go down to 1, not 0" in m for m in messages_of(r)), messages_of(r)
        assert r.context["preview"] is None and 'id="edit-save"' not in r.content.decode()
        assert r.context["form"].errors[f"qty_{item.id}"]  # the row is marked


def test_stock_unknown_sku_and_form_errors_are_refused_and_nothing_written(admin_client):
    order = processing((product(), 2))
    item = items_of(order)[0]
    scarce = product(stock=1)
    cases = [
        ({"add_product_0": str(scarce.id), "add_qty_0": "2"}, None, "1 saleable, 2 wanted"),
        ({"add_sku_1": "NO-SUCH-SKU", "add_qty_1": "1"}, "add_sku_1", "NO-SUCH-SKU"),
        ({"add_sku_0": scarce.sku}, "add_qty_0", "Enter how many units to add."),
        ({"add_qty_2": "1"}, "add_sku_2", "Pick a product or type its SKU."),
        ({"add_product_0": str(scarce.id), "add_sku_0": scarce.sku, "add_qty_0": "1"}, "add_sku_0", "not both"),
        ({f"qty_{item.id}": "-1"}, f"qty_{item.id}", ""),
        ({}, None, "changes nothing"),
    ]
    for extra, field, says in cases:
        with nothing_written():
            r = preview(admin_client, order, {**quantities(order), **extra})
        assert r.status_code == 200 and r.context["preview"] is None, extra
        text = " ".join(messages_of(r))
        assert says.lower() in text.lower(), (extra, text)
        if field is not None:
            assert field in r.context["form"].errors, (extra, r.context["form"].errors)


def test_a_held_or_gateway_paid_order_sends_back_with_the_services_message(admin_client, api):
    from sales.services.checkout import checkout_pay

    held = processing((product(), 2))
    order_hold(order_id=held.id, reason="Address check", actor=None)
    item = items_of(held)[0]
    r = admin_client.get(url("edit_items", held), follow=True)
    assert r.redirect_chain[-1][0] == page_url(held)
    assert any("is on hold (Address check)" in m for m in messages_of(r))
    with nothing_written():
        r = admin_client.post(url("edit_items", held), {**quantities(held, **{f"qty_{item.id}": 3}), "action": "save",
                                                        "previewed": "x"}, follow=True)
    assert any("is on hold" in m for m in messages_of(r))

    p = product("12.00")
    created = api.post("/api/admin/orders", {"email": "x@example.com", "items": [{"sku": p.sku, "quantity": 2}],
                                             "payment_method": "paylink"}, format="json").json()
    paid = Order.objects.get(id=created["id"])
    checkout_pay(token=paid.checkout_token)
    assert reload(paid).status == OrderStatus.PROCESSING
    r = admin_client.get(page_url(paid))
    assert "edit-items" not in buttons(r) and "edit-details" in buttons(r)
    r = admin_client.get(url("edit_items", paid), follow=True)
    assert any("payment gateway" in m for m in messages_of(r))

    done = canceled_order()
    r = admin_client.get(url("edit_items", done), follow=True)
    assert any("cannot be edited: it is canceled" in m for m in messages_of(r))


def test_the_edit_page_reads_a_fixed_number_of_queries(admin_client, django_assert_max_num_queries):
    small = processing((product(), 2))
    many = processing(*((product(), 1) for _ in range(25)))
    for order in (small, many):
        # session, user, order, items (measured: 4 at 1 line and at 25)
        with django_assert_max_num_queries(5):
            assert admin_client.get(url("edit_items", order)).status_code == 200
        with django_assert_max_num_queries(5):
            assert admin_client.get(url("edit_details", order)).status_code == 200
        # the preview runs the real edit and reads the stock around it: 27 at 1 line and at 25
        first = items_of(order)[0]
        with django_assert_max_num_queries(30):
            r = preview(admin_client, order, quantities(order, **{f"qty_{first.id}": first.qty_ordered + 1}))
        assert r.context["preview"] is not None


# ---------------------------------------------------------------------------- addresses and note


def address_post(order: Order, **changes) -> dict[str, str]:
    """The details form as shown for ``order`` (prefix billing-/shipping-), with ``billing_city=…`` changes."""
    data = {}
    for prefix, stored in (("billing", order.billing_address), ("shipping", order.shipping_address)):
        for key in ("first_name", "last_name", "company", "phone", "line_1", "line_2", "city", "zone", "postcode",
                    "country"):
            data[f"{prefix}-{key}"] = str((stored or {}).get(key) or "")
    data["staff_note"] = order.staff_note
    for key, value in changes.items():
        prefix, _, name = key.partition("_")
        data[f"{prefix}-{name}" if prefix in ("billing", "shipping") else key] = value
    return data


def test_details_page_renders_addresses_country_select_and_note(admin_client):
    order = order_with((product(), 2))
    r = admin_client.get(url("edit_details", order))
    assert r.status_code == 200
    body = r.content.decode()
    assert 'id="edit-details-form"' in body and 'name="billing-line_1"' in body and 'name="shipping-city"' in body
    assert '<select name="billing-country"' in body and '<option value="DE">Germany (DE)</option>' in body
    assert f'<option value="{order.billing_address["country"]}" selected>' in body
    assert '<textarea name="staff_note"' in body and 'maxlength="5000"' in body


def test_only_what_changed_is_saved_and_an_untouched_form_writes_nothing(admin_client, admin_user):
    order = order_with((product("10.00", tax="10"), 2))
    totals_before = [getattr(order, f) for f in ("subtotal", "tax_total", "grand_total")]
    with nothing_written():
        r = admin_client.post(url("edit_details", order), address_post(order), follow=True)
    assert r.redirect_chain[-1][0] == page_url(order)
    assert any("Nothing changed" in m for m in messages_of(r))

    r = admin_client.post(url("edit_details", order), address_post(order, staff_note="Gift:\r\nno invoice in the box"),
                          follow=True)
    assert any(f"Order #{order.number}: staff note saved." in m for m in messages_of(r))
    assert reload(order).staff_note == "Gift:\nno invoice in the box"  # the browser's CRLF stored as LF
    event = OrderEvent.objects.get(order=order, type="details_changed")
    assert event.data["fields"] == ["staff_note"] and event.actor_id == admin_user.id
    body = r.content.decode()
    assert 'id="order-staff-note"' in body and "Gift:<br>no invoice in the box" in body

    order = reload(order)
    with nothing_written():  # the note as shown (LF in the page, CRLF when posted back) is not a change
        admin_client.post(url("edit_details", order), address_post(order, staff_note="Gift:\r\nno invoice in the box"))
    with nothing_written():
        r = admin_client.post(url("edit_details", order), address_post(order, billing_city="Salem",
                                                                       billing_country="gb"))
    assert any("Please correct" in m for m in messages_of(r)) and "billing-country" in r.content.decode()
    r = admin_client.post(url("edit_details", order), address_post(order, billing_city="Salem", shipping_line_1="1 Dock Rd",
                                                                   shipping_country="CA"), follow=True)
    assert any("billing address and shipping address saved" in m for m in messages_of(r)), messages_of(r)
    after = reload(order)
    assert after.billing_address["city"] == "Salem" and after.shipping_address["line_1"] == "1 Dock Rd"
    assert after.shipping_address["country"] == "CA"
    assert set(after.billing_address) == {"first_name", "last_name", "company", "phone", "line_1", "line_2", "city",
                                          "zone", "postcode", "country"}
    assert [getattr(after, f) for f in ("subtotal", "tax_total", "grand_total")] == totals_before  # no repricing
    last = OrderEvent.objects.filter(order=order, type="details_changed").order_by("-id").first()
    assert last.data["fields"] == ["billing_address", "shipping_address"]
    sentence = str(next(e for e in reversed(r.context["events"]) if e.type == "details_changed").sentence)
    assert sentence == f"Billing address, shipping address changed by {admin_user.name}"

    r = admin_client.post(url("edit_details", order), address_post(after, staff_note=""), follow=True)
    assert reload(order).staff_note == "" and 'id="order-staff-note"' not in r.content.decode()


def test_invalid_details_show_errors_and_write_nothing(admin_client):
    order = order_with((product(), 1))
    cases = [address_post(order, billing_line_1=""), address_post(order, billing_country="ZZ"),
             address_post(order, shipping_postcode="x" * 33), address_post(order, staff_note="x" * 5001)]
    for data in cases:
        with nothing_written():
            r = admin_client.post(url("edit_details", order), data)
        assert r.status_code == 200 and any("correct the errors" in m for m in messages_of(r))
    r = admin_client.post(url("edit_details", order), address_post(order, staff_note="x" * 5000), follow=True)
    assert len(reload(order).staff_note) == 5000


def test_shipping_address_is_fixed_once_everything_shipped_and_canceled_orders_send_back(admin_client):
    order = order_with((product(), 2))
    shipment_create(order_id=order.id, inventory_source_id=default_source().id, items=None, actor=None)
    r = admin_client.get(url("edit_details", order))
    assert r.context["shipping"] is None and 'id="edit-shipping-fixed"' in r.content.decode()
    assert 'name="shipping-city"' not in r.content.decode()
    with nothing_written():  # a posted shipping address is not read
        admin_client.post(url("edit_details", order), address_post(reload(order), shipping_city="Elsewhere"))
    r = admin_client.post(url("edit_details", order), address_post(reload(order), billing_city="Salem"), follow=True)
    assert reload(order).billing_address["city"] == "Salem"

    done = canceled_order()
    with nothing_written():
        r = admin_client.get(url("edit_details", done), follow=True)
        assert r.redirect_chain[-1][0] == page_url(done)
        assert any("addresses and note no longer change" in m for m in messages_of(r))
        r = admin_client.post(url("edit_details", done), address_post(done, staff_note="late"), follow=True)
        assert any("no longer change" in m for m in messages_of(r))


def test_an_imported_address_the_api_would_refuse_does_not_block_the_note(admin_client):
    order = order_with((product(), 1))
    Order.objects.filter(id=order.id).update(billing_address={"first_name": "Ann", "city": "Paris", "country": "FR"})
    order = reload(order)
    r = admin_client.post(url("edit_details", order), address_post(order, staff_note="check the address"),
                          follow=True)
    assert any("staff note saved" in m for m in messages_of(r)), messages_of(r)
    assert reload(order).billing_address == {"first_name": "Ann", "city": "Paris", "country": "FR"}

