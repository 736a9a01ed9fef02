"""Customer-facing pages of the campaigns app (unsubscribe, tracking, complaints,
surveys, events); each area adds its own paths here."""

from django.urls import path  # noqa: F401

app_name = "campaigns"
urlpatterns: list = []

# Delivery: unsubscribe, tracking and webhooks (campaigns.views_delivery).
from campaigns import views_delivery  # noqa: E402

urlpatterns += [
    path("u/<str:signed>/", views_delivery.unsubscribe, name="unsubscribe"),
    path("o/<str:signed>.gif", views_delivery.track_open, name="track_open"),
    path("c/<str:signed>/<int:index>/", views_delivery.track_click, name="track_click"),
    path("hooks/email/", views_delivery.email_webhook, name="email_webhook"),
    path("hooks/sms/", views_delivery.sms_webhook, name="sms_webhook"),
]
