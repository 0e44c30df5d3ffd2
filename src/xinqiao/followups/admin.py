"""Django admin for follow-ups: the records are read-only, scoped, masked and audited; the medication
catalogue (reference data) is editable by staff holding its permission, every write audited.

Follow-ups, health checks and discharge records are entered and corrected through the follow-up
pages (a correction keeps a ``FollowUpRevision``), never here.
"""

from __future__ import annotations

from django.contrib import admin

from xinqiao.core.admin import AuditedEditAdmin, AuditedMaskedAdmin, ReadOnlyMaskedInline, masked
from xinqiao.followups.models import (
    DischargeMedication,
    DischargeRecord,
    FollowUp,
    FollowUpMedication,
    FollowUpParticipant,
    FollowUpRevision,
    HealthCheck,
    MedicationCatalogue,
)


class _MedicationInline(ReadOnlyMaskedInline):
    """Medication lines: every column is clinical, so all of them go through ``present``."""

    fields = ("masked_drug", "masked_times", "masked_period", "masked_dose", "masked_unit")
    readonly_fields = fields

    masked_drug = masked("drug_name")
    masked_times = masked("times")
    masked_period = masked("period")
    masked_dose = masked("dose")
    masked_unit = masked("unit")


class FollowUpMedicationInline(_MedicationInline):
    model = FollowUpMedication


class DischargeMedicationInline(_MedicationInline):
    model = DischargeMedication


class FollowUpParticipantInline(ReadOnlyMaskedInline):
    model = FollowUpParticipant
    fields = ("user", "masked_role", "masked_name")
    readonly_fields = fields

    masked_role = masked("role")
    masked_name = masked("name")


@admin.register(FollowUp)
class FollowUpAdmin(AuditedMaskedAdmin):
    """Follow-up visits; corrected through the follow-up pages (which keep the revision)."""

    list_display = ("id", "patient", "masked_date", "masked_outcome", "doctor", "organisation", "created_at")
    list_select_related = ("patient", "doctor", "organisation")
    inlines = (FollowUpParticipantInline, FollowUpMedicationInline)

    masked_date = masked("followup_date")
    masked_outcome = masked("outcome")


@admin.register(HealthCheck)
class HealthCheckAdmin(AuditedMaskedAdmin):
    """Yearly health checks; entered and corrected through the follow-up pages."""

    list_display = ("id", "patient", "masked_date", "done_by", "organisation", "created_at")
    list_select_related = ("patient", "done_by", "organisation")

    masked_date = masked("check_date")


@admin.register(DischargeRecord)
class DischargeRecordAdmin(AuditedMaskedAdmin):
    """Discharge information from hospitals; entered and corrected through the follow-up pages."""

    list_display = ("id", "patient", "hospital", "masked_discharge_date", "reported_on", "late")
    list_select_related = ("patient", "hospital")
    list_filter = ("late",)
    inlines = (DischargeMedicationInline,)

    masked_discharge_date = masked("discharge_date")


@admin.register(MedicationCatalogue)
class MedicationCatalogueAdmin(AuditedEditAdmin):
    """The drugs offered on the forms (national reference data, no personal data). Seeded from
    ``data/medications.json``; staff with the model permission may correct or retire an entry."""

    list_display = ("generic_name_zh", "generic_name_en", "atc_code", "drug_class", "long_acting", "active")
    list_filter = ("drug_class", "long_acting", "active")
    search_fields = ("generic_name_zh", "generic_name_en", "atc_code")


@admin.register(FollowUpRevision)
class FollowUpRevisionAdmin(AuditedMaskedAdmin):
    """Corrections of follow-ups, reached through the follow-up and its patient; the previous values
    are encrypted and not shown. Corrections are made through the follow-up pages only."""

    list_display = ("id", "followup", "number", "changed", "created_by", "created_at")
    list_select_related = ("followup", "created_by")
    scope_through = ("followup", "followup__patient")
