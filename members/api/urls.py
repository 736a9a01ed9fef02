"""Member endpoints of the POS API, mounted under /api/v1/ (namespace "api-v1")."""

from django.urls import path

from members.api import views

urlpatterns = [
    path("members", views.MemberCreateApi.as_view(), name="member-create"),
    path("members/lookup", views.MemberLookupApi.as_view(), name="member-lookup"),
    # <str:...>, not a stricter converter: a malformed card is a JSON 404 from
    # the view rather than Django's HTML one.
    path(
        "members/<str:card_number>",
        views.MemberDetailApi.as_view(),
        name="member-detail",
    ),
]
