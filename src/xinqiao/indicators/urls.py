"""Page routes of the indicators app (namespace ``indicators``). Every route is in the permission matrix."""

from django.urls import path  # noqa: F401

app_name = "indicators"

urlpatterns: list = []
