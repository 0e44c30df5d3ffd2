"""The register of patients with a severe mental disorder (规划 三(一); 意见 11).

A ``Patient`` is one person's registration in one region's register: identity lives on the linked
``core.Person`` (encrypted, blind-indexed, one per ID number across the deployment), the clinical
and management facts live here. The columns the work lists and partner scope filter on (status,
danger level, 肇事肇祸 history, next follow-up due, last classification, failed attempts) are kept
up to date by the follow-up services so that one indexed query answers a work list.

Around it: the ways onto the register (``CaseReport`` 发病报告卡, ``SuspectedCase`` found in the
community, ``Transfer`` from another region), the 个人信息补充表 (``PersonalSupplement``), the status
history (``StatusChange``), register numbers (``RegisterSequence``) and merges of duplicates
(``PatientMerge``). Only ``patients.services`` writes them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xinqiao.core.fields import EncryptedTextField
from xinqiao.core.models import InRegion, Organisation, Person, Region, RegionLevel
from xinqiao.core.scope import ScopedManager, ScopedQuerySet, permission_for
from xinqiao.patients.codes import (
    BroughtBy,
    CaseReportStatus,
    Classification,
    Consent,
    DangerBehaviour,
    DangerLevel,
    DeathCause,
    Diagnosis,
    DisabilityGrade,
    EconomicStatus,
    Employment,
    Household,
    LatestTreatmentEffect,
    LockStatus,
    LossReason,
    OutpatientHistory,
    PatientStatus,
    PhysicalDeathCause,
    RegistrationSource,
    ReportEntry,
    ReportType,
    SuspectedSource,
    SuspectedStatus,
    TransferStatus,
)
from xinqiao.patients.rules import sharing_rule


class Patient(InRegion):
    """A registered patient, placed in the township of their home (where they are managed)."""

    required_region_level: ClassVar[int] = RegionLevel.TOWNSHIP
    #: Field → mask category (``core/data/field_masks.json``).
    PII_FIELDS: ClassVar[dict[str, str]] = {
        "diagnosis": "clinical.diagnosis",
        "icd10_code": "clinical.diagnosis",
        "co_icd10_code": "clinical.diagnosis",
        "diagnosed_on": "clinical.diagnosis",
        "diagnosing_hospital": "clinical.diagnosis",
        "danger_level": "risk.danger_level",
        "incident_history": "risk.danger_level",
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
    co_icd10_code = models.CharField(
        _("co-occurring ICD-10 code"), max_length=16, blank=True,
        help_text=_("G40 epilepsy for F06; the co-occurring mental disorder for F70–F79."),
    )
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
    #: Idempotency of registration calls (imports, retries): one patient per key.
    submission_key = models.CharField(max_length=160, null=True, blank=True, unique=True, editable=False)
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
            # The county centre's work lists (worklists/queries.py).
            models.Index(fields=["county_code", "status", "next_followup_due"], name="pat_county_due"),
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



def _person_fk(related_name: str = "+") -> Any:
    return models.ForeignKey(Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name=related_name)


# --- Ways onto the register --------------------------------------------------------------------------

class CaseReport(InRegion):
    """严重精神障碍发病报告卡: a hospital's report of a confirmed case (《严重精神障碍发病报告管理办法（试行）》2013).

    Sits in the patient's home township. A hospital with access enters it within 10 working days of
    diagnosis; otherwise it sends the card and the county centre enters it within 5 working days of
    receipt (``data/time_limits.json``; deadlines on the official calendar, ``workdays.py``). The
    deadlines and whether the report was late are fixed when it is entered.

    A ``draft`` (``status``) is a card not yet entered: the clock already runs from the diagnosis.
    It is a hospital's saved draft, a written card the county centre received but has not entered,
    or the card a confirmed suspected case still needs (opened by ``confirm_suspected_case``, with
    the patient already registered). A draft is not a registration: ``entered_on`` is empty and the
    report type and who brought the patient may still be missing. The daily job
    (``worklists.flagging``) sets ``late`` on a draft past its deadline and tells the reporting unit
    and the county centre; entering the draft keeps ``late``.
    """

    required_region_level: ClassVar[int] = RegionLevel.TOWNSHIP
    PII_FIELDS: ClassVar[dict[str, str]] = {
        "diagnosis": "clinical.diagnosis",
        "icd10_code": "clinical.diagnosis",
        "co_icd10_code": "clinical.diagnosis",
        "diagnosed_on": "clinical.diagnosis",
        "diagnosing_hospital": "clinical.diagnosis",
        "onset_date": "clinical.history",
        "prior_danger": "clinical.history",
        "brought_by": "clinical.history",
    }

    person = _person_fk()
    patient = models.ForeignKey(Patient, verbose_name=_("registered patient"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="case_reports")
    status = models.CharField(_("status"), max_length=8, choices=CaseReportStatus.choices,
                              default=CaseReportStatus.ENTERED, db_default=CaseReportStatus.ENTERED)
    report_type = models.PositiveSmallIntegerField(_("report type"), choices=ReportType.choices, null=True,
                                                   blank=True)
    diagnosis = models.CharField(_("diagnosis"), max_length=3, choices=Diagnosis.choices)
    icd10_code = models.CharField(_("ICD-10 code"), max_length=16)
    co_icd10_code = models.CharField(_("co-occurring ICD-10 code"), max_length=16, blank=True)
    diagnosing_hospital = models.ForeignKey(Organisation, verbose_name=_("confirming hospital"),
                                            on_delete=models.PROTECT, related_name="+")
    diagnosed_on = models.DateField(_("date of diagnosis"))
    onset_date = models.DateField(_("first onset"), null=True, blank=True)
    prior_danger = models.JSONField(_("prior dangerous behaviour"), default=list, blank=True,
                                    help_text=_("Codes of the dangerous behaviours before diagnosis; empty for none."))
    brought_by = models.PositiveSmallIntegerField(_("brought to hospital by"), choices=BroughtBy.choices,
                                                  null=True, blank=True)
    reporting_unit = models.ForeignKey(Organisation, verbose_name=_("reporting unit"), on_delete=models.PROTECT,
                                       related_name="+")
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("entered by"), null=True,
                                    on_delete=models.SET_NULL, related_name="+")
    entry = models.CharField(_("entry"), max_length=8, choices=ReportEntry.choices, default=ReportEntry.ONLINE)
    received_on = models.DateField(_("written report received on"), null=True, blank=True)
    entered_on = models.DateField(_("entered on"), null=True, blank=True)
    report_deadline = models.DateField(_("report due by"))
    entry_deadline = models.DateField(_("county entry due by"), null=True, blank=True)
    late = models.BooleanField(_("late"), default=False, db_index=True)
    deadline_uncertain = models.BooleanField(
        _("deadline uncertain"), default=False,
        help_text=_("The holiday calendar of that year is unknown; weekends alone were counted."),
    )
    submission_key = models.CharField(max_length=160, null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("case report")
        verbose_name_plural = _("case reports")
        ordering: ClassVar = ["-entered_on", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["county_code", "late", "entered_on"], name="casereport_county_late"),
            # The daily job and the pending lists: drafts by deadline.
            models.Index(fields=["status", "late", "report_deadline"], name="casereport_pending"),
            models.Index(fields=["reporting_unit", "status"], name="casereport_unit_status"),
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} #{self.pk}"


class SuspectedCase(InRegion):
    """A suspected case found in the community (《严重精神障碍管理治疗工作规范（2018年版）》 患者发现与登记).

    A village (residents') committee or a community doctor notices someone; the doctor refers them
    to a psychiatric institution for diagnosis; a confirmed diagnosis registers the patient, else
    the case is closed as not a case. Every step is kept in ``SuspectedCaseEvent``.
    """

    required_region_level: ClassVar[int] = RegionLevel.TOWNSHIP
    PII_FIELDS: ClassVar[dict[str, str]] = {
        "symptoms": "clinical.history",
        "description": "clinical.history",
        "closing_reason": "clinical.history",
        "reporter_name": "care.management",
    }

    person = _person_fk()
    found_by = models.CharField(_("found by"), max_length=20, choices=SuspectedSource.choices)
    reporter_name = EncryptedTextField(_("reporter (name, committee)"), blank=True)
    discovered_on = models.DateField(_("found on"))
    symptoms = models.JSONField(_("symptoms noticed"), default=list, blank=True)
    description = EncryptedTextField(_("what was noticed"), blank=True)
    status = models.CharField(_("status"), max_length=12, choices=SuspectedStatus.choices,
                              default=SuspectedStatus.REPORTED, db_index=True)
    referred_to = models.ForeignKey(Organisation, verbose_name=_("referred to"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    referred_on = models.DateField(_("referred on"), null=True, blank=True)
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    closing_reason = EncryptedTextField(_("why it was closed"), blank=True)
    patient = models.ForeignKey(Patient, verbose_name=_("registered patient"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="suspected_cases")
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("entered by"), null=True,
                                    on_delete=models.SET_NULL, related_name="+")
    submission_key = models.CharField(max_length=160, null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("suspected case")
        verbose_name_plural = _("suspected cases")
        ordering: ClassVar = ["-discovered_on", "-id"]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} #{self.pk}"


class SuspectedCaseEvent(models.Model):
    """One step in the history of a suspected case (reached only through its case)."""

    case = models.ForeignKey(SuspectedCase, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=12, choices=SuspectedStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=SuspectedStatus.choices)
    on = models.DateField(_("date"))
    note = EncryptedTextField(_("note"), blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} → {self.to_status}"


class TransferQuerySet(ScopedQuerySet["Transfer"]):
    """Transfers are seen from both ends: the receiving region (the row's region) and the sending one."""

    def restrict(self, user: Any, action: str = "view") -> Any:
        if not user.is_authenticated or not user.is_active or not user.has_perm(permission_for(self.model, action)):
            return self.none()
        if user.region_id is None:
            return self if user.is_superuser else self.none()
        from xinqiao.core.models.region import SCOPE_COLUMN
        from xinqiao.core.regions_data import level_of

        column = SCOPE_COLUMN[level_of(user.region_id)]
        return self.filter(Q(**{column: user.region_id}) | Q(**{f"from_{column}": user.region_id}))

    def incoming(self, user: Any) -> Any:
        """Transfers whose receiving township lies in the user's region."""
        if user.region_id is None:
            return self if user.is_superuser else self.none()
        from xinqiao.core.models.region import SCOPE_COLUMN
        from xinqiao.core.regions_data import level_of

        return self.filter(**{SCOPE_COLUMN[level_of(user.region_id)]: user.region_id})


class TransferManager(models.Manager.from_queryset(TransferQuerySet)):  # type: ignore[misc]
    """Manager of ``Transfer``: ``restrict`` from either end, ``incoming`` for the receiving region."""


class Transfer(InRegion):
    """A hand-over of a patient who moved to another township of this deployment (迁居).

    ``region`` is the receiving township; ``from_region`` (with its denormalised codes) the sending
    one. The patient stays on the sending register until the receiving region accepts; then the
    patient, the records that carry a region and the person move (``services.accept_transfer``).
    """

    required_region_level: ClassVar[int] = RegionLevel.TOWNSHIP
    PII_FIELDS: ClassVar[dict[str, str]] = {
        "reason": "care.management",
        "new_address": "contact.address",
        "decline_reason": "care.management",
    }

    patient = models.ForeignKey(Patient, verbose_name=_("patient"), on_delete=models.PROTECT, related_name="transfers")
    from_region = models.ForeignKey(Region, verbose_name=_("from township"), on_delete=models.PROTECT, related_name="+")
    from_province_code = models.CharField(max_length=2, db_index=True, editable=False)
    from_city_code = models.CharField(max_length=4, blank=True, db_index=True, editable=False)
    from_county_code = models.CharField(max_length=6, blank=True, db_index=True, editable=False)
    from_township_code = models.CharField(max_length=9, blank=True, db_index=True, editable=False)
    from_organisation = models.ForeignKey(Organisation, verbose_name=_("sending clinic"), on_delete=models.PROTECT,
                                          related_name="+")
    to_organisation = models.ForeignKey(Organisation, verbose_name=_("receiving clinic"), null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=TransferStatus.choices,
                              default=TransferStatus.PENDING, db_index=True)
    moved_on = models.DateField(_("moved on"))
    reason = EncryptedTextField(_("reason"), blank=True)
    new_address = EncryptedTextField(_("new address"), blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decline_reason = EncryptedTextField(_("why it was declined"), blank=True)
    submission_key = models.CharField(max_length=160, null=True, blank=True, unique=True, editable=False)

    objects = TransferManager()

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering: ClassVar = ["-requested_at", "-id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["patient"], condition=Q(status="pending"), name="transfer_one_pending"),
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} #{self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        for column, value in self.region_columns(self.from_region_id).items():
            setattr(self, f"from_{column}", value)
        super().save(*args, **kwargs)


# --- The 个人信息补充表 -------------------------------------------------------------------------------

#: Field names of the 危险行为 counts, one per ``DangerBehaviour`` code.
BEHAVIOUR_COUNT_FIELDS: dict[str, str] = {code: f"{code}_count" for code in DangerBehaviour.values}


class PersonalSupplement(InRegion):
    """个人信息补充表 of 《国家基本公共卫生服务规范（第三版）》 (DOMAIN.md §4), with the national-system extras.

    One per patient, in the patient's township (moved with the patient). Guardian and contact text
    is encrypted. Saving it with 肇事 or 肇祸 counts above zero sets ``Patient.incident_history``
    (``services.save_supplement``).
    """

    required_region_level: ClassVar[int] = RegionLevel.TOWNSHIP
    PII_FIELDS: ClassVar[dict[str, str]] = {
        "guardian_name": "care.guardian",
        "guardian_relation": "care.guardian",
        "guardian_address": "care.guardian",
        "guardian_phone": "care.guardian",
        "village_contact_name": "care.management",
        "village_contact_phone": "care.management",
        "household": "social.background",
        "employment": "social.background",
        "consent": "care.management",
        "consent_signed_by": "care.management",
        "consent_date": "care.management",
        "onset_date": "clinical.history",
        "past_symptoms": "clinical.history",
        "past_lock": "clinical.history",
        "outpatient_history": "clinical.history",
        "first_antipsychotic_date": "clinical.history",
        "admissions": "clinical.history",
        "latest_treatment_effect": "clinical.history",
        **{f: "clinical.history" for f in BEHAVIOUR_COUNT_FIELDS.values()},
        "economic_status": "welfare.poverty",
        "specialist_opinion": "clinical.history",
        "poverty_alleviation": "welfare.poverty",
        "guardianship_subsidy": "welfare.subsidy",
        "disability_card": "welfare.disability",
        "disability_grade": "welfare.disability",
        "care_group_service": "care.management",
        "family_doctor_contract": "care.management",
        "community_rehab": "care.management",
    }

    patient = models.OneToOneField(Patient, verbose_name=_("patient"), on_delete=models.PROTECT,
                                   related_name="supplement")
    # 监护人
    guardian_name = EncryptedTextField(_("guardian's name"), blank=True)
    guardian_relation = EncryptedTextField(_("guardian's relation to the patient"), blank=True)
    guardian_address = EncryptedTextField(_("guardian's address"), blank=True)
    guardian_phone = EncryptedTextField(_("guardian's phone"), blank=True)
    # 村（居）委会联系人
    village_contact_name = EncryptedTextField(_("village (residents') committee contact"), blank=True)
    village_contact_phone = EncryptedTextField(_("committee contact's phone"), blank=True)
    household = models.PositiveSmallIntegerField(_("household type"), choices=Household.choices, null=True, blank=True)
    employment = models.PositiveSmallIntegerField(_("employment"), choices=Employment.choices, null=True, blank=True)
    # 知情同意
    consent = models.PositiveSmallIntegerField(_("informed consent"), choices=Consent.choices, null=True, blank=True)
    consent_signed_by = EncryptedTextField(_("consent signed by"), blank=True)
    consent_date = models.DateField(_("consent date"), null=True, blank=True)
    # 病史
    onset_date = models.DateField(_("first onset"), null=True, blank=True)
    past_symptoms = models.JSONField(_("main past symptoms"), default=list, blank=True)
    past_lock = models.PositiveSmallIntegerField(_("past locking up"), choices=LockStatus.choices, null=True, blank=True)
    outpatient_history = models.PositiveSmallIntegerField(_("past outpatient treatment"),
                                                          choices=OutpatientHistory.choices, null=True, blank=True)
    first_antipsychotic_date = models.DateField(_("first antipsychotic treatment"), null=True, blank=True)
    admissions = models.PositiveSmallIntegerField(_("psychiatric admissions"), null=True, blank=True)
    latest_treatment_effect = models.PositiveSmallIntegerField(
        _("latest treatment effect"), choices=LatestTreatmentEffect.choices, null=True, blank=True)
    # 危险行为 (counts)
    minor_trouble_count = models.PositiveSmallIntegerField(_("minor trouble-making (轻度滋事)"), default=0)
    trouble_count = models.PositiveSmallIntegerField(_("causing trouble (肇事)"), default=0)
    disaster_count = models.PositiveSmallIntegerField(_("causing a disaster (肇祸)"), default=0)
    other_harm_count = models.PositiveSmallIntegerField(_("other harmful behaviour"), default=0)
    self_harm_count = models.PositiveSmallIntegerField(_("self-harm"), default=0)
    suicide_attempt_count = models.PositiveSmallIntegerField(_("attempted suicide"), default=0)
    economic_status = models.PositiveSmallIntegerField(_("economic status"), choices=EconomicStatus.choices,
                                                       null=True, blank=True)
    specialist_opinion = EncryptedTextField(_("specialist's opinion"), blank=True)
    # National-system extras
    poverty_alleviation = models.BooleanField(_("targeted poverty alleviation (精准扶贫对象)"), default=False)
    guardianship_subsidy = models.BooleanField(_("receives the guardianship subsidy (监护补助对象)"), default=False)
    disability_card = models.BooleanField(_("holds a disability card (残疾人证)"), default=False)
    disability_grade = models.PositiveSmallIntegerField(_("mental disability grade"), choices=DisabilityGrade.choices,
                                                        null=True, blank=True)
    care_group_service = models.BooleanField(_("served by a care and support group (关爱帮扶小组)"), default=False)
    family_doctor_contract = models.BooleanField(_("family-doctor contract (家庭医师签约)"), default=False)
    community_rehab = models.BooleanField(_("in community rehabilitation (社区康复服务)"), default=False)
    filled_on = models.DateField(_("filled in on"))
    filled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("personal information supplement")
        verbose_name_plural = _("personal information supplements")
        permissions: ClassVar = [
            ("unmask_personalsupplement", "Can reveal the guardian and contacts of a patient (audited)"),
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} #{self.pk}"

    def behaviour_counts(self) -> dict[str, int]:
        """``DangerBehaviour`` code → count."""
        return {code: int(getattr(self, field)) for code, field in BEHAVIOUR_COUNT_FIELDS.items()}


# --- Status history, register numbers, merges --------------------------------------------------------

class StatusChange(InRegion):
    """One change of a patient's status, with the facts the forms ask for (DOMAIN.md §4–5).

    失访 records its reason (``LossReason``); 死亡 its date and cause (``DeathCause``, and
    ``PhysicalDeathCause`` for cause 1); 迁出 where to; 销案 why. Registration and transfers add a
    row too (``from_status`` empty for the registration), so the history is complete.
    """

    required_region_level: ClassVar[int] = RegionLevel.TOWNSHIP
    PII_FIELDS: ClassVar[dict[str, str]] = {
        "loss_reason": "clinical.history",
        "death_date": "clinical.history",
        "death_cause": "clinical.history",
        "physical_death_cause": "clinical.history",
        "destination": "contact.address",
        "note": "clinical.history",
    }

    patient = models.ForeignKey(Patient, verbose_name=_("patient"), on_delete=models.PROTECT,
                                related_name="status_changes")
    from_status = models.CharField(_("from"), max_length=16, choices=PatientStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=16, choices=PatientStatus.choices)
    changed_on = models.DateField(_("date of change"))
    loss_reason = models.PositiveSmallIntegerField(_("reason lost to follow-up"), choices=LossReason.choices,
                                                   null=True, blank=True)
    death_date = models.DateField(_("date of death"), null=True, blank=True)
    death_cause = models.PositiveSmallIntegerField(_("cause of death"), choices=DeathCause.choices, null=True, blank=True)
    physical_death_cause = models.PositiveSmallIntegerField(_("physical illness"), choices=PhysicalDeathCause.choices,
                                                            null=True, blank=True)
    destination = EncryptedTextField(_("moved to"), blank=True)
    note = EncryptedTextField(_("note"), blank=True)
    transfer = models.ForeignKey(Transfer, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        ordering: ClassVar = ["-changed_on", "-id"]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} #{self.pk}"


class RegisterSequence(models.Model):
    """The last register number given per county and year (``services.next_register_numbers``)."""

    county_code = models.CharField(max_length=6)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["county_code", "year"], name="register_sequence_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.county_code}/{self.year}: {self.last}"


class PatientMerge(models.Model):
    """A record that two persons (and their registrations) were merged into one (audited as well)."""

    kept_person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    kept_patient = models.ForeignKey(Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="merges")
    dropped_person_id = models.BigIntegerField()
    dropped_patient_id = models.BigIntegerField(null=True, blank=True)
    dropped_register_number = models.CharField(max_length=32, blank=True)
    moved = models.JSONField(default=dict, help_text="Rows re-pointed per relation, e.g. {'followups.followup.patient': 12}.")
    reason = EncryptedTextField(blank=True)
    merged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    merged_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["-merged_at", "-id"]

    def __str__(self) -> str:
        return f"merge #{self.pk}"
