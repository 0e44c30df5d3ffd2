"""Page routes of the referrals app (namespace ``referrals``). Every route is in the permission matrix."""

from django.urls import path

app_name = "referrals"

urlpatterns: list = []
__all__ = ["path", "urlpatterns"]
