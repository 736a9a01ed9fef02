"""The customer's points statement, mounted at "/statement/"."""

from django.urls import path

from rewards import views

app_name = "rewards"
urlpatterns = [
    path("", views.statement, name="statement"),
]
