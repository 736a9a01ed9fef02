"""Customer portal pages of members, mounted at "/" in the "portal" namespace
together with the pages that combine apps (loyalty_site/urls.py). No pattern
takes an id (the leaving question takes a signed link instead): a page shows only the logged-in user's own membership."""

from django.urls import path

from members import telegram_views, views

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("signup/verify/", views.signup_verify, name="signup_verify"),
    path("profile/", views.profile, name="profile"),
    path("preferences/", views.preferences, name="preferences"),
    path(
        "preferences/telegram/link/",
        telegram_views.telegram_link_start,
        name="telegram_link",
    ),
    path(
        "preferences/telegram/unlink/",
        telegram_views.telegram_unlink_view,
        name="telegram_unlink",
    ),
    path("referrals/", views.referrals, name="referrals"),
    path("push/subscribe/", views.push_subscribe, name="push_subscribe"),
    path("push/unsubscribe/", views.push_unsubscribe, name="push_unsubscribe"),
    path("privacy/export/", views.privacy_export, name="privacy_export"),
    path("privacy/delete/", views.privacy_delete, name="privacy_delete"),
    path("join/<str:code>/", views.join, name="join"),
    path("leaving/<str:signed>/", views.leave_reason, name="leave_reason"),
]
