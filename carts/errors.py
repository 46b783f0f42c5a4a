from carts.error_codes import CartErrorCode
from config.errors import Conflict


class CartInactive(Conflict):
    code = CartErrorCode.CART_INACTIVE
    default_message = "This cart was already placed as an order and can no longer change."


class CartEmpty(Conflict):
    code = CartErrorCode.CART_EMPTY
    default_message = "The cart has no items."


class AddressRequired(Conflict):
    code = CartErrorCode.ADDRESS_REQUIRED
    default_message = "An address is missing."


class ShippingMethodRequired(Conflict):
    code = CartErrorCode.SHIPPING_METHOD_REQUIRED
    default_message = "Choose a shipping method: the cart holds items that ship."


class PaymentMethodRequired(Conflict):
    code = CartErrorCode.PAYMENT_METHOD_REQUIRED
    default_message = "Choose a payment method."


class ShippingMethodNotAvailable(Conflict):
    code = CartErrorCode.SHIPPING_METHOD_NOT_AVAILABLE
    default_message = "That shipping method is not available for this cart."


class PaymentMethodNotAvailable(Conflict):
    code = CartErrorCode.PAYMENT_METHOD_NOT_AVAILABLE
    default_message = "That payment method is not available."


class CouponNotApplicable(Conflict):
    code = CartErrorCode.COUPON_NOT_APPLICABLE
    default_message = "The coupon cannot be applied."


class CouponCodeTaken(Conflict):
    code = CartErrorCode.COUPON_CODE_TAKEN
    default_message = "This coupon code is already used."
