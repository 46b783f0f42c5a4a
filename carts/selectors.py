from django.db.models import Prefetch

from carts.models import Cart, CartItem
from config.errors import NotFound


def cart_get_detail(cart_id: int) -> Cart:
    cart = (Cart.objects.select_related("customer", "shipping_method", "payment_method", "coupon", "pickup_location")
            .prefetch_related(Prefetch("items", queryset=CartItem.objects.select_related("product").order_by("id")))
            .filter(id=cart_id).first())
    if cart is None:
        raise NotFound(f"Cart {cart_id} not found.")
    return cart
