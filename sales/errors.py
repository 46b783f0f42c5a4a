from config.errors import Conflict, DomainError, InvalidInput
from sales.error_codes import SalesErrorCode


class OrderNotInvoiceable(Conflict):
    code = SalesErrorCode.ORDER_NOT_INVOICEABLE
    default_message = "The order cannot be invoiced."


class PaymentMethodNotInvoiceable(Conflict):
    code = SalesErrorCode.PAYMENT_METHOD_NOT_INVOICEABLE
    default_message = "Orders paid through a gateway are invoiced when the gateway captures the payment."


class QuantityExceedsRemaining(Conflict):
    code = SalesErrorCode.QUANTITY_EXCEEDS_REMAINING
    default_message = "A quantity exceeds what is left."


class OrderNotShippable(Conflict):
    code = SalesErrorCode.ORDER_NOT_SHIPPABLE
    default_message = "The order cannot be shipped."


class OrderNotRefundable(Conflict):
    code = SalesErrorCode.ORDER_NOT_REFUNDABLE
    default_message = "The order cannot be refunded."


class RefundExceedsRefundable(Conflict):
    code = SalesErrorCode.REFUND_EXCEEDS_REFUNDABLE
    default_message = "The refund exceeds what can be refunded."


class RefundEmpty(Conflict):
    code = SalesErrorCode.REFUND_EMPTY
    default_message = "The refund total must be greater than zero."


class OrderNotCancelable(Conflict):
    code = SalesErrorCode.ORDER_NOT_CANCELABLE
    default_message = "The order cannot be canceled."


class OrderNotFraud(Conflict):
    code = SalesErrorCode.ORDER_NOT_FRAUD
    default_message = "The order is not flagged as fraud."


class OrderItemNotFound(InvalidInput):
    code = SalesErrorCode.ORDER_ITEM_NOT_FOUND
    default_message = "No such item in this order."


class ItemNotShippable(InvalidInput):
    code = SalesErrorCode.ITEM_NOT_SHIPPABLE
    default_message = "The item does not ship."


class OrderOnHold(Conflict):
    code = SalesErrorCode.ORDER_ON_HOLD
    default_message = "The order is on hold."


class OrderNotOnHold(Conflict):
    code = SalesErrorCode.ORDER_NOT_ON_HOLD
    default_message = "The order is not on hold."


class OrderNotHoldable(Conflict):
    code = SalesErrorCode.ORDER_NOT_HOLDABLE
    default_message = "The order cannot be put on hold."


class BulkIncomplete(DomainError):
    """500: a bulk archive / restore stopped by a database failure after some of its batches (each
    its own transaction) had committed; the message says how many, never "nothing was changed"."""

    code = SalesErrorCode.BULK_INCOMPLETE
    status = 500
