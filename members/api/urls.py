"""Member endpoints of the POS API, mounted under /api/v1/ (namespace "api-v1")."""

from django.urls import path

from members.api import views

urlpatterns = [
    path("members", views.MemberCreateApi.as_view(), name="member-create"),
    # Before rewards.api.urls' "members/<str:card_number>" (member-detail),
    # which would take "lookup" for a card number.
    path("members/lookup", views.MemberLookupApi.as_view(), name="member-lookup"),
]
