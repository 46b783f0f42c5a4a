"""Every /api/admin/ endpoint, in one place."""

from django.urls import path

from accounts.api.views import LoginView, LogoutView
from carts.api import views as carts
from catalog.api import views as catalog
from customers.api import views as customers
from sales.api import document_views as documents
from sales.api import views as sales
from sales.api.import_jobs import ImportJobDetailView, ImportJobListView
from sales.api.importing import OrderImportView
from webhooks.api import views as webhooks

urlpatterns = [
    path("login", LoginView.as_view(), name="login"),
    path("logout", LogoutView.as_view(), name="logout"),
    # catalog
    path("products", catalog.ProductListView.as_view(), name="product-list"),
    path("products/<id:pk>", catalog.ProductDetailView.as_view(), name="product-detail"),
    path("inventory-sources", catalog.InventorySourceListView.as_view(), name="inventory-source-list"),
    path("tax-categories", catalog.TaxCategoryListView.as_view(), name="tax-category-list"),
    path("currencies", catalog.CurrencyListView.as_view(), name="currency-list"),
    # customers
    path("customers", customers.CustomerListView.as_view(), name="customer-list"),
    path("customers/<id:pk>", customers.CustomerDetailView.as_view(), name="customer-detail"),
    path("customers/<id:customer_id>/draft-carts", carts.DraftCartCreateView.as_view(), name="draft-cart-create"),
    # carts
    path("carts/<id:cart_id>", carts.CartDetailView.as_view(), name="cart-detail"),
    path("carts/<id:cart_id>/items", carts.CartItemsView.as_view(), name="cart-items"),
    path("carts/<id:cart_id>/items/<id:item_id>", carts.CartItemView.as_view(), name="cart-item"),
    path("carts/<id:cart_id>/addresses", carts.CartAddressesView.as_view(), name="cart-addresses"),
    path("carts/<id:cart_id>/shipping-methods", carts.CartShippingMethodsView.as_view(), name="cart-shipping"),
    path("carts/<id:cart_id>/payment-methods", carts.CartPaymentMethodsView.as_view(), name="cart-payment"),
    path("carts/<id:cart_id>/coupon", carts.CartCouponView.as_view(), name="cart-coupon"),
    path("shipping-methods", carts.ShippingMethodListView.as_view(), name="shipping-method-list"),
    path("payment-methods", carts.PaymentMethodListView.as_view(), name="payment-method-list"),
    path("coupons", carts.CouponListView.as_view(), name="coupon-list"),
    path("coupons/<id:pk>", carts.CouponDetailView.as_view(), name="coupon-detail"),
    # orders
    path("orders", sales.OrderListView.as_view(), name="order-list"),
    path("orders/export.csv", sales.OrderExportView.as_view(), name="order-export"),
    path("orders/count", sales.OrderCountView.as_view(), name="order-count"),
    path("orders/place/<id:cart_id>", sales.OrderPlaceView.as_view(), name="order-place"),
    path("orders/import", OrderImportView.as_view(), name="order-import"),
    path("import-jobs", ImportJobListView.as_view(), name="import-job-list"),
    path("import-jobs/<id:job_id>", ImportJobDetailView.as_view(), name="import-job-detail"),
    path("orders/restore", sales.OrderBulkRestoreView.as_view(), name="order-bulk-restore"),
    path("orders/<id:order_id>", sales.OrderDetailView.as_view(), name="order-detail"),
    path("orders/<id:order_id>/restore", sales.OrderRestoreView.as_view(), name="order-restore"),
    path("orders/<id:order_id>/reorder", sales.OrderReorderView.as_view(), name="order-reorder"),
    path("orders/<id:order_id>/invoices", sales.OrderInvoicesView.as_view(), name="order-invoices"),
    path("orders/<id:order_id>/shipments", sales.OrderShipmentsView.as_view(), name="order-shipments"),
    path("orders/<id:order_id>/refunds", sales.OrderRefundsView.as_view(), name="order-refunds"),
    path("orders/<id:order_id>/refunds/preview", sales.OrderRefundPreviewView.as_view(), name="order-refund-preview"),
    path("orders/<id:order_id>/cancel", sales.OrderCancelView.as_view(), name="order-cancel"),
    path("orders/<id:order_id>/clear-fraud", sales.OrderClearFraudView.as_view(), name="order-clear-fraud"),
    path("orders/<id:order_id>/hold", sales.OrderHoldView.as_view(), name="order-hold"),
    path("orders/<id:order_id>/release-hold", sales.OrderReleaseHoldView.as_view(), name="order-release-hold"),
    path("orders/<id:order_id>/comments", sales.OrderCommentsView.as_view(), name="order-comments"),
    path("orders/<id:order_id>/history", sales.OrderHistoryView.as_view(), name="order-history"),
    # store-wide documents
    path("invoices", documents.InvoiceListView.as_view(), name="invoice-list"),
    path("invoices/<id:invoice_id>", documents.InvoiceDetailView.as_view(), name="invoice-detail"),
    path("invoices/<id:invoice_id>/pdf", documents.InvoicePdfView.as_view(), name="invoice-pdf"),
    path("shipments", documents.ShipmentListView.as_view(), name="shipment-list"),
    path("shipments/<id:shipment_id>", documents.ShipmentDetailView.as_view(), name="shipment-detail"),
    path("refunds", documents.RefundListView.as_view(), name="refund-list"),
    path("refunds/<id:refund_id>", documents.RefundDetailView.as_view(), name="refund-detail"),
    # webhooks (SPEC §13)
    path("webhooks", webhooks.WebhookListView.as_view(), name="webhook-list"),
    path("webhooks/<id:webhook_id>", webhooks.WebhookDetailView.as_view(), name="webhook-detail"),
    path("webhooks/<id:webhook_id>/deliveries", webhooks.WebhookDeliveriesView.as_view(), name="webhook-deliveries"),
    path("webhooks/<id:webhook_id>/deliveries/<str:delivery_id>/redeliver", webhooks.WebhookRedeliverView.as_view(),
         name="webhook-redeliver"),
    path("webhooks/<id:webhook_id>/ping", webhooks.WebhookPingView.as_view(), name="webhook-ping"),
]
