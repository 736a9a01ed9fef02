"""Customer-facing pages of the campaigns app (unsubscribe, tracking, complaints,
surveys, events); each area adds its own paths here."""

from django.urls import path

from analytics.views import for_you
from campaigns import views_delivery, views_events, views_feedback

app_name = "campaigns"
urlpatterns: list = []


urlpatterns += [
    path("events/", views_events.event_list, name="events"),
    path(
        "events/<int:event_id>/rsvp/",
        views_events.event_rsvp_view,
        name="event_rsvp",
    ),
    path(
        "events/<int:event_id>/cancel/",
        views_events.event_rsvp_cancel_view,
        name="event_rsvp_cancel",
    ),
    path("members-only/", views_events.members_only_list, name="members_only"),
    path(
        "members-only/<slug:slug>/",
        views_events.members_only_page,
        name="members_only_page",
    ),
]
urlpatterns += [path("for-you/", for_you, name="for_you")]

urlpatterns += [
    path("feedback/", views_feedback.feedback_list, name="feedback"),
    path("feedback/new/", views_feedback.complaint_new, name="complaint_new"),
    path(
        "feedback/<int:complaint_id>/",
        views_feedback.complaint_detail,
        name="complaint_detail",
    ),
    path("survey/<str:token>/", views_feedback.survey_answer, name="survey_answer"),
]

# Delivery: unsubscribe, tracking and webhooks (campaigns.views_delivery).
urlpatterns += [
    path("u/<str:signed>/", views_delivery.unsubscribe, name="unsubscribe"),
    path("o/<str:signed>.gif", views_delivery.track_open, name="track_open"),
    path("c/<str:signed>/<int:index>/", views_delivery.track_click, name="track_click"),
    path("hooks/email/", views_delivery.email_webhook, name="email_webhook"),
    path("hooks/sms/", views_delivery.sms_webhook, name="sms_webhook"),
]
