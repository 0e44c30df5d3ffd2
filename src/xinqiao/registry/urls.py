"""Page routes of the registry app (namespace ``registry``). Every route is in the permission matrix."""

from django.urls import path

app_name = "registry"

urlpatterns: list = []
__all__ = ["path", "urlpatterns"]
