"""API schemas of the management groups (``ManagementGroup`` → ``CareGroupSchema``; members, meetings,
joint visits, the group's patients). Personal fields come from ``masks.present``: hidden ones are null."""

from __future__ import annotations

from datetime import date

from ninja import Schema
from pydantic import Field


class GroupMemberSchema(Schema):
    """A seat: a platform account (by display name) or an outsider (masked name and phone)."""

    id: int
    role: str
    role_label: str
    user_id: int | None = None
    name: str | None = None
    phone: str | None = None
    unit: str


class CareGroupSchema(Schema):
    """A group; members only in the detail."""

    id: int
    kind: str
    name: str
    township_code: str
    established_on: date
    active: bool
    members: list[GroupMemberSchema] = []


class CareGroupCreateSchema(Schema):
    """Input for a new group."""

    region_code: str = Field(pattern=r"^\d{9}$")
    kind: str
    name: str = Field(min_length=1, max_length=128)
    established_on: date


class GroupMemberCreateSchema(Schema):
    """Input for a seat: ``user_id`` for a platform account, else the outsider's name (and phone)."""

    role: str = Field(min_length=1, max_length=32)
    user_id: int | None = None
    outsider_name: str = Field(default="", max_length=64)
    outsider_phone: str = Field(default="", max_length=20)
    unit: str = Field(default="", max_length=128)
    joined_on: date | None = None


class MeetingSchema(Schema):
    """A meeting and its minutes (register numbers only)."""

    id: int
    group_id: int
    held_on: date
    place: str
    attendee_ids: list[int]
    topics: str
    decisions: str


class MeetingCreateSchema(Schema):
    """Input for a meeting."""

    held_on: date
    place: str = Field(default="", max_length=128)
    attendee_ids: list[int] = Field(min_length=1)
    topics: str = Field(min_length=1, max_length=4000)
    decisions: str = Field(default="", max_length=4000)


class JointVisitSchema(Schema):
    """A joint visit; the note per mask."""

    id: int
    group_id: int
    patient_id: int
    register_number: str
    visited_on: date
    outcome: int
    participant_ids: list[int]
    note: str | None = None
    followup_id: int | None = None


class JointVisitCreateSchema(Schema):
    """Input for a joint visit."""

    patient_id: int
    visited_on: date
    outcome: int
    participant_ids: list[int] = Field(min_length=2)
    note: str = Field(default="", max_length=2000)
    followup_id: int | None = None


class GroupPatientSchema(Schema):
    """A patient of the group's township as the caller may see them (hidden categories null)."""

    id: int
    register_number: str
    township_code: str
    incident_history: bool
    name: str | None = None
    sex: str | None = None
    address: str | None = None
    phone: str | None = None
    danger_level: int | None = None
    responsible_doctor: str | None = None
    diagnosis: str | None = None


class GroupPatientPage(Schema):
    """One page of the group's patients."""

    count: int
    page: int
    pages: int
    results: list[GroupPatientSchema]
