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
    path("patients/", include("xinqiao.patients.urls")),
    path("followups/", include("xinqiao.followups.urls")),
    path("referrals/", include("xinqiao.referrals.urls")),
    path("caregroups/", include("xinqiao.caregroups.urls")),
    path("registry/", include("xinqiao.registry.urls")),
    path("worklists/", include("xinqiao.worklists.urls")),
    path("paperwork/", include("xinqiao.paperwork.urls")),
    path("indicators/", include("xinqiao.indicators.urls")),
    path("services/", include("xinqiao.registry.urls_public")),
    path("notifications/", include("xinqiao.core.urls_notifications")),
    path("admin/", admin.site.urls),
    path("i18n/setlang/", set_language, name="set_language"),
]
