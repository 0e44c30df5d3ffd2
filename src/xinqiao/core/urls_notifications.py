"""Routes of the notification inbox (namespace ``notifications``). Every route is in the permission matrix."""

from django.urls import path

from xinqiao.core.views import notifications

app_name = "notifications"

urlpatterns: list = [
    path("", notifications.notification_list, name="list"),
    path("<int:pk>/read/", notifications.notification_read, name="read"),
    path("read-all/", notifications.notification_read_all, name="read_all"),
]
