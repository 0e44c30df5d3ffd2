"""API schemas of referrals and emergencies (one stem per model: ``Referral`` → ``ReferralSchema``,
``ReferralCreateSchema``). Personal fields come from ``masks.present``: hidden ones are null."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from ninja import Schema
from pydantic import Field


class ReferralEventSchema(Schema):
    """One step of a referral's history."""

    action: str
    from_state: str
    to_state: str
    at: datetime
    organisation: str | None = None
    note: str | None = None


class ReferralSchema(Schema):
    """A referral as the caller may see it."""

    id: int
    patient_id: int
    register_number: str
    direction: str
    from_organisation_id: int
    from_organisation: str
    to_organisation_id: int
    to_organisation: str
    urgency: str
    state: str
    sent_at: datetime
    receive_due: date
    received_at: datetime | None = None
    complete_due: date | None = None
    completed_at: datetime | None = None
    declined_at: datetime | None = None
    days_overdue: int
    reason: str | None = None
    discharge_summary: str | None = None
    decline_reason: str | None = None
    outcome_note: str | None = None
    allowed_actions: list[str] = []
    history: list[ReferralEventSchema] = []


class ReferralPage(Schema):
    """One page of referrals."""

    count: int
    page: int
    pages: int
    results: list[ReferralSchema]


class ReferralCreateSchema(Schema):
    """Input for sending a referral from the caller's organisation."""

    patient_id: int
    direction: Literal["up", "down"]
    to_organisation_id: int
    urgency: Literal["routine", "urgent"] = "routine"
    reason: str = Field(default="", max_length=2000)
    discharge_summary: str = Field(default="", max_length=4000)
    origin: str = Field(default="", max_length=32)


class ReferralActionSchema(Schema):
    """A step taken by the receiving organisation."""

    action: Literal["receive", "decline", "complete"]
    note: str = Field(default="", max_length=2000)


class EmergencySubjectSchema(Schema):
    """The person handled when not on the register."""

    name: str = Field(min_length=1, max_length=64)
    id_type: str = "resident_id"
    id_number: str = Field(default="", max_length=32)
    region_code: str = Field(default="", pattern=r"^(\d{9})?$")
    sex: str = ""
    phone: str = Field(default="", max_length=20)
    address: str = Field(default="", max_length=255)


class EmergencyCreateSchema(Schema):
    """Input of an 应急处置记录单 (codes of ``referrals.codes``)."""

    region_code: str = Field(pattern=r"^\d{9}$")
    occurred_at: datetime
    place: str = Field(default="", max_length=255)
    danger_level: int = Field(ge=0, le=5)
    subject_category: int
    patient_id: int | None = None
    subject: EmergencySubjectSchema | None = None
    reporter_role: int
    reason: int
    measures: list[int] = Field(min_length=1)
    police_officers: str = Field(default="", max_length=500)
    prevention_doctors: str = Field(default="", max_length=500)
    psychiatrists: str = Field(default="", max_length=500)
    diagnosis: str = Field(default="", max_length=3)
    diagnosis_note: str = Field(default="", max_length=500)
    effect: int
    narrative: str = Field(default="", max_length=4000)


class EmergencySchema(Schema):
    """An emergency record as the caller may see it (hidden categories null)."""

    id: int
    township_code: str
    county_code: str
    status: str
    occurred_at: datetime
    recorded_at: datetime
    record_due: datetime
    recorded_late: bool
    police_notified_at: datetime | None = None
    subject_category: int
    patient_id: int | None = None
    register_number: str | None = None
    person_name: str | None = None
    reporter_role: int
    police_officers: str
    prevention_doctors: str
    psychiatrists: str
    place: str | None = None
    danger_level: int | None = None
    reason: int | None = None
    measures: list[int] | None = None
    effect: int | None = None
    diagnosis: str | None = None
    diagnosis_note: str | None = None
    narrative: str | None = None


class EmergencyPage(Schema):
    """One page of emergency records."""

    count: int
    page: int
    pages: int
    results: list[EmergencySchema]
