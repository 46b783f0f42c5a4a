"""The carts app's error codes (draft carts, coupons, shipping and payment methods)."""

from __future__ import annotations

from enum import StrEnum


class CartErrorCode(StrEnum):
    CART_INACTIVE = "cart_inactive"
    CART_EMPTY = "cart_empty"
    ADDRESS_REQUIRED = "address_required"
    SHIPPING_METHOD_REQUIRED = "shipping_method_required"
    SHIPPING_METHOD_NOT_AVAILABLE = "shipping_method_not_available"
    PAYMENT_METHOD_REQUIRED = "payment_method_required"
    PAYMENT_METHOD_NOT_AVAILABLE = "payment_method_not_available"
    COUPON_NOT_APPLICABLE = "coupon_not_applicable"
    COUPON_CODE_TAKEN = "coupon_code_taken"


__all__ = ["CartErrorCode"]
