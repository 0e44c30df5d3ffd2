"""Django admin for the register: read-only, scoped, masked and audited (``core.admin.AuditedMaskedAdmin``).

Nothing of the register is written here. Registrations, case reports, suspected cases, transfers,
the supplement form, status changes and merges are made and corrected through the patients pages,
whose services check the national rules and audit each change.
"""

from __future__ import annotations

from django.contrib import admin

from xinqiao.core.admin import AuditedMaskedAdmin, ReadOnlyMaskedInline, masked
from xinqiao.patients.models import (
    CaseReport,
    Patient,
    PatientMerge,
    PersonalSupplement,
    StatusChange,
    SuspectedCase,
    SuspectedCaseEvent,
    Transfer,
)


@admin.register(Patient)
class PatientAdmin(AuditedMaskedAdmin):
    """Registered patients, with their person's identity masked. Corrections: the patient's own page."""

    list_display = ("register_number", "masked_name", "masked_id_number", "status", "source", "registered_on",
                    "managing_organisation", "township_code")
    list_select_related = ("person", "managing_organisation")
    list_filter = ("status", "source")
    search_fields = ("register_number",)
    personal_via = ("person",)

    masked_name = masked("name", via="person")
    masked_id_number = masked("id_number", via="person")


@admin.register(CaseReport)
class CaseReportAdmin(AuditedMaskedAdmin):
    """发病报告卡 as received; corrected through the case-report pages."""

    list_display = ("id", "masked_name", "masked_id_number", "report_type", "reporting_unit", "received_on",
                    "entered_on", "late", "township_code")
    list_select_related = ("person", "reporting_unit")
    list_filter = ("report_type", "late")
    personal_via = ("person",)

    masked_name = masked("name", via="person")
    masked_id_number = masked("id_number", via="person")


class SuspectedCaseEventInline(ReadOnlyMaskedInline):
    model = SuspectedCaseEvent


@admin.register(SuspectedCase)
class SuspectedCaseAdmin(AuditedMaskedAdmin):
    """Suspected cases found in the community; handled through the suspected-case pages."""

    list_display = ("id", "masked_name", "found_by", "discovered_on", "status", "referred_to", "township_code")
    list_select_related = ("person", "referred_to")
    list_filter = ("status", "found_by")
    personal_via = ("person",)
    inlines = (SuspectedCaseEventInline,)

    masked_name = masked("name", via="person")


@admin.register(Transfer)
class TransferAdmin(AuditedMaskedAdmin):
    """Transfers between regions; requested and decided through the transfer pages."""

    list_display = ("id", "patient", "status", "from_organisation", "to_organisation", "moved_on", "requested_at")
    list_select_related = ("patient", "from_organisation", "to_organisation")
    list_filter = ("status",)


@admin.register(PersonalSupplement)
class PersonalSupplementAdmin(AuditedMaskedAdmin):
    """个人信息补充表; filled in and corrected on the patient's page."""

    list_display = ("id", "patient", "filled_on", "updated_at", "township_code")
    list_select_related = ("patient",)


@admin.register(StatusChange)
class StatusChangeAdmin(AuditedMaskedAdmin):
    """The status history; changes are made through the patient's page, never rewritten."""

    list_display = ("id", "patient", "from_status", "to_status", "changed_on", "created_at")
    list_select_related = ("patient",)
    list_filter = ("to_status",)


@admin.register(PatientMerge)
class PatientMergeAdmin(AuditedMaskedAdmin):
    """Merges of duplicate registrations (the reason is not shown); made through the duplicates page.
    Reached through the kept person, as far as the administrator may view persons there."""

    list_display = ("id", "kept_person", "kept_patient", "dropped_register_number", "merged_by", "merged_at")
    list_select_related = ("kept_person", "kept_patient", "merged_by")
    scope_through = ("kept_person",)
    personal_via = ("kept_person",)
