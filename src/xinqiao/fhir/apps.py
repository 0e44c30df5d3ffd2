"""App config for the FHIR facade."""

from django.apps import AppConfig


class FhirConfig(AppConfig):
    """FHIR R4 at /fhir/, built with the pinned ``fhir.resources`` models (R4B package)."""

    name = "xinqiao.fhir"
    label = "fhir"
    verbose_name = "FHIR"
