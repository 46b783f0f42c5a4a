from .counters import OrderCounter, SalesDay
from .documents import Invoice, InvoiceItem, Refund, RefundItem, Shipment, ShipmentItem
from .events import EventType, OrderComment, OrderEvent
from .import_job import ImportJob, ImportJobChunk, ImportJobFormat, ImportJobStatus
from .order import Channel, FulfillmentType, Order, OrderItem, OrderStatus, Payment
from .sequence import Sequence

__all__ = ["Channel", "EventType", "FulfillmentType", "ImportJob", "ImportJobChunk", "ImportJobFormat", "ImportJobStatus",
           "Invoice", "InvoiceItem", "Order", "OrderComment", "OrderCounter", "OrderEvent", "OrderItem", "OrderStatus",
           "Payment", "Refund", "RefundItem", "SalesDay", "Sequence", "Shipment", "ShipmentItem"]
