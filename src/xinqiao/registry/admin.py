"""Django admin for the service-network registry.

- Institutions, applications, evaluations and sanctions are read-only and scoped: they change only
  through the registry's workflow (applications, reviews, decisions), which keeps each version.
- Practitioners and complaints hold personal data: read-only, scoped, masked and audited. A
  credential number is shown masked; a complaint's description and its reference (the complainant's
  key to its status) are not shown.
- Regional figures (the denominators of coverage) are reference data: staff holding the model
  permission may edit those of their own region here, every write audited.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from xinqiao.core.admin import (
    AuditedEditAdmin,
    AuditedMaskedAdmin,
    ReadOnlyAdmin,
    ReadOnlyMaskedInline,
    ScopedReadOnlyAdmin,
    masked,
)
from xinqiao.core.scope import in_scope, region_filter
from xinqiao.registry.models import (
    Complaint,
    Credential,
    Evaluation,
    ImportBatch,
    Institution,
    LookupCount,
    Practitioner,
    RegionStatistic,
    RegistrationApplication,
    Sanction,
)


@admin.register(Institution)
class InstitutionAdmin(ScopedReadOnlyAdmin):
    """Registered institutions in the administrator's region; changed through applications only."""

    list_display = ("registration_number", "organisation", "kind", "status", "version", "region")
    list_select_related = ("organisation", "region")
    list_filter = ("kind", "status")
    search_fields = ("registration_number",)


@admin.register(RegistrationApplication)
class RegistrationApplicationAdmin(ScopedReadOnlyAdmin):
    """Applications to register or change an institution; reviewed and decided on the registry pages."""

    list_display = ("id", "kind", "institution", "applicant_organisation", "status", "recommendation",
                    "submitted_at")
    list_select_related = ("institution", "applicant_organisation")
    list_filter = ("kind", "status")


@admin.register(Evaluation)
class EvaluationAdmin(ScopedReadOnlyAdmin):
    """Evaluations of institutions; carried out on the oversight pages."""

    list_display = ("id", "institution", "kind", "status", "percent", "grade", "visited_on")
    list_select_related = ("institution",)
    list_filter = ("kind", "status")


@admin.register(Sanction)
class SanctionAdmin(ScopedReadOnlyAdmin):
    """Sanctions; proposed and decided on the oversight pages."""

    list_display = ("id", "institution", "practitioner", "kind", "status", "effective_from", "ends_on")
    list_select_related = ("institution", "practitioner")
    list_filter = ("kind", "status")


class CredentialInline(ReadOnlyMaskedInline):
    model = Credential
    fields = ("type_code", "masked_number", "issuer", "issue_date", "expiry_date", "revoked_at")
    readonly_fields = fields

    masked_number = masked("number")


@admin.register(Practitioner)
class PractitionerAdmin(AuditedMaskedAdmin):
    """Practitioners with their credentials, names and numbers masked; kept through the registry pages."""

    list_display = ("id", "masked_name", "profession", "status", "township_code", "updated_at")
    list_filter = ("profession", "status")
    inlines = (CredentialInline,)

    masked_name = masked("name")


@admin.register(Complaint)
class ComplaintAdmin(AuditedMaskedAdmin):
    """Complaints, the complainant masked; handled on the oversight pages."""

    list_display = ("id", "institution", "category", "masked_name", "status", "received_at", "closed_at")
    list_select_related = ("institution",)
    list_filter = ("category", "status")
    hidden_fields = ("reference",)

    masked_name = masked("complainant_name")


@admin.register(LookupCount)
class LookupCountAdmin(ReadOnlyAdmin):
    """Daily counts of public credential look-ups."""

    list_display = ("day", "channel", "outcome", "count")
    list_filter = ("channel", "outcome")


@admin.register(ImportBatch)
class RegistryImportBatchAdmin(ReadOnlyAdmin):
    """Imported registry workbooks (counts only); imports go through the registry pages."""

    list_display = ("id", "file_name", "user", "institutions", "practitioners", "credentials", "created_at")
    list_select_related = ("user",)
    exclude = ("form_key",)


class RegionStatisticForm(forms.ModelForm):
    """A figure may be entered only for a region inside the administrator's own."""

    user: Any = None

    class Meta:
        model = RegionStatistic
        fields = ("region", "year", "measure", "value", "source")

    def clean_region(self) -> Any:
        region = self.cleaned_data["region"]
        if region is not None and self.user is not None and not in_scope(self.user, region.code):
            raise forms.ValidationError(_("A figure may be entered only for a region inside your own."),
                                        code="out_of_scope")
        return region


@admin.register(RegionStatistic)
class RegionStatisticAdmin(AuditedEditAdmin):
    """Population and survey figures per region and year (the denominators of coverage, with their
    source). Staff holding the model permission edit those of their own region; every write is audited."""

    form = RegionStatisticForm
    list_display = ("region", "measure", "year", "value", "source")
    list_select_related = ("region",)
    list_filter = ("measure", "year")
    search_fields = ("region__code", "region__name")
    autocomplete_fields = ("region",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[RegionStatistic]:
        qs = super().get_queryset(request)
        user: Any = request.user
        where = region_filter(user)
        if where is None:
            return qs if user.is_superuser else qs.none()
        return qs.filter(**where)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"user": request.user})
