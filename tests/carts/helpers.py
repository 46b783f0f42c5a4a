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
