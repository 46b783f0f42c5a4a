from .counters import OrderCounter, SalesDay
from .documents import Invoice, InvoiceItem, Refund, RefundItem, Shipment, ShipmentItem
from .events import EventType, OrderComment, OrderEvent
from .order import Channel, FulfillmentType, Order, OrderItem, OrderStatus, Payment
from .sequence import Sequence

__all__ = ["Channel", "EventType", "FulfillmentType", "Invoice", "InvoiceItem", "Order", "OrderComment",
           "OrderEvent", "OrderCounter", "OrderItem", "OrderStatus", "Payment", "Refund", "RefundItem", "SalesDay", "Sequence", "Shipment",
           "ShipmentItem"]
