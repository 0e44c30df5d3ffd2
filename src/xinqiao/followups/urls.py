"""Page routes of the followups app (namespace ``followups``). Every route is in the permission matrix."""

from django.urls import path

app_name = "followups"

urlpatterns: list = []
__all__ = ["path", "urlpatterns"]
