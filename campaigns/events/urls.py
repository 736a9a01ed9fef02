"""Customer pages of events and members-only content (under campaigns:)."""

from django.urls import path

from campaigns.events import views

urlpatterns = [
    path("events/", views.event_list, name="events"),
    path("events/<int:event_id>/rsvp/", views.event_rsvp_view, name="event_rsvp"),
    path(
        "events/<int:event_id>/cancel/",
        views.event_rsvp_cancel_view,
        name="event_rsvp_cancel",
    ),
    path("members-only/", views.members_only_list, name="members_only"),
    path(
        "members-only/<slug:slug>/",
        views.members_only_page,
        name="members_only_page",
    ),
]
