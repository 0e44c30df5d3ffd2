"""FHIR routes (namespace ``fhir``)."""

from django.urls import path

from xinqiao.fhir import views

app_name = "fhir"

urlpatterns = [
    path("metadata", views.metadata, name="metadata"),
    path("Patient", views.patient_search, name="patient_search"),
    path("Patient/_search", views.patient_search, name="patient_search_post"),
    path("Patient/<str:pk>", views.patient_read, name="patient_read"),
]
