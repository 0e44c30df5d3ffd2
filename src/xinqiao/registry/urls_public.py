"""Public routes of the registry (namespace ``services``): the service finder and credential look-up."""

from django.urls import path

app_name = "services"

urlpatterns: list = []
__all__ = ["path", "urlpatterns"]
