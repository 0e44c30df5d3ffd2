"""The register of patients with a severe mental disorder (规划 三(一); 意见 11).

A ``Patient`` is one person's registration in one region's register: identity lives on the linked
``core.Person`` (encrypted, blind-indexed, one per ID number across the deployment), the clinical
and management facts live here. The columns the work lists and partner scope filter on (status,
danger level, 肇事肇祸 history, next follow-up due, last classification, failed attempts) are kept
up to date by the follow-up services so that one indexed query answers a work list.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xinqiao.core.models import InRegion, Organisation, Person, RegionLevel
from xinqiao.core.scope import ScopedManager
from xinqiao.patients.codes import (
    Classification,
    DangerLevel,
    Diagnosis,
    PatientStatus,
    RegistrationSource,
)
from xinqiao.patients.rules import sharing_rule


class Patient(InRegion):
    """A registered patient, placed in the township of their home (where they are managed)."""

    required_region_level: ClassVar[int] = RegionLevel.TOWNSHIP
    #: Field → mask category (``core/data/field_masks.json``).
    PII_FIELDS: ClassVar[dict[str, str]] = {
        "diagnosis": "clinical.diagnosis",
        "icd10_code": "clinical.diagnosis",
        "danger_level": "risk.danger_level",
        "responsible_doctor": "care.responsible_doctor",
        "last_classification": "clinical.followup",
        "last_followup_date": "clinical.followup",
        "next_followup_due": "clinical.followup",
    }

    person = models.OneToOneField(Person, verbose_name=_("person"), on_delete=models.PROTECT,
                                  related_name="patient")
    register_number = models.CharField(_("register number"), max_length=32, unique=True)
    status = models.CharField(_("status"), max_length=16, choices=PatientStatus.choices,
                              default=PatientStatus.MANAGED)
    source = models.CharField(_("registered through"), max_length=16, choices=RegistrationSource.choices)
    registered_on = models.DateField(_("registered on"))
    diagnosis = models.CharField(_("diagnosis"), max_length=3, choices=Diagnosis.choices)
    icd10_code = models.CharField(_("ICD-10 code"), max_length=16)
    diagnosed_on = models.DateField(_("date of diagnosis"), null=True, blank=True)
    diagnosing_hospital = models.ForeignKey(
        Organisation, verbose_name=_("confirming hospital"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="diagnosed_patients",
    )
    managing_organisation = models.ForeignKey(
        Organisation, verbose_name=_("managing clinic"), on_delete=models.PROTECT, related_name="managed_patients",
    )
    responsible_doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("responsible doctor"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="responsible_patients",
    )
    danger_level = models.PositiveSmallIntegerField(_("danger level"), choices=DangerLevel.choices, default=0)
    incident_history = models.BooleanField(
        _("history of causing trouble or disaster"), default=False,
        help_text=_("肇事肇祸 at any time; shared with the township management group."),
    )
    # Kept current by the follow-up services (one indexed query per work list).
    last_followup_date = models.DateField(_("last follow-up"), null=True, blank=True)
    last_classification = models.PositiveSmallIntegerField(
        _("last classification"), choices=Classification.choices, null=True, blank=True,
    )
    next_followup_due = models.DateField(_("next follow-up due"), null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(
        _("failed follow-up attempts in a row"), default=0,
    )
    awaiting_first_visit_since = models.DateField(
        _("awaiting a first visit since"), null=True, blank=True,
        help_text=_("Set when newly reported or discharged; cleared by the first follow-up."),
    )
    status_changed_on = models.DateField(_("status since"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("registered patient")
        verbose_name_plural = _("registered patients")
        ordering: ClassVar = ["-registered_on", "-id"]
        permissions: ClassVar = [
            ("unmask_patient", "Can reveal unmasked patient data (audited)"),
            ("export_patient", "Can export patient lists (audited)"),
            ("merge_patient", "Can merge duplicate registrations (audited)"),
        ]
        indexes: ClassVar = [
            # Work lists: a doctor's or clinic's patients by due date.
            models.Index(fields=["managing_organisation", "status", "next_followup_due"], name="pat_org_due"),
            models.Index(fields=["responsible_doctor", "status", "next_followup_due"], name="pat_doctor_due"),
            models.Index(fields=["township_code", "status", "danger_level"], name="pat_town_danger"),
        ]

    def __str__(self) -> str:
        # Never the name: str() ends up in logs, admin messages and audit lines.
        return f"{self._meta.verbose_name} {self.register_number}"

    @staticmethod
    def scope_for_roles(qs: Any, user: Any) -> Any:
        """Partner agencies see only danger ≥3 or a 肇事肇祸 history (``data/sharing.json``)."""
        rule = sharing_rule()
        if not rule.is_partner_only(getattr(user, "role_codes", ())):
            return qs
        condition = Q(danger_level__gte=rule.min_danger_level)
        if rule.include_incident_history:
            condition |= Q(incident_history=True)
        return qs.filter(condition)
