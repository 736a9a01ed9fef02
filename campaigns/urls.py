"""Customer-facing pages of the campaigns app (unsubscribe, tracking, complaints,
surveys, events); each area adds its own paths here."""

from django.urls import path  # noqa: F401

app_name = "campaigns"
urlpatterns: list = []
