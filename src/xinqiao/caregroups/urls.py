"""Page routes of the caregroups app (namespace ``caregroups``). Every route is in the permission
matrix (``tests/security/routes_caregroups.py``)."""

from django.urls import path

from xinqiao.caregroups import views

app_name = "caregroups"

urlpatterns: list = [
    path("", views.group_list, name="group_list"),
    path("new/", views.group_create, name="group_create"),
    path("<int:pk>/", views.group_detail, name="group_detail"),
    path("<int:pk>/members/new/", views.member_create, name="member_create"),
    path("members/<int:pk>/unmask/", views.member_unmask, name="member_unmask"),
    path("<int:pk>/meetings/new/", views.meeting_create, name="meeting_create"),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting_detail"),
    path("<int:pk>/visits/new/", views.visit_create, name="visit_create"),
    path("<int:pk>/visits/export.xlsx", views.visit_export, name="visit_export"),
    path("<int:pk>/patients/", views.group_patients, name="group_patients"),
    path("<int:pk>/patients/<int:patient_pk>/", views.group_patient, name="group_patient"),
    path("<int:pk>/patients/<int:patient_pk>/unmask/", views.group_patient_unmask, name="group_patient_unmask"),
]
