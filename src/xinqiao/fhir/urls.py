"""FHIR routes (namespace ``fhir``)."""

from django.urls import path

from xinqiao.fhir import views, views_screening

app_name = "fhir"

urlpatterns = [
    path("metadata", views.metadata, name="metadata"),
    path("Patient", views.patient_search, name="patient_search"),
    path("Patient/_search", views.patient_search, name="patient_search_post"),
    path("Patient/<str:pk>", views.patient_read, name="patient_read"),
    path("Questionnaire", views_screening.questionnaire_search, name="questionnaire_search"),
    path("Questionnaire/<str:pk>", views_screening.questionnaire_read, name="questionnaire_read"),
    path("QuestionnaireResponse/<str:pk>", views_screening.questionnaire_response_read,
         name="questionnaireresponse_read"),
    path("Observation/screening-<str:pk>", views_screening.screening_observation_read,
         name="screening_observation_read"),
]
