"""Page routes of the patients app (namespace ``patients``). Every route is in the permission matrix
(``tests/security/routes_patients.py``)."""

from django.urls import path

from xinqiao.patients import views

app_name = "patients"

urlpatterns = [
    path("", views.patient_list, name="patient_list"),
    path("export/", views.patient_export, name="patient_export"),
    path("<int:pk>/", views.patient_detail, name="patient_detail"),
    path("<int:pk>/unmask/", views.patient_unmask, name="patient_unmask"),
    path("<int:pk>/status/", views.patient_status, name="patient_status"),
    path("<int:pk>/supplement/", views.supplement_edit, name="supplement_edit"),
    path("<int:pk>/transfer/", views.transfer_create, name="transfer_create"),
    path("transfers/", views.transfer_inbox, name="transfer_inbox"),
    path("transfers/<int:pk>/decide/", views.transfer_decide, name="transfer_decide"),
    path("case-reports/", views.case_report_list, name="case_report_list"),
    path("case-reports/new/", views.case_report_create, name="case_report_create"),
    path("case-reports/<int:pk>/enter/", views.case_report_enter, name="case_report_enter"),
    path("suspected/", views.suspected_list, name="suspected_list"),
    path("suspected/new/", views.suspected_create, name="suspected_create"),
    path("suspected/<int:pk>/", views.suspected_detail, name="suspected_detail"),
    path("suspected/<int:pk>/refer/", views.suspected_refer, name="suspected_refer"),
    path("suspected/<int:pk>/close/", views.suspected_close, name="suspected_close"),
    path("suspected/<int:pk>/confirm/", views.suspected_confirm, name="suspected_confirm"),
    path("duplicates/", views.duplicate_list, name="duplicate_list"),
    path("duplicates/merge/", views.merge, name="merge"),
]
