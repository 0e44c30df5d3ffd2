"""Follow-up of registered patients: the 随访服务记录表, joint visits, medication, health checks, discharges.

Source: 《国家基本公共卫生服务规范（第三版）》(2017) 严重精神障碍患者管理服务规范 and its 随访服务记录表
(every field and code of ``shared/DOMAIN.md`` §4), the annual health check (DOMAIN.md §3) and the
national system's 出院单 (discharge form; DOMAIN.md §4–5: within 10 working days of discharge, the
home clinic is told and starts follow-ups).

- ``FollowUp``: one follow-up — a visit, a failed attempt (未访到, with the reason), or the finding
  that the patient has died. A visit keeps both what the rules engine (``rules.py``) proposed and
  what the doctor decided (an override needs a stated reason).
- ``FollowUpParticipant``: who took part in a joint follow-up (doctor, police, village cadre, family).
- ``MedicationCatalogue`` (reference data, ``data/medications.json``) and ``FollowUpMedication`` /
  ``DischargeMedication`` (用药情况 / 用药指导: drug, times per day or month, dose).
- ``HealthCheck``: the annual health check, with consent.
- ``DischargeRecord``: a hospital's discharge form; it notifies the home clinic.
- ``FollowUpRevision``: the state of a follow-up before each correction (``corrections.py``), with
  the stated reason, who and when.

Each record sits in the patient's township (``InRegion``). Only ``followups.services`` writes them
(H6's synthetic histories insert in bulk). Field names are stable: the PDF print, the Excel import
and the synthetic generator use them.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xinqiao.core.fields import EncryptedTextField
from xinqiao.core.models import InRegion, Organisation, RegionLevel
from xinqiao.core.scope import ScopedManager
from xinqiao.followups.codes import (
    DoseUnit,
    DrugClass,
    EcgResult,
    FrequencyPeriod,
    Outcome,
    ParticipantRole,
    Presence,
    YesNo,
)
from xinqiao.patients.codes import (
    Adherence,
    Classification,
    DangerLevel,
    DeathCause,
    Diagnosis,
    FollowUpMethod,
    HospitalStatus,
    Insight,
    LatestTreatmentEffect,
    LockStatus,
    LossReason,
    PhysicalDeathCause,
    Rating,
    TreatmentEffect,
)
from xinqiao.patients.models import Patient

#: The 危险行为 counts since the last visit, one per ``DangerBehaviour`` code (as on the supplement).
BEHAVIOUR_COUNT_FIELDS: tuple[str, ...] = (
    "minor_trouble_count", "trouble_count", "disaster_count", "other_harm_count", "self_harm_count",
    "suicide_attempt_count",
)
#: The counts that make a 肇事肇祸 history (DOMAIN.md §7).
INCIDENT_COUNT_FIELDS: tuple[str, ...] = ("trouble_count", "disaster_count")
#: The five social-function items (``patients.codes.SOCIAL_FUNCTION_ITEMS``).
SOCIAL_FUNCTION_FIELDS: tuple[str, ...] = ("self_care", "housework", "work", "study", "social")

_FOLLOWUP = "clinical.followup"
_MEDICATION = "clinical.medication"


def _rating(label: Any, *, allow_na: bool = False) -> models.PositiveSmallIntegerField:
    choices = [*Rating.choices, (9, _("not applicable"))] if allow_na else Rating.choices
    return models.PositiveSmallIntegerField(label, choices=choices, null=True, blank=True)


class FollowUp(InRegion):
    """随访服务记录表: one follow-up of a registered patient (《国家基本公共卫生服务规范（第三版）》).

    ``outcome`` says what came of it. A visit (``visited``) fills the assessment; the engine's
    proposal is kept in ``proposed_*`` and the doctor's decision in ``classification`` and
    ``next_followup_date`` (``override_reason`` when they differ). A failed attempt
    (``not_reached``) records why (``not_reached_reason``) and, where the doctor declares the
    patient lost, the 失访原因 (``loss_reason``). ``dead`` records the date and cause of death.
    """

    required_region_level: ClassVar[int] = RegionLevel.TOWNSHIP
    #: Field → mask category (``core/data/field_masks.json``). Partner roles hold no follow-up permission.
    PII_FIELDS: ClassVar[dict[str, str]] = {
        "followup_date": _FOLLOWUP,
        "outcome": _FOLLOWUP,
        "method": _FOLLOWUP,
        "not_reached_reason": _FOLLOWUP,
        "loss_reason": _FOLLOWUP,
        "death_date": _FOLLOWUP,
        "death_cause": _FOLLOWUP,
        "physical_death_cause": _FOLLOWUP,
        "danger_level": "risk.danger_level",
        "symptoms": _FOLLOWUP,
        "symptoms_marked": _FOLLOWUP,
        "symptoms_other": _FOLLOWUP,
        "insight": _FOLLOWUP,
        "sleep": _FOLLOWUP,
        "diet": _FOLLOWUP,
        **dict.fromkeys(SOCIAL_FUNCTION_FIELDS, _FOLLOWUP),
        **dict.fromkeys(BEHAVIOUR_COUNT_FIELDS, _FOLLOWUP),
        "lock_status": _FOLLOWUP,
        "hospital_status": _FOLLOWUP,
        "last_discharge_date": _FOLLOWUP,
        "lab_tests": _FOLLOWUP,
        "lab_tests_text": _FOLLOWUP,
        "adherence": _MEDICATION,
        "adverse_reaction": _MEDICATION,
        "adverse_reaction_text": _MEDICATION,
        "adverse_reaction_serious": _MEDICATION,
        "physical_illness_serious": _FOLLOWUP,
        "physical_illness_text": _FOLLOWUP,
        "treatment_effect": _FOLLOWUP,
        "referral": _FOLLOWUP,
        "referral_reason": _FOLLOWUP,
        "referral_institution": _FOLLOWUP,
        "referral_department": _FOLLOWUP,
        "rehab_measures": _FOLLOWUP,
        "rehab_other": _FOLLOWUP,
        "proposed_classification": _FOLLOWUP,
        "classification": _FOLLOWUP,
        "proposed_next_date": _FOLLOWUP,
        "next_followup_date": _FOLLOWUP,
        "proposed_actions": _FOLLOWUP,
        "actions": _FOLLOWUP,
        "override_reason": _FOLLOWUP,
        "needs_referral": _FOLLOWUP,
        "police_notified": _FOLLOWUP,
    }

    patient = models.ForeignKey(Patient, verbose_name=_("patient"), on_delete=models.PROTECT, related_name="followups")
    followup_date = models.DateField(_("follow-up date"))
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, default=Outcome.VISITED)
    method = models.PositiveSmallIntegerField(_("follow-up method"), choices=FollowUpMethod.choices,
                                              null=True, blank=True)
    # 未访到 / 失访
    not_reached_reason = EncryptedTextField(_("why the patient was not reached"), blank=True)
    loss_reason = models.PositiveSmallIntegerField(_("reason lost to follow-up"), choices=LossReason.choices,
                                                   null=True, blank=True)
    # 死亡
    death_date = models.DateField(_("date of death"), null=True, blank=True)
    death_cause = models.PositiveSmallIntegerField(_("cause of death"), choices=DeathCause.choices,
                                                   null=True, blank=True)
    physical_death_cause = models.PositiveSmallIntegerField(_("physical illness"), choices=PhysicalDeathCause.choices,
                                                            null=True, blank=True)
    # 危险性, 症状, 自知力, 睡眠, 饮食
    danger_level = models.PositiveSmallIntegerField(_("danger level"), choices=DangerLevel.choices,
                                                    null=True, blank=True)
    symptoms = models.JSONField(_("current symptoms"), default=list, blank=True,
                                help_text=_("Codes 1–12 of the current symptoms; empty for none."))
    symptoms_marked = models.BooleanField(_("marked psychotic symptoms"), default=False)
    symptoms_other = EncryptedTextField(_("other symptoms"), blank=True)
    insight = models.PositiveSmallIntegerField(_("insight"), choices=Insight.choices, null=True, blank=True)
    sleep = _rating(_("sleep"))
    diet = _rating(_("diet"))
    # 社会功能
    self_care = _rating(_("personal self-care"))
    housework = _rating(_("housework"))
    work = _rating(_("productive work"), allow_na=True)
    study = _rating(_("learning ability"))
    social = _rating(_("social contact"))
    # 危险行为 since the last visit
    minor_trouble_count = models.PositiveSmallIntegerField(_("minor trouble-making (轻度滋事)"), default=0)
    trouble_count = models.PositiveSmallIntegerField(_("causing trouble (肇事)"), default=0)
    disaster_count = models.PositiveSmallIntegerField(_("causing a disaster (肇祸)"), default=0)
    other_harm_count = models.PositiveSmallIntegerField(_("other harmful behaviour"), default=0)
    self_harm_count = models.PositiveSmallIntegerField(_("self-harm"), default=0)
    suicide_attempt_count = models.PositiveSmallIntegerField(_("attempted suicide"), default=0)
    # 关锁, 住院, 实验室检查
    lock_status = models.PositiveSmallIntegerField(_("locked up"), choices=LockStatus.choices, null=True, blank=True)
    hospital_status = models.PositiveSmallIntegerField(_("hospitalisation"), choices=HospitalStatus.choices,
                                                       null=True, blank=True)
    last_discharge_date = models.DateField(_("last discharge"), null=True, blank=True)
    lab_tests = models.PositiveSmallIntegerField(_("laboratory tests"), choices=Presence.choices, null=True, blank=True)
    lab_tests_text = EncryptedTextField(_("laboratory results"), blank=True)
    # 服药依从性, 药物不良反应, 躯体疾病, 治疗效果
    adherence = models.PositiveSmallIntegerField(_("medication adherence"), choices=Adherence.choices,
                                                 null=True, blank=True)
    adverse_reaction = models.PositiveSmallIntegerField(_("adverse drug reaction"), choices=Presence.choices,
                                                        null=True, blank=True)
    adverse_reaction_text = EncryptedTextField(_("adverse reaction"), blank=True)
    adverse_reaction_serious = models.BooleanField(_("serious adverse drug reaction"), default=False)
    physical_illness_serious = models.BooleanField(_("serious physical illness"), default=False)
    physical_illness_text = EncryptedTextField(_("physical illness"), blank=True)
    treatment_effect = models.PositiveSmallIntegerField(_("treatment effect"), choices=TreatmentEffect.choices,
                                                        null=True, blank=True)
    # 转诊
    referral = models.PositiveSmallIntegerField(_("referred"), choices=YesNo.choices, null=True, blank=True)
    referral_reason = EncryptedTextField(_("reason for referral"), blank=True)
    referral_institution = models.CharField(_("referred to (institution)"), max_length=128, blank=True)
    referral_department = models.CharField(_("referred to (department)"), max_length=64, blank=True)
    # 康复措施
    rehab_measures = models.JSONField(_("rehabilitation measures"), default=list, blank=True,
                                      help_text=_("Codes 1–5 of the rehabilitation measures."))
    rehab_other = EncryptedTextField(_("other rehabilitation measure"), blank=True)
    # 本次随访分类 and 下次随访日期: the engine's proposal and the doctor's decision
    previous_classification = models.PositiveSmallIntegerField(
        _("previous classification"), choices=Classification.choices, null=True, blank=True,
        help_text=_("The classification of the patient's visit before this one, as the rules used it."))
    proposed_classification = models.PositiveSmallIntegerField(
        _("proposed classification"), choices=Classification.choices, null=True, blank=True)
    classification = models.PositiveSmallIntegerField(_("classification"), choices=Classification.choices,
                                                      null=True, blank=True)
    proposed_next_date = models.DateField(_("proposed next follow-up"), null=True, blank=True)
    next_followup_date = models.DateField(_("next follow-up"), null=True, blank=True)
    proposed_actions = models.JSONField(_("proposed actions"), default=list, blank=True)
    actions = models.JSONField(_("actions"), default=list, blank=True)
    override_reason = EncryptedTextField(_("reason for departing from the proposal"), blank=True)
    needs_referral = models.BooleanField(_("needs referral"), default=False,
                                         help_text=_("The rules call for a referral to a psychiatric institution."))
    police_notified = models.BooleanField(_("police informed"), default=False)
    # 随访医生
    doctor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("follow-up doctor"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    doctor_name = models.CharField(_("follow-up doctor (name)"), max_length=64, blank=True,
                                   help_text=_("Only for records imported from paper or an earlier system."))
    organisation = models.ForeignKey(Organisation, verbose_name=_("clinic"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    submission_key = models.CharField(max_length=160, null=True, blank=True, unique=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering: ClassVar = ["-followup_date", "-id"]
        permissions: ClassVar = [("export_followup", "Can export follow-ups (audited)")]
        indexes: ClassVar = [
            models.Index(fields=["patient", "followup_date"], name="followup_patient_date"),
            models.Index(fields=["county_code", "followup_date"], name="followup_county_date"),
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} #{self.pk}"

    @property
    def overridden(self) -> bool:
        """Whether the doctor departed from the engine's proposal."""
        return self.outcome == Outcome.VISITED and (
            self.classification != self.proposed_classification or self.next_followup_date != self.proposed_next_date)



class FollowUpRevision(models.Model):
    """One correction of a follow-up: what the follow-up held before it, why it was corrected, by whom.

    Revision ``number`` 1 keeps the values as first recorded; the follow-up row itself always holds
    the current values. ``data`` is the snapshot (the follow-up's fields, medication lines and
    participants as JSON), encrypted like the follow-up's free text because it holds the same
    clinical content; ``changed`` holds field names only. Reached only through its follow-up (no
    region of its own); pages show it field by field, masked as the follow-up (``views.history``).
    The raw snapshot holds medication too, so it is declared with the narrower medication category.
    """

    PII_FIELDS: ClassVar[dict[str, str]] = {"data": _MEDICATION, "reason": _FOLLOWUP}

    followup = models.ForeignKey(FollowUp, verbose_name=_("follow-up"), on_delete=models.CASCADE,
                                 related_name="revisions")
    number = models.PositiveIntegerField(_("revision"))
    data = EncryptedTextField(_("previous values"))
    changed = models.JSONField(_("changed fields"), default=list)
    reason = EncryptedTextField(_("reason for the correction"))
    submission_key = models.CharField(max_length=160, null=True, blank=True, unique=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("corrected by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("corrected at"), auto_now_add=True)

    class Meta:
        verbose_name = _("follow-up revision")
        verbose_name_plural = _("follow-up revisions")
        ordering: ClassVar = ["followup_id", "-number"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["followup", "number"], name="followup_revision_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} #{self.followup_id}.{self.number}"

    @property
    def values(self) -> dict[str, Any]:
        """The snapshot as a dict (decrypted from ``data``)."""
        loaded: dict[str, Any] = json.loads(self.data) if self.data else {}
        return loaded

class FollowUpParticipant(models.Model):
    """One participant of a joint follow-up (联合随访): a user of the platform or a named person.

    Reached only through its follow-up (no region of its own). A free-text name (a family member,
    a village cadre without an account) is encrypted.
    """

    PII_FIELDS: ClassVar[dict[str, str]] = {"role": "care.management", "name": "care.management"}

    followup = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="participants")
    role = models.CharField(_("role"), max_length=16, choices=ParticipantRole.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    name = EncryptedTextField(_("name"), blank=True)

    class Meta:
        verbose_name = _("follow-up participant")
        verbose_name_plural = _("follow-up participants")
        ordering: ClassVar = ["id"]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} #{self.pk}"


class MedicationCatalogue(models.Model):
    """A drug that can be picked on the forms: common antipsychotics and mood stabilisers.

    Reference data, no personal data: seeded from ``data/medications.json`` (generic names as in
    the 国家基本药物目录 / WHO ATC index), kept current with ``services.load_medication_catalogue``.
    """

    generic_name_zh = models.CharField(_("generic name (Chinese)"), max_length=64, unique=True)
    generic_name_en = models.CharField(_("generic name (English)"), max_length=96)
    atc_code = models.CharField(_("ATC code"), max_length=8)
    drug_class = models.CharField(_("drug class"), max_length=16, choices=DrugClass.choices)
    long_acting = models.BooleanField(_("long-acting injectable"), default=False)
    default_unit = models.CharField(_("usual unit"), max_length=8, choices=DoseUnit.choices, default=DoseUnit.MG)
    default_period = models.CharField(_("usual period"), max_length=8, choices=FrequencyPeriod.choices,
                                      default=FrequencyPeriod.DAY)
    active = models.BooleanField(_("offered on the forms"), default=True)

    class Meta:
        verbose_name = _("medication")
        verbose_name_plural = _("medication catalogue")
        ordering: ClassVar = ["drug_class", "long_acting", "generic_name_zh"]

    def __str__(self) -> str:
        return self.generic_name_zh


class MedicationLine(models.Model):
    """用药情况 / 用药指导: one drug, how often (每日(月) X 次) and each dose."""

    PII_FIELDS: ClassVar[dict[str, str]] = {
        "drug_name": _MEDICATION, "times": _MEDICATION, "period": _MEDICATION, "dose": _MEDICATION,
        "unit": _MEDICATION,
    }

    drug = models.ForeignKey(MedicationCatalogue, verbose_name=_("drug"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    drug_name = models.CharField(_("drug name"), max_length=64,
                                 help_text=_("From the catalogue, or as written for a drug not in it."))
    times = models.PositiveSmallIntegerField(_("times"))
    period = models.CharField(_("per"), max_length=8, choices=FrequencyPeriod.choices, default=FrequencyPeriod.DAY)
    dose = models.DecimalField(_("dose"), max_digits=8, decimal_places=2)
    unit = models.CharField(_("unit"), max_length=8, choices=DoseUnit.choices, default=DoseUnit.MG)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} #{self.pk}"


class FollowUpMedication(MedicationLine):
    """用药情况 of a follow-up (reached only through its follow-up)."""

    followup = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="medications")

    class Meta:
        verbose_name = _("follow-up medication")
        verbose_name_plural = _("follow-up medications")
        ordering: ClassVar = ["id"]


class HealthCheck(InRegion):
    """The annual health check of a managed patient, with consent (DOMAIN.md §3: general exam, blood
    pressure, weight, blood count, ALT, glucose, ECG; 《国家基本公共卫生服务规范（第三版）》 健康体检).

    Without consent (``consent`` false) only the refusal is recorded.
    """

    required_region_level: ClassVar[int] = RegionLevel.TOWNSHIP
    PII_FIELDS: ClassVar[dict[str, str]] = {
        "check_date": _FOLLOWUP, "consent": _FOLLOWUP, "general_exam": _FOLLOWUP, "systolic_bp": _FOLLOWUP,
        "diastolic_bp": _FOLLOWUP, "weight_kg": _FOLLOWUP, "height_cm": _FOLLOWUP, "blood_count": _FOLLOWUP,
        "alt": _FOLLOWUP, "glucose": _FOLLOWUP, "ecg": _FOLLOWUP, "ecg_text": _FOLLOWUP, "note": _FOLLOWUP,
    }

    patient = models.ForeignKey(Patient, verbose_name=_("patient"), on_delete=models.PROTECT,
                                related_name="health_checks")
    check_date = models.DateField(_("date of the check"))
    consent = models.BooleanField(_("patient or guardian consented"), default=True)
    general_exam = EncryptedTextField(_("general examination"), blank=True)
    systolic_bp = models.PositiveSmallIntegerField(_("systolic blood pressure (mmHg)"), null=True, blank=True)
    diastolic_bp = models.PositiveSmallIntegerField(_("diastolic blood pressure (mmHg)"), null=True, blank=True)
    weight_kg = models.DecimalField(_("weight (kg)"), max_digits=5, decimal_places=1, null=True, blank=True)
    height_cm = models.DecimalField(_("height (cm)"), max_digits=4, decimal_places=1, null=True, blank=True)
    blood_count = EncryptedTextField(_("blood count"), blank=True)
    alt = models.DecimalField(_("ALT (U/L)"), max_digits=6, decimal_places=1, null=True, blank=True)
    glucose = models.DecimalField(_("fasting glucose (mmol/L)"), max_digits=4, decimal_places=1, null=True, blank=True)
    ecg = models.PositiveSmallIntegerField(_("ECG"), choices=EcgResult.choices, null=True, blank=True)
    ecg_text = EncryptedTextField(_("ECG findings"), blank=True)
    note = EncryptedTextField(_("note"), blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True,
                                on_delete=models.SET_NULL, related_name="+")
    organisation = models.ForeignKey(Organisation, verbose_name=_("clinic"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    submission_key = models.CharField(max_length=160, null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("health check")
        verbose_name_plural = _("health checks")
        ordering: ClassVar = ["-check_date", "-id"]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} #{self.pk}"


class DischargeRecord(InRegion):
    """出院单: a hospital's discharge information for a registered patient (DOMAIN.md §4–5).

    Due within 10 working days of discharge (``patients/data/time_limits.json``
    ``discharge_report_working_days``, on the official calendar); ``report_deadline`` and ``late``
    are fixed when it is entered. Entering it notifies the patient's managing clinic and puts the
    patient on its "awaiting a first visit" list.
    """

    required_region_level: ClassVar[int] = RegionLevel.TOWNSHIP
    PII_FIELDS: ClassVar[dict[str, str]] = {
        "admission_date": _FOLLOWUP,
        "discharge_date": _FOLLOWUP,
        "diagnosis": "clinical.diagnosis",
        "icd10_code": "clinical.diagnosis",
        "effect": _FOLLOWUP,
        "rehab_measures": _FOLLOWUP,
        "rehab_advice": _FOLLOWUP,
        "summary": _FOLLOWUP,
    }

    patient = models.ForeignKey(Patient, verbose_name=_("patient"), on_delete=models.PROTECT,
                                related_name="discharges")
    hospital = models.ForeignKey(Organisation, verbose_name=_("hospital"), on_delete=models.PROTECT, related_name="+")
    admission_date = models.DateField(_("admitted on"))
    discharge_date = models.DateField(_("discharged on"))
    diagnosis = models.CharField(_("diagnosis"), max_length=3, choices=Diagnosis.choices)
    icd10_code = models.CharField(_("ICD-10 code"), max_length=16, blank=True)
    effect = models.PositiveSmallIntegerField(_("effect of the admission"), choices=LatestTreatmentEffect.choices)
    rehab_measures = models.JSONField(_("rehabilitation measures"), default=list, blank=True)
    rehab_advice = EncryptedTextField(_("rehabilitation advice"), blank=True)
    summary = EncryptedTextField(_("discharge summary"), blank=True)
    reported_on = models.DateField(_("entered on"))
    report_deadline = models.DateField(_("due by"))
    late = models.BooleanField(_("late"), default=False, db_index=True)
    deadline_uncertain = models.BooleanField(
        _("deadline uncertain"), default=False,
        help_text=_("The holiday calendar of that year is unknown; weekends alone were counted."))
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("entered by"), null=True,
                                    on_delete=models.SET_NULL, related_name="+")
    submission_key = models.CharField(max_length=160, null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("discharge record")
        verbose_name_plural = _("discharge records")
        ordering: ClassVar = ["-discharge_date", "-id"]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} #{self.pk}"


class DischargeMedication(MedicationLine):
    """用药指导 of a discharge record (reached only through it)."""

    discharge = models.ForeignKey(DischargeRecord, on_delete=models.CASCADE, related_name="medications")

    class Meta:
        verbose_name = _("discharge medication")
        verbose_name_plural = _("discharge medications")
        ordering: ClassVar = ["id"]
