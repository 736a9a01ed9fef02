"""Customer-facing pages of the campaigns app (unsubscribe, tracking, complaints,
surveys, events); each area adds its own paths here."""

from django.urls import path  # noqa: F401

from campaigns import views_feedback

app_name = "campaigns"
urlpatterns: list = []
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
