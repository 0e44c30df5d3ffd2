"""Page routes of the registry app (namespace ``registry``, staff, sign-in required). Every route is
declared in ``tests/security/routes_registry.py``."""

from django.urls import path

from xinqiao.registry.views import institutions, oversight, people

app_name = "registry"

urlpatterns: list = [
    path("", institutions.home, name="home"),
    path("institutions/", institutions.institution_list, name="institution_list"),
    path("institutions/<int:pk>/", institutions.institution_detail, name="institution_detail"),
    path("institutions/<int:pk>/change/", institutions.institution_change, name="institution_change"),
    path("institutions/<int:pk>/designate/", institutions.institution_designate, name="institution_designate"),
    path("institutions/<int:pk>/evaluations/new/", oversight.evaluation_create, name="evaluation_create"),
    path("applications/", institutions.application_list, name="application_list"),
    path("applications/new/", institutions.application_create, name="application_create"),
    path("applications/<int:pk>/", institutions.application_detail, name="application_detail"),
    path("applications/<int:pk>/transition/", institutions.application_transition, name="application_transition"),
    path("practitioners/", people.practitioner_list, name="practitioner_list"),
    path("practitioners/new/", people.practitioner_create, name="practitioner_create"),
    path("practitioners/<int:pk>/", people.practitioner_detail, name="practitioner_detail"),
    path("practitioners/<int:pk>/credentials/", people.credential_add, name="credential_add"),
    path("practitioners/<int:pk>/training/", people.training_add, name="training_add"),
    path("credentials/<int:pk>/revoke/", people.credential_revoke, name="credential_revoke"),
    path("evaluations/<int:pk>/", oversight.evaluation_detail, name="evaluation_detail"),
    path("evaluations/<int:pk>/scores/", oversight.evaluation_score, name="evaluation_score"),
    path("evaluations/<int:pk>/findings/", oversight.finding_add, name="finding_add"),
    path("findings/<int:pk>/transition/", oversight.finding_transition, name="finding_transition"),
    path("complaints/", oversight.complaint_list, name="complaint_list"),
    path("complaints/<int:pk>/", oversight.complaint_detail, name="complaint_detail"),
    path("complaints/<int:pk>/unmask/", oversight.complaint_unmask, name="complaint_unmask"),
    path("complaints/<int:pk>/transition/", oversight.complaint_transition, name="complaint_transition"),
    path("sanctions/", oversight.sanction_list, name="sanction_list"),
    path("sanctions/new/", oversight.sanction_create, name="sanction_create"),
    path("sanctions/<int:pk>/", oversight.sanction_detail, name="sanction_detail"),
    path("sanctions/<int:pk>/transition/", oversight.sanction_transition, name="sanction_transition"),
    path("import/", institutions.import_upload, name="import_upload"),
    path("import/template.xlsx", institutions.import_template, name="import_template"),
    path("coverage/", institutions.coverage, name="coverage"),
    path("lookups/", institutions.lookup_counts, name="lookup_counts"),
]
__all__ = ["path", "urlpatterns"]
