"""Page routes of the paperwork app (namespace ``paperwork``). Every route is in the permission matrix."""

from django.urls import path

app_name = "paperwork"

urlpatterns: list = []
__all__ = ["path", "urlpatterns"]
