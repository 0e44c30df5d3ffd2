"""Page routes of the patients app (namespace ``patients``). Every route is in the permission matrix."""

from django.urls import path

app_name = "patients"

urlpatterns: list = []
__all__ = ["path", "urlpatterns"]
