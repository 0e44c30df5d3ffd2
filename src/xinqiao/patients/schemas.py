"""API schemas of the register (pydantic v2 via django-ninja); one stem per model.

Output fields of a hidden category are ``null``; masked ones are masked strings. Input field names
match the services' error keys, so an error names the field the client sent.
"""

from __future__ import annotations

from datetime import date

from ninja import Schema
from pydantic import Field


class PatientSchema(Schema):
    """A registered patient as the caller may see them."""

    id: int
    register_number: str
    status: str
    status_label: str
    source: str
    registered_on: date
    township_code: str
    county_code: str
    managing_organisation_id: int
    name: str | None = None
    id_number: str | None = None
    sex: str | None = None
    birth_date: str | None = None
    phone: str | None = None
    address: str | None = None
    diagnosis: str | None = None
    diagnosis_label: str | None = None
    icd10_code: str | None = None
    co_icd10_code: str | None = None
    diagnosed_on: str | None = None
    diagnosing_hospital: str | None = None
    danger_level: int | None = None
    incident_history: bool | None = None
    responsible_doctor: str | None = None
    last_followup_date: str | None = None
    last_classification: int | None = None
    next_followup_due: str | None = None
    unmasked: bool = False


class PatientPage(Schema):
    """One page of the patient list."""

    count: int
    registered: int
    page: int
    pages: int
    results: list[PatientSchema]


class UnmaskSchema(Schema):
    """Why the record is revealed."""

    purpose: str = Field(min_length=4, max_length=500)


class PersonFields(Schema):
    """Identity and home of the person being registered (as ``core`` persons)."""

    name: str = Field(min_length=1, max_length=64)
    id_type: str = "resident_id"
    id_number: str = Field(default="", max_length=32)
    region_code: str = Field(pattern=r"^\d{9}$")
    sex: str = ""
    birth_date: date | None = None
    phone: str = Field(default="", max_length=20)
    address: str = Field(default="", max_length=255)


class DiagnosisFields(Schema):
    """目前诊断."""

    diagnosis: str = Field(pattern=r"^(F20|F25|F22|F31|F06|F7x)$")
    icd10_code: str = Field(min_length=1, max_length=16)
    co_icd10_code: str = Field(default="", max_length=16)
    diagnosing_hospital: int | None = None
    diagnosed_on: date | None = None


class CaseReportCreateSchema(PersonFields, DiagnosisFields):
    """严重精神障碍发病报告卡."""

    report_type: int = Field(ge=1, le=2)
    brought_by: int = Field(ge=1, le=6)
    prior_danger: list[str] = Field(default_factory=list, max_length=6)
    onset_date: date | None = None
    danger_level: int = Field(default=0, ge=0, le=5)
    entry: str = Field(default="online", pattern=r"^(online|written)$")
    received_on: date | None = None
    reporting_unit: int | None = None
    managing_organisation: int | None = None
    responsible_doctor: int | None = None


class CaseReportDraftSchema(PersonFields, DiagnosisFields):
    """A 发病报告卡 saved as a draft: the diagnosis is known, the card not finished (not a registration)."""

    report_type: int | None = Field(default=None, ge=1, le=2)
    brought_by: int | None = Field(default=None, ge=1, le=6)
    prior_danger: list[str] = Field(default_factory=list, max_length=6)
    onset_date: date | None = None
    entry: str = Field(default="online", pattern=r"^(online|written)$")
    received_on: date | None = None
    reporting_unit: int | None = None


class CaseReportEnterSchema(Schema):
    """What entering a draft adds (person and diagnosis are the draft's); checked by the service."""

    report_type: int | None = None
    brought_by: int | None = None
    prior_danger: list[str] = Field(default_factory=list, max_length=6)
    onset_date: date | None = None
    danger_level: int = Field(default=0, ge=0, le=5)
    entry: str = Field(default="online", pattern=r"^(online|written)$")
    received_on: date | None = None
    managing_organisation: int | None = None
    responsible_doctor: int | None = None


class CaseReportSchema(Schema):
    """A case report with its deadlines (``status`` draft: not yet entered, ``entered_on`` empty)."""

    id: int
    status: str
    patient_id: int | None
    register_number: str | None
    report_type: int | None
    entry: str
    township_code: str
    diagnosis: str | None = None
    icd10_code: str | None = None
    diagnosed_on: str | None = None
    received_on: date | None
    entered_on: date | None
    report_deadline: date
    entry_deadline: date | None
    late: bool
    deadline_uncertain: bool


class CaseReportPage(Schema):
    count: int
    page: int
    pages: int
    results: list[CaseReportSchema]


class SuspectedCaseCreateSchema(PersonFields):
    """A suspected case found in the community."""

    found_by: str = Field(pattern=r"^(village_committee|doctor)$")
    discovered_on: date
    reporter_name: str = Field(default="", max_length=100)
    symptoms: list[int] = Field(default_factory=list, max_length=12)
    description: str = Field(default="", max_length=2000)


class SuspectedCaseSchema(Schema):
    """A suspected case as the caller may see it."""

    id: int
    status: str
    status_label: str
    township_code: str
    found_by: str
    discovered_on: date
    name: str | None = None
    symptoms: list[int] | None = None
    referred_to_id: int | None
    referred_on: date | None
    decided_on: date | None
    patient_id: int | None
    history: list[dict[str, str]]


class SuspectedPage(Schema):
    count: int
    page: int
    pages: int
    results: list[SuspectedCaseSchema]


class ReferSchema(Schema):
    referred_to: int
    referred_on: date
    note: str = Field(default="", max_length=500)


class ConfirmSchema(DiagnosisFields):
    danger_level: int = Field(default=0, ge=0, le=5)
    managing_organisation: int | None = None
    responsible_doctor: int | None = None


class CloseSchema(Schema):
    closing_reason: str = Field(min_length=2, max_length=500)


class StatusChangeCreateSchema(Schema):
    """A status change and its facts."""

    to_status: str = Field(pattern=r"^(managed|in_hospital|lost|moved_out|dead|deregistered)$")
    changed_on: date
    loss_reason: int | None = None
    death_date: date | None = None
    death_cause: int | None = None
    physical_death_cause: int | None = None
    destination: str = Field(default="", max_length=200)
    note: str = Field(default="", max_length=500)


class StatusChangeSchema(Schema):
    id: int
    patient_id: int
    from_status: str
    to_status: str
    changed_on: date


class SupplementSchema(Schema):
    """个人信息补充表: input and (masked per role) output; codes as on the paper form."""

    guardian_name: str | None = Field(default="", max_length=64)
    guardian_relation: str | None = Field(default="", max_length=32)
    guardian_address: str | None = Field(default="", max_length=200)
    guardian_phone: str | None = Field(default="", max_length=20)
    village_contact_name: str | None = Field(default="", max_length=64)
    village_contact_phone: str | None = Field(default="", max_length=20)
    household: int | None = None
    employment: int | None = None
    consent: int | None = None
    consent_signed_by: str | None = Field(default="", max_length=64)
    consent_date: date | None = None
    onset_date: date | None = None
    past_symptoms: list[int] | None = Field(default_factory=list, max_length=12)
    past_lock: int | None = None
    outpatient_history: int | None = None
    first_antipsychotic_date: date | None = None
    admissions: int | None = None
    latest_treatment_effect: int | None = None
    behaviour_counts: dict[str, int] | None = Field(default_factory=dict)
    economic_status: int | None = None
    specialist_opinion: str | None = Field(default="", max_length=2000)
    poverty_alleviation: bool | None = False
    guardianship_subsidy: bool | None = False
    disability_card: bool | None = False
    disability_grade: int | None = None
    care_group_service: bool | None = False
    family_doctor_contract: bool | None = False
    community_rehab: bool | None = False
    filled_on: date | None = None


class TransferCreateSchema(Schema):
    to_region: str = Field(pattern=r"^\d{9}$")
    moved_on: date
    reason: str = Field(default="", max_length=500)
    new_address: str = Field(default="", max_length=255)
    to_organisation: int | None = None


class TransferSchema(Schema):
    id: int
    patient_id: int
    register_number: str
    status: str
    status_label: str
    from_township_code: str
    to_township_code: str
    moved_on: date
    incoming: bool


class TransferDecisionSchema(Schema):
    decision: str = Field(pattern=r"^(accept|decline)$")
    managing_organisation: int | None = None
    responsible_doctor: int | None = None
    decline_reason: str = Field(default="", max_length=500)


class DuplicateSchema(Schema):
    person_id: int
    name: str | None
    id_number: str | None
    township_code: str
    patient_id: int | None
    register_number: str | None


class MergeSchema(Schema):
    keep: int
    drop: int
    reason: str = Field(min_length=4, max_length=500)


class MergeResultSchema(Schema):
    id: int
    kept_person_id: int
    kept_patient_id: int | None
    dropped_person_id: int
    dropped_register_number: str
    moved: dict[str, int]
