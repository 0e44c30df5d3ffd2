"""Public self-screening routes (no sign-in), under ``/screening/`` in namespace ``screening``."""

from django.urls import path

from xinqiao.screening.views import public

urlpatterns: list = [
    path("public/", public.instrument_list, name="public_list"),
    path("public/result/<str:token>/", public.result, name="public_result"),
    path("public/<slug:instrument>/", public.instrument_form, name="public_form"),
]
