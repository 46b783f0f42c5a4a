"""Orders built through the real services."""

from decimal import Decimal

from sales.models import Order
from sales.services.placing import order_place
from tests.carts.helpers import ready_cart
from tests.catalog.factories import ProductFactory


def placed_order(*lines, **kwargs) -> Order:
    """Place an order for (product, qty) lines; default: one product ×2 at 10.00 with stock 10."""
    if not lines:
        lines = ((ProductFactory(price=Decimal("10.00"), stock=10), 2),)
    cart = ready_cart(*lines, **kwargs)
    return order_place(cart_id=cart.id, actor=None)


def import_document(reference: str, **overrides) -> dict:
    """A minimal §7.2 import document: one custom line of 10.00 + 2.00 tax, a new customer named by
    the reference, no e-mail; ``overrides`` replace top-level keys."""
    data = {"reference": reference, "email": f"{reference.lower()}@example.com", "notify": False,
            "items": [{"sku": "CUSTOM", "name": "Custom", "quantity": 1, "price": {"amount": 1000, "tax": 200}}]}
    data.update(overrides)
    return data
