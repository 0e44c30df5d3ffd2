"""Two-way referrals (双向转诊) and emergency handling records (应急处置记录单).

Sources: 《严重精神障碍管理治疗工作规范（2018年版）》 (双向转诊; 应急处置 and its record within 24 hours);
``shared/DOMAIN.md`` §3–§5. The rules (states, deadlines, the 24-hour limit, the police threshold)
are in ``referrals/rules.py``; only ``referrals/services.py`` writes these rows.

Scope: a referral sits in its patient's township (``InRegion``); besides the users whose region
covers that township, the users of the sending and of the receiving organisation reach it (a county
hospital in another county must see what was sent to it). A referral opened automatically by a
follow-up (its decision includes ``refer``) keeps that follow-up in ``followup`` (and ``origin``
``followup:<id>``). An emergency sits in the township where it
happened; partner roles (police) see only those at or above the sharing threshold.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xinqiao.core.fields import EncryptedTextField
from xinqiao.core.models import InRegion, Organisation, Person, RegionLevel
from xinqiao.core.scope import ScopedManager, ScopedQuerySet, permission_for, region_filter
from xinqiao.patients.codes import DangerLevel, Diagnosis
from xinqiao.patients.models import Patient
from xinqiao.patients.rules import sharing_rule
from xinqiao.referrals.codes import (
    Direction,
    EmergencyEffect,
    EmergencyReason,
    EmergencyStatus,
    ReferralAction,
    ReferralState,
    ReporterRole,
    SubjectCategory,
    Urgency,
)

# --------------------------------------------------------------------------------------------------
# Referral
# --------------------------------------------------------------------------------------------------


class ReferralQuerySet(ScopedQuerySet["Referral"]):
    """``restrict`` = the region rule of ``core.scope`` OR the user's organisation sent or receives it."""

    def restrict(self, user: Any, action: str = "view") -> ReferralQuerySet:
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if not user.has_perm(permission_for(self.model, action)):
            return self.none()
        where = region_filter(user)
        if where is None:
            return self if user.is_superuser else self.none()
        condition = Q(**where)
        if user.organisation_id:
            condition |= Q(from_organisation_id=user.organisation_id) | Q(to_organisation_id=user.organisation_id)
        return self.filter(condition)


class ReferralManager(models.Manager.from_queryset(ReferralQuerySet)):  # type: ignore[misc]
    """Default manager of ``Referral`` exposing the widened ``restrict``."""


class Referral(InRegion):
    """One referral of a registered patient between a primary-care organisation and a psychiatric
    institution, placed in the patient's township."""

    required_region_level: ClassVar[int] = RegionLevel.TOWNSHIP
    #: The reason and the discharge summary are clinical (diagnosis, medication): masked per role.
    PII_FIELDS: ClassVar[dict[str, str]] = {
        "reason": "clinical.diagnosis",
        "discharge_summary": "clinical.medication",
        "decline_reason": "clinical.followup",
        "outcome_note": "clinical.followup",
    }

    patient = models.ForeignKey(Patient, verbose_name=_("patient"), on_delete=models.PROTECT,
                                related_name="referrals")
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices)
    from_organisation = models.ForeignKey(Organisation, verbose_name=_("referred from"), on_delete=models.PROTECT,
                                          related_name="referrals_sent")
    to_organisation = models.ForeignKey(Organisation, verbose_name=_("referred to"), on_delete=models.PROTECT,
                                        related_name="referrals_received")
    urgency = models.CharField(_("urgency"), max_length=8, choices=Urgency.choices, default=Urgency.ROUTINE)
    reason = EncryptedTextField(_("reason for referral"), blank=True)
    discharge_summary = EncryptedTextField(
        _("discharge summary"), blank=True,
        help_text=_("Outcome of the stay, medication guidance and rehabilitation measures (down referrals)."),
    )
    state = models.CharField(_("state"), max_length=12, choices=ReferralState.choices, default=ReferralState.SENT,
                             db_index=True)
    sent_at = models.DateTimeField(_("time sent"))
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("sent by"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    receive_due = models.DateField(_("to be received by"))
    received_at = models.DateTimeField(_("time received"), null=True, blank=True)
    complete_due = models.DateField(_("to be completed by"), null=True, blank=True)
    completed_at = models.DateTimeField(_("time completed"), null=True, blank=True)
    declined_at = models.DateTimeField(_("time declined"), null=True, blank=True)
    decline_reason = EncryptedTextField(_("reason for declining"), blank=True)
    outcome_note = EncryptedTextField(_("outcome"), blank=True)
    origin = models.CharField(
        _("started from"), max_length=32, blank=True,
        help_text=_("What prompted the referral, e.g. followup:<id> for a follow-up that classified the patient unstable."),
    )
    followup = models.ForeignKey(
        "followups.FollowUp", verbose_name=_("opened by follow-up"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="opened_referrals",
        help_text=_("The follow-up whose decision (unstable: refer) opened this referral automatically."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReferralManager()

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering: ClassVar = ["-sent_at", "-id"]
        permissions: ClassVar = [("export_referral", "Can export referral lists (audited)")]
        indexes: ClassVar = [
            models.Index(fields=["to_organisation", "state", "receive_due"], name="referral_in_due"),
            models.Index(fields=["from_organisation", "state"], name="referral_out"),
            models.Index(fields=["state", "receive_due"], name="referral_state_receive"),
            models.Index(fields=["state", "complete_due"], name="referral_state_complete"),
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} #{self.pk}"


class ReferralEvent(models.Model):
    """One step in a referral's history: sent, received, declined, completed (who and when)."""

    PII_FIELDS: ClassVar[dict[str, str]] = {"note": "clinical.followup"}

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("action"), max_length=12, choices=ReferralAction.choices)
    from_state = models.CharField(_("from"), max_length=12, choices=ReferralState.choices, blank=True)
    to_state = models.CharField(_("to"), max_length=12, choices=ReferralState.choices)
    at = models.DateTimeField(_("time"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True,
                           on_delete=models.SET_NULL, related_name="+")
    organisation = models.ForeignKey(Organisation, verbose_name=_("organisation"), null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    note = EncryptedTextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("referral step")
        verbose_name_plural = _("referral steps")
        ordering: ClassVar = ["referral_id", "at", "id"]
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.action} #{self.pk}"


# --------------------------------------------------------------------------------------------------
# Emergency handling record
# --------------------------------------------------------------------------------------------------


class EmergencyRecord(InRegion):
    """An 应急处置记录单: one emergency handled, placed in the township where it happened.

    The subject is a registered patient (``patient``), or else a person (``person``, e.g. a suspected
    case) or nobody identified. ``recorded_late`` is set when the record was entered more than the
    configured hours (24) after the event; ``police_notified_at`` when the township police were told.
    """

    required_region_level: ClassVar[int] = RegionLevel.TOWNSHIP
    #: Stays in the township where it happened when the patient moves (patients.services.move_patient_rows).
    moves_with_patient: ClassVar[bool] = False
    PII_FIELDS: ClassVar[dict[str, str]] = {
        "place": "contact.address",
        "danger_level": "risk.danger_level",
        "reason": "risk.danger_level",
        "measures": "clinical.followup",
        "effect": "clinical.followup",
        "narrative": "clinical.followup",
        "diagnosis": "clinical.diagnosis",
        "diagnosis_note": "clinical.diagnosis",
    }

    patient = models.ForeignKey(Patient, verbose_name=_("registered patient"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="emergencies")
    person = models.ForeignKey(Person, verbose_name=_("person"), null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    subject_category = models.PositiveSmallIntegerField(_("subject category"), choices=SubjectCategory.choices)
    occurred_at = models.DateTimeField(_("time of the event"), db_index=True)
    place = EncryptedTextField(_("place"), blank=True)
    danger_level = models.PositiveSmallIntegerField(_("danger level"), choices=DangerLevel.choices)
    reporter_role = models.PositiveSmallIntegerField(_("reported by"), choices=ReporterRole.choices)
    reason = models.PositiveSmallIntegerField(_("reason for handling"), choices=EmergencyReason.choices)
    measures = models.JSONField(_("main measures"), default=list)
    police_officers = EncryptedTextField(_("police officers"), blank=True)
    prevention_doctors = EncryptedTextField(_("community mental-health doctors"), blank=True)
    psychiatrists = EncryptedTextField(_("psychiatrists"), blank=True)
    diagnosis = models.CharField(_("diagnosis"), max_length=3, choices=Diagnosis.choices, blank=True)
    diagnosis_note = EncryptedTextField(_("diagnosis (other or details)"), blank=True)
    effect = models.PositiveSmallIntegerField(_("effect of the handling"), choices=EmergencyEffect.choices)
    narrative = EncryptedTextField(_("course of events"), blank=True)
    organisation = models.ForeignKey(Organisation, verbose_name=_("recording organisation"), null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(_("recorded"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    record_due = models.DateTimeField(_("to be recorded by"))
    recorded_late = models.BooleanField(_("recorded late"), default=False, db_index=True)
    police_notified_at = models.DateTimeField(_("police informed"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=EmergencyStatus.choices,
                              default=EmergencyStatus.OPEN, db_index=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("closed by"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")

    objects = ScopedManager()

    class Meta:
        verbose_name = _("emergency handling record")
        verbose_name_plural = _("emergency handling records")
        ordering: ClassVar = ["-occurred_at", "-id"]
        permissions: ClassVar = [("export_emergencyrecord", "Can export emergency records (audited)")]
        indexes: ClassVar = [
            models.Index(fields=["county_code", "status", "occurred_at"], name="emergency_board"),
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} #{self.pk}"

    @staticmethod
    def scope_for_roles(qs: Any, user: Any) -> Any:
        """Partner agencies (police) see the emergencies at or above the sharing threshold, or of a
        patient with a 肇事肇祸 history (``patients/data/sharing.json``, DOMAIN.md §7)."""
        rule = sharing_rule()
        if not rule.is_partner_only(getattr(user, "role_codes", ())):
            return qs
        condition = Q(danger_level__gte=rule.min_danger_level)
        if rule.include_incident_history:
            condition |= Q(patient__incident_history=True)
        return qs.filter(condition)
