from django.contrib import admin
from django.urls import include, path, re_path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config.errors import api_not_found
from config.fields import IdConverter
from config.health import healthz
from sales.checkout_views import checkout_page

register_converter(IdConverter, "id")

# The admin is Order Desk's back office (SPEC §14): its own name everywhere, and no "View site"
# (there is no storefront here; templates/admin/base_site.html links the API docs instead).
admin.site.site_header = "Order Desk"
admin.site.site_title = "Order Desk"
admin.site.index_title = "Order Desk"
admin.site.site_url = None

handler400 = "config.errors.api_bad_request"
handler404 = "config.errors.api_not_found"
handler500 = "config.errors.api_server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("api/admin/", include("config.api_urls")),
    path("checkout/<str:token>/", checkout_page, name="checkout"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: no inline script under the CSP.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    # Unknown paths under /api/ answer JSON 404 even with DEBUG on.
    re_path(r"^api/", api_not_found),
]
