"""Customer pages of feedback: complaints and surveys (under campaigns:)."""

from django.urls import path

from campaigns.feedback import views

urlpatterns = [
    path("feedback/", views.feedback_list, name="feedback"),
    path("feedback/new/", views.complaint_new, name="complaint_new"),
    path(
        "feedback/<int:complaint_id>/",
        views.complaint_detail,
        name="complaint_detail",
    ),
    path("survey/<str:token>/", views.survey_answer, name="survey_answer"),
]
