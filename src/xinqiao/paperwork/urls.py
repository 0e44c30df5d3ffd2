"""Page routes of the paperwork app (namespace ``paperwork``). Every route is in the permission matrix
(``tests/security/routes_paperwork.py``)."""

from django.urls import path

from xinqiao.paperwork import views

app_name = "paperwork"

urlpatterns: list = [
    path("imports/", views.import_home, name="import_home"),
    path("imports/<str:kind>/new/", views.import_upload, name="import_upload"),
    path("imports/<str:kind>/template.xlsx", views.import_template, name="import_template"),
    path("imports/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("imports/<int:pk>/report.xlsx", views.batch_report, name="batch_report"),
    path("patients/<int:pk>/", views.patient_print, name="patient_print"),
    path("patients/<int:pk>/supplement.pdf", views.supplement_pdf, name="supplement_pdf"),
    path("followups/<int:pk>/record.pdf", views.followup_pdf, name="followup_pdf"),
    path("forms/<str:form>/blank.pdf", views.blank_pdf, name="blank_pdf"),
]
