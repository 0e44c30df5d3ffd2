"""Page routes of the worklists app (namespace ``worklists``). Every route is in the permission matrix."""

from django.urls import path

app_name = "worklists"

urlpatterns: list = []
__all__ = ["path", "urlpatterns"]
