"""Customer-facing pages of the campaigns app (events, members-only content,
complaints, surveys, unsubscribe, tracking, webhooks): each area keeps its own
urls module, all under the one `campaigns` namespace."""

from django.urls import include, path

from analytics.views_recs import for_you

app_name = "campaigns"
urlpatterns = [
    path("", include("campaigns.events.urls")),
    path("for-you/", for_you, name="for_you"),
    path("", include("campaigns.feedback.urls")),
    path("", include("campaigns.messaging.urls")),
]
