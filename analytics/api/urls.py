"""Analytics endpoints of the POS API, mounted under /api/v1/ (namespace "api-v1")."""

from django.urls import path

from analytics.api import store_sales

urlpatterns = [
    path(
        "store-sales",
        store_sales.StoreSalesReportApi.as_view(),
        name="store-sales-report",
    ),
]
