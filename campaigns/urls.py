"""Customer-facing pages of the campaigns app (unsubscribe, tracking, complaints,
surveys, events); each area adds its own paths here."""

from django.urls import path  # noqa: F401

from analytics.views_recs import for_you

app_name = "campaigns"
urlpatterns: list = []
urlpatterns += [path("for-you/", for_you, name="for_you")]
