"""Page routes of the followups app (namespace ``followups``). Every route is in the permission matrix
(``tests/security/routes_followups.py``)."""

from django.urls import path

from xinqiao.followups import views

app_name = "followups"

urlpatterns: list = [
    path("patients/<int:patient_id>/", views.followup_list, name="followup_list"),
    path("patients/<int:patient_id>/new/", views.followup_create, name="followup_create"),
    path("patients/<int:patient_id>/propose/", views.followup_propose, name="followup_propose"),
    path("patients/<int:patient_id>/health-check/", views.healthcheck_create, name="healthcheck_create"),
    path("patients/<int:patient_id>/discharge/", views.discharge_create, name="discharge_create"),
    path("<int:pk>/", views.followup_detail, name="followup_detail"),
    path("<int:pk>/correct/", views.followup_correct, name="followup_correct"),
    path("<int:pk>/correct/propose/", views.followup_correct_propose, name="followup_correct_propose"),
    path("export/", views.followup_export, name="followup_export"),
    path("health-checks/<int:pk>/", views.healthcheck_detail, name="healthcheck_detail"),
    path("discharges/<int:pk>/", views.discharge_detail, name="discharge_detail"),
]
