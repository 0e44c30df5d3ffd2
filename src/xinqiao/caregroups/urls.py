"""Page routes of the caregroups app (namespace ``caregroups``). Every route is in the permission matrix."""

from django.urls import path

app_name = "caregroups"

urlpatterns: list = []
__all__ = ["path", "urlpatterns"]
