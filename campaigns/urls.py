"""Customer-facing pages of the campaigns app (events, members-only content,
complaints, surveys, unsubscribe, tracking, webhooks, the Telegram bot's
webhook): each area keeps its own urls module, all under the one `campaigns`
namespace."""

from django.urls import include, path

app_name = "campaigns"
urlpatterns = [
    path("", include("campaigns.events.urls")),
    path("", include("campaigns.feedback.urls")),
    path("", include("campaigns.messaging.urls")),
    path("", include("campaigns.telegram.urls")),
]
