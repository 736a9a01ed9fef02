"""Customer pages of analytics (mounted by loyalty_site/urls.py)."""

from django.urls import path

from analytics.views import for_you

app_name = "analytics"
urlpatterns = [
    path("for-you/", for_you, name="for_you"),
]
