"""Screening page routes (namespace ``screening``): public self-screening and campaigns."""

from django.urls import path

app_name = "screening"

urlpatterns: list = []

from xinqiao.screening.urls_campaigns import urlpatterns as _campaigns  # noqa: E402
from xinqiao.screening.urls_public import urlpatterns as _public  # noqa: E402

urlpatterns += _public + _campaigns
__all__ = ["path", "urlpatterns"]
