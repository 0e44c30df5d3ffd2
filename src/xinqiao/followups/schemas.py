"""API schemas of the followups app (``FollowUp`` → ``FollowUpCreateSchema`` / ``FollowUpSchema`` …).

Input field names equal the model fields and ``services`` inputs. Output carries the codes (not
labels) of the fields the caller may see: hidden categories are ``null``, masked ones masked.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import Field

CODE = Field(default=None, ge=0, le=99)


class MedicationSchema(Schema):
    """One line of 用药情况 / 用药指导: ``drug_id`` from the catalogue, or ``drug_name``."""

    drug_id: int | None = None
    drug_name: str = Field(default="", max_length=64)
    times: int = Field(ge=1, le=31)
    period: str = Field(default="day", pattern=r"^(day|month)$")
    dose: Decimal = Field(gt=0, max_digits=8, decimal_places=2)
    unit: str = Field(default="mg", pattern=r"^(mg|g|ml|tablet)$")


class ParticipantSchema(Schema):
    """A participant of a joint follow-up: ``user_id`` or ``name``."""

    role: str = Field(pattern=r"^(doctor|police|village_cadre|family|other)$")
    user_id: int | None = None
    name: str = Field(default="", max_length=64)


class FollowUpCreateSchema(Schema):
    """A 随访服务记录表. ``outcome``: visited / not_reached / dead. Leave ``classification`` and
    ``next_followup_date`` empty to accept the rules' proposal; otherwise give ``override_reason``."""

    patient_id: int
    followup_date: date
    outcome: str = Field(default="visited", pattern=r"^(visited|not_reached|dead)$")
    method: int | None = CODE
    not_reached_reason: str = Field(default="", max_length=500)
    loss_reason: int | None = CODE
    death_date: date | None = None
    death_cause: int | None = CODE
    physical_death_cause: int | None = CODE
    danger_level: int | None = CODE
    symptoms: list[int] = Field(default_factory=list, max_length=12)
    symptoms_marked: bool = False
    symptoms_other: str = Field(default="", max_length=200)
    insight: int | None = CODE
    sleep: int | None = CODE
    diet: int | None = CODE
    self_care: int | None = CODE
    housework: int | None = CODE
    work: int | None = CODE
    study: int | None = CODE
    social: int | None = CODE
    minor_trouble_count: int = Field(default=0, ge=0, le=999)
    trouble_count: int = Field(default=0, ge=0, le=999)
    disaster_count: int = Field(default=0, ge=0, le=999)
    other_harm_count: int = Field(default=0, ge=0, le=999)
    self_harm_count: int = Field(default=0, ge=0, le=999)
    suicide_attempt_count: int = Field(default=0, ge=0, le=999)
    lock_status: int | None = CODE
    hospital_status: int | None = CODE
    last_discharge_date: date | None = None
    lab_tests: int | None = CODE
    lab_tests_text: str = Field(default="", max_length=500)
    adherence: int | None = CODE
    adverse_reaction: int | None = CODE
    adverse_reaction_text: str = Field(default="", max_length=500)
    adverse_reaction_serious: bool = False
    physical_illness_serious: bool = False
    physical_illness_text: str = Field(default="", max_length=500)
    treatment_effect: int | None = CODE
    referral: int | None = CODE
    referral_reason: str = Field(default="", max_length=500)
    referral_institution: str = Field(default="", max_length=128)
    referral_department: str = Field(default="", max_length=64)
    rehab_measures: list[int] = Field(default_factory=list, max_length=5)
    rehab_other: str = Field(default="", max_length=200)
    classification: int | None = Field(default=None, ge=1, le=3)
    next_followup_date: date | None = None
    override_reason: str = Field(default="", max_length=500)
    medications: list[MedicationSchema] = Field(default_factory=list, max_length=10)
    participants: list[ParticipantSchema] = Field(default_factory=list, max_length=10)


class FollowUpSchema(Schema):
    """A stored follow-up: ids and, in ``fields``, what the caller may see (codes; masked or null)."""

    id: int
    patient_id: int
    township_code: str
    replayed: bool = False
    fields: dict[str, Any]
    medications: list[dict[str, Any]]
    participants: list[dict[str, Any]]
    #: The referral the decision called for (``services.referral_of``); only on a single follow-up.
    referral: dict[str, Any] | None = None
    #: Corrections, newest first, masked as the follow-up (``display.history``); only on a single follow-up.
    revisions: list[dict[str, Any]] | None = None


class FollowUpPage(Schema):
    count: int
    page: int
    pages: int
    results: list[FollowUpSchema]


class RecordSchema(Schema):
    """A stored health check or discharge record: ids and visible fields."""

    id: int
    patient_id: int
    township_code: str
    fields: dict[str, Any]
    medications: list[dict[str, Any]] = Field(default_factory=list)


class HealthCheckCreateSchema(Schema):
    """An annual health check. ``consent`` false records a refusal (no results)."""

    patient_id: int
    check_date: date
    consent: bool = True
    general_exam: str = Field(default="", max_length=500)
    systolic_bp: int | None = Field(default=None, ge=0, le=400)
    diastolic_bp: int | None = Field(default=None, ge=0, le=400)
    weight_kg: Decimal | None = Field(default=None, max_digits=5, decimal_places=1)
    height_cm: Decimal | None = Field(default=None, max_digits=4, decimal_places=1)
    blood_count: str = Field(default="", max_length=500)
    alt: Decimal | None = Field(default=None, max_digits=6, decimal_places=1)
    glucose: Decimal | None = Field(default=None, max_digits=4, decimal_places=1)
    ecg: int | None = Field(default=None, ge=1, le=2)
    ecg_text: str = Field(default="", max_length=500)
    note: str = Field(default="", max_length=500)


class DischargeCreateSchema(Schema):
    """A 出院单. ``hospital_id`` defaults to the caller's organisation."""

    patient_id: int
    admission_date: date
    discharge_date: date
    diagnosis: str = Field(pattern=r"^(F20|F25|F22|F31|F06|F7x)$")
    effect: int = Field(ge=1, le=4)
    icd10_code: str = Field(default="", max_length=16)
    rehab_measures: list[int] = Field(default_factory=list, max_length=5)
    rehab_advice: str = Field(default="", max_length=2000)
    summary: str = Field(default="", max_length=4000)
    medications: list[MedicationSchema] = Field(default_factory=list, max_length=10)
    hospital_id: int | None = None


class MedicationCatalogueSchema(Schema):
    id: int
    generic_name_zh: str
    generic_name_en: str
    atc_code: str
    drug_class: str
    long_acting: bool
    default_unit: str
    default_period: str


class ProposalSchema(Schema):
    """The ``followup-rule`` contract's output."""

    classification: int
    label: str
    next_followup_date: str
    actions: list[str]


class FollowUpCorrectionSchema(FollowUpCreateSchema):
    """A correction of a stored follow-up: ``reason`` and the fields to change (any field of the
    record form; those not sent keep their stored values, ``medications``/``participants`` replace
    the lines when sent). Leave ``classification``/``next_followup_date`` out to take the
    recomputed proposal."""

    patient_id: int | None = None  # type: ignore[assignment]
    followup_date: date | None = None  # type: ignore[assignment]
    reason: str = Field(min_length=1, max_length=500)


class CorrectionOutSchema(FollowUpSchema):
    """The corrected follow-up (as the caller may see it) and the number of the revision kept."""

    revision: int
