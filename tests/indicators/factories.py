"""Builders of small register histories for the indicator tests: patients, status changes, follow-ups.

Rows are written directly (like ``tests.patients.factories.PatientFactory``), not through the services:
the indicators read stored facts, and the tests need histories the services would date "today".
"""

from __future__ import annotations

from datetime import date
from typing import Any

from tests.factories import test_townships
from tests.patients.factories import PatientFactory
from xinqiao.core.models import Region
from xinqiao.followups.models import FollowUp
from xinqiao.patients.models import Patient, PersonalSupplement, StatusChange
from xinqiao.registry.models import RegionStatistic


def patient(town: Region | None = None, *, registered_on: date = date(2025, 1, 10), diagnosis: str = "F20",
            status: str = "managed", status_on: date | None = None, history: bool = True,
            **kwargs: Any) -> Patient:
    """A patient of ``town`` registered on ``registered_on``; with ``history`` a registration StatusChange."""
    town = town or test_townships()[0]
    p = PatientFactory(region=town, registered_on=registered_on, diagnosis=diagnosis,
                       icd10_code=f"{diagnosis[:3]}.0" if diagnosis != "F7x" else "F70.1", status=status,
                       status_changed_on=status_on or registered_on, **kwargs)
    if history:
        StatusChange.objects.create(patient=p, region=town, from_status="", to_status="managed",
                                    changed_on=registered_on)
    return p


def change(p: Patient, to_status: str, on: date) -> StatusChange:
    """A status change of ``p`` on ``on`` (and the patient's current status, when it is the latest)."""
    sc = StatusChange.objects.create(patient=p, region_id=p.region_id, from_status=p.status, to_status=to_status,
                                     changed_on=on)
    if p.status_changed_on is None or on >= p.status_changed_on:
        Patient.objects.filter(pk=p.pk).update(status=to_status, status_changed_on=on)
        p.refresh_from_db()
    return sc


def followup(p: Patient, on: date, *, method: int = 2, adherence: int | None = 1, classification: int | None = 3,
             outcome: str = "visited", trouble: int = 0, disaster: int = 0, minor: int = 0) -> FollowUp:
    """A follow-up of ``p`` dated ``on`` (a stable face-to-face visit with regular medication by default)."""
    visited = outcome == "visited"
    return FollowUp.objects.create(
        patient=p, region_id=p.region_id, followup_date=on, outcome=outcome, method=method,
        adherence=adherence if visited else None, classification=classification if visited else None,
        trouble_count=trouble, disaster_count=disaster, minor_trouble_count=minor,
    )


def supplement(p: Patient, *, community_rehab: bool) -> PersonalSupplement:
    """The patient's 个人信息补充表 with the community-rehabilitation flag."""
    return PersonalSupplement.objects.create(patient=p, region_id=p.region_id, community_rehab=community_rehab,
                                             filled_on=p.registered_on)


def population(region_code: str, year: int, value: int) -> RegionStatistic:
    """The resident population of a region for a year."""
    return RegionStatistic.objects.create(region_id=region_code, year=year, measure="population", value=value)
