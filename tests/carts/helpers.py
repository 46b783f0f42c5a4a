"""Build carts through the real services (no shortcuts past the rules)."""

from carts.services import carts as cart_services
from tests.customers.factories import CustomerFactory, address


def ready_cart(*lines, customer=None, shipping="flatrate", payment="cashondelivery", coupon=None, currency=None,
               billing=None, shipping_address=None, location_id=None):
    """A cart with the given (product, qty) lines, addresses, shipping and payment set."""
    customer = customer or CustomerFactory()
    cart = cart_services.cart_create(customer_id=customer.id, currency=currency)
    for product, qty in lines:
        cart_services.cart_item_add(cart_id=cart.id, product_id=product.id, quantity=qty)
    billing = billing or address()
    if shipping == "pickup":
        cart_services.cart_addresses_set(cart_id=cart.id, billing=billing)
    else:
        cart_services.cart_addresses_set(cart_id=cart.id, billing=billing, shipping=shipping_address or billing)
    if shipping:
        cart_services.cart_shipping_method_set(cart_id=cart.id, code=shipping, location_id=location_id)
    if payment:
        cart_services.cart_payment_method_set(cart_id=cart.id, code=payment)
    if coupon:
        cart_services.cart_coupon_apply(cart_id=cart.id, code=coupon)
    cart.refresh_from_db()
    return cart


# ---------------------------------------------------------------- API-level helpers


def cart_view(api, cart_id) -> dict:
    """The cart as the API shows it (GET), every field."""
    r = api.get(f"/api/admin/carts/{cart_id}")
    assert r.status_code == 200, r.content
    return r.json()


def assert_refused(r, status: int, code: str, field: str | None = None) -> dict:
    """A refusal in the one error shape, with the expected status and code."""
    assert r.status_code == status, (r.status_code, r.content)
    body = r.json()
    assert set(body) == {"code", "message", "errors"}, body
    assert body["code"] == code, body
    assert body["message"], body
    if field is not None:
        assert field in [e["field"] for e in body["errors"]], body
    return body


def assert_cart_unchanged(api, cart_id, before: dict) -> None:
    """Re-read the cart: items, quantities, totals, methods, coupon all as they were."""
    after = cart_view(api, cart_id)
    assert after == before
