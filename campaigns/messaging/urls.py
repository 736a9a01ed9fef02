"""Delivery's public addresses: unsubscribe, open and click tracking, and the
email, SMS and Viber providers' webhooks (under campaigns:)."""

from django.urls import path

from campaigns.messaging import views

urlpatterns = [
    path("u/<str:signed>/", views.unsubscribe, name="unsubscribe"),
    path("o/<str:signed>.gif", views.track_open, name="track_open"),
    path("c/<str:signed>/<int:index>/", views.track_click, name="track_click"),
    path("hooks/email/", views.email_webhook, name="email_webhook"),
    path("hooks/sms/", views.sms_webhook, name="sms_webhook"),
    path("hooks/viber/", views.viber_webhook, name="viber_webhook"),
]
