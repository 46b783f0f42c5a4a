from .cart import Cart, CartItem
from .coupon import Coupon, CouponUsage, DiscountType
from .methods import GATEWAY_PAYMENT_METHODS, PAYMENT_METHOD_CODES, PaymentMethod, ShippingCalc, ShippingMethod

__all__ = ["Cart", "CartItem", "Coupon", "CouponUsage", "DiscountType", "GATEWAY_PAYMENT_METHODS",
           "PAYMENT_METHOD_CODES", "PaymentMethod", "ShippingCalc", "ShippingMethod"]
