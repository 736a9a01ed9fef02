"""Online payment pages and callbacks, mounted at "/" (docs/operations.md,
"Online payment")."""

from django.urls import path

from rewards.payments import views

app_name = "payments"
urlpatterns = [
    path("membership/buy/", views.membership_buy, name="buy"),
    path("membership/auto-renew/", views.membership_auto_renew, name="auto_renew"),
    path("membership/cancel/", views.membership_cancel, name="cancel"),
    path("payments/<str:order_id>/", views.payment_result, name="result"),
    path(
        "payments/callback/<slug:provider>/",
        views.payment_callback,
        name="callback",
    ),
    path("payments/test/<str:order_id>/", views.test_page, name="test_page"),
]
