"""The sales app's error codes (orders, their documents, checkout, reorder, edits, import).

Every code a sales service or the sales API raises goes through this enum; the values are the
wire codes of SPEC's error body and never change.
"""

from __future__ import annotations

from enum import StrEnum


class SalesErrorCode(StrEnum):
    ORDER_NOT_INVOICEABLE = "order_not_invoiceable"
    PAYMENT_METHOD_NOT_INVOICEABLE = "payment_method_not_invoiceable"
    QUANTITY_EXCEEDS_REMAINING = "quantity_exceeds_remaining"
    ORDER_NOT_SHIPPABLE = "order_not_shippable"
    ORDER_NOT_REFUNDABLE = "order_not_refundable"
    REFUND_EXCEEDS_REFUNDABLE = "refund_exceeds_refundable"
    REFUND_EMPTY = "refund_empty"
    ORDER_NOT_CANCELABLE = "order_not_cancelable"
    ORDER_NOT_FRAUD = "order_not_fraud"
    ORDER_ON_HOLD = "order_on_hold"
    ORDER_NOT_ON_HOLD = "order_not_on_hold"
    ORDER_NOT_HOLDABLE = "order_not_holdable"
    ORDER_ITEM_NOT_FOUND = "order_item_not_found"
    ITEM_NOT_SHIPPABLE = "item_not_shippable"
    ORDER_NOT_EDITABLE = "order_not_editable"
    ORDER_CANNOT_BE_EMPTY = "order_cannot_be_empty"
    QUANTITY_BELOW_MINIMUM = "quantity_below_minimum"
    ORDER_ALREADY_PAID = "order_already_paid"
    ORDER_NOT_PAYABLE = "order_not_payable"
    ORDER_HAS_NO_CUSTOMER = "order_has_no_customer"
    CONFIRMATION_REQUIRED = "confirmation_required"
    DUPLICATE_REFERENCE = "duplicate_reference"
    TOTALS_MISMATCH = "totals_mismatch"
    SHIPPING_METHOD_NOT_FOUND = "shipping_method_not_found"
    PAYMENT_METHOD_NOT_FOUND = "payment_method_not_found"
    BULK_INCOMPLETE = "bulk_incomplete"


__all__ = ["SalesErrorCode"]
