from config.errors import Conflict, InvalidInput


class OrderNotInvoiceable(Conflict):
    code = "order_not_invoiceable"
    default_message = "The order cannot be invoiced."


class PaymentMethodNotInvoiceable(Conflict):
    code = "payment_method_not_invoiceable"
    default_message = "Orders paid through a gateway are invoiced when the gateway captures the payment."


class QuantityExceedsRemaining(Conflict):
    code = "quantity_exceeds_remaining"
    default_message = "A quantity exceeds what is left."


class OrderNotShippable(Conflict):
    code = "order_not_shippable"
    default_message = "The order cannot be shipped."


class OrderNotRefundable(Conflict):
    code = "order_not_refundable"
    default_message = "The order cannot be refunded."


class RefundExceedsRefundable(Conflict):
    code = "refund_exceeds_refundable"
    default_message = "The refund exceeds what can be refunded."


class RefundEmpty(Conflict):
    code = "refund_empty"
    default_message = "The refund total must be greater than zero."


class OrderNotCancelable(Conflict):
    code = "order_not_cancelable"
    default_message = "The order cannot be canceled."


class OrderNotFraud(Conflict):
    code = "order_not_fraud"
    default_message = "The order is not flagged as fraud."


class OrderItemNotFound(InvalidInput):
    code = "order_item_not_found"
    default_message = "No such item in this order."


class ItemNotShippable(InvalidInput):
    code = "item_not_shippable"
    default_message = "The item does not ship."
