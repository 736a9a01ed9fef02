"""The member's wallet buttons and Apple's pass web service, mounted at
"/wallet/" (the pass's webServiceURL is the site's address + "/wallet/apple/")."""

from django.urls import path

from rewards.wallet import views

app_name = "wallet"
urlpatterns = [
    path("apple/card.pkpass", views.apple_pass_download, name="apple_pass_download"),
    path("google/save/", views.google_save, name="google_save"),
    path(
        "apple/v1/devices/<str:device>/registrations/<str:pass_type>/<str:serial>",
        views.apple_registration,
        name="apple_registration",
    ),
    path(
        "apple/v1/devices/<str:device>/registrations/<str:pass_type>",
        views.apple_serials,
        name="apple_serials",
    ),
    path(
        "apple/v1/passes/<str:pass_type>/<str:serial>",
        views.apple_pass,
        name="apple_pass",
    ),
    path("apple/v1/log", views.apple_log, name="apple_log"),
]
