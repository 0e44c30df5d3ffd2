"""Routes of the notification inbox (namespace ``notifications``)."""

from django.urls import path

app_name = "notifications"

urlpatterns: list = []
__all__ = ["path", "urlpatterns"]
