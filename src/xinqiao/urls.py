"""Root URL configuration: pages, the API under /api/v1/, the admin, and language switching."""

from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from xinqiao.api import api

admin.site.site_header = "心桥 xinqiao"
admin.site.site_title = "心桥 xinqiao"

urlpatterns = [
    path("", include("xinqiao.core.urls")),
    path("api/v1/", api.urls),
    path("fhir/", include("xinqiao.fhir.urls")),
    path("screening/", include("xinqiao.screening.urls")),
    path("admin/", admin.site.urls),
    path("i18n/setlang/", set_language, name="set_language"),
]
