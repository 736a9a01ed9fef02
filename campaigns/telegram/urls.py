from django.urls import path

from campaigns.telegram import views

urlpatterns = [
    path("telegram/webhook/", views.webhook, name="telegram_webhook"),
]
