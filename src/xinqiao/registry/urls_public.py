"""Public routes of the registry (namespace ``services``, no sign-in): the service finder, a service's
page, the credential look-up, the disclosure pages and complaints. Declared in
``tests/security/routes_services.py``."""

from django.urls import path

from xinqiao.registry.views import public

app_name = "services"

urlpatterns: list = [
    path("", public.finder_page, name="finder"),
    path("p/<int:pk>/", public.point_detail, name="point_detail"),
    path("credentials/", public.lookup_page, name="lookup"),
    path("disclosure/", public.disclosure_index, name="disclosure_index"),
    path("disclosure/<str:code>/", public.disclosure, name="disclosure"),
    path("complaints/new/", public.complaint_create, name="complaint_create"),
    path("complaints/status/", public.complaint_status, name="complaint_status"),
]
__all__ = ["path", "urlpatterns"]
