from config.errors import Conflict, InvalidInput


class CartInactive(Conflict):
    code = "cart_inactive"
    default_message = "This cart was already placed as an order and can no longer change."


class CartEmpty(Conflict):
    code = "cart_empty"
    default_message = "The cart has no items."


class AddressRequired(Conflict):
    code = "address_required"
    default_message = "An address is missing."


class ShippingMethodRequired(Conflict):
    code = "shipping_method_required"
    default_message = "Choose a shipping method: the cart holds items that ship."


class PaymentMethodRequired(Conflict):
    code = "payment_method_required"
    default_message = "Choose a payment method."


class ShippingMethodNotAvailable(Conflict):
    code = "shipping_method_not_available"
    default_message = "That shipping method is not available for this cart."


class PaymentMethodNotAvailable(Conflict):
    code = "payment_method_not_available"
    default_message = "That payment method is not available."


class CouponNotApplicable(Conflict):
    code = "coupon_not_applicable"
    default_message = "The coupon cannot be applied."


class CartItemNotFound(InvalidInput):
    code = "cart_item_not_found"
    default_message = "No such item in this cart."
