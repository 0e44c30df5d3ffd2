"""Fixtures of the register tests: a fixed 'today', the townships' clinics and hospitals, input builders."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.patients.factories import clinic_of, county_centre_of, hospital_of
from xinqiao.core import idcard
from xinqiao.core.models import Region
from xinqiao.core.services import PersonInput
from xinqiao.patients import services
from xinqiao.patients.services import CaseReportInput, DiagnosisInput

#: The tests' today: a Tuesday in March 2026, well inside the covered holiday calendar.
TODAY = date(2026, 3, 10)


@pytest.fixture
def today(monkeypatch: pytest.MonkeyPatch) -> date:
    """Freeze the services' notion of today."""
    monkeypatch.setattr(services, "_today", lambda: TODAY)
    return TODAY


@pytest.fixture
def orgs(towns: list[Region]) -> dict[str, Any]:
    """Clinics of townships A and B, a hospital in county A, the county centres."""
    county_a = Region.objects.get(code=towns[0].county_code)
    return {
        "clinic_a": clinic_of(towns[0]), "clinic_b": clinic_of(towns[1]), "hospital": hospital_of(county_a),
        "centre_a": county_centre_of(towns[0]), "centre_b": county_centre_of(towns[1]),
    }


_serial = iter(range(100, 999))


def new_id_number(town: Region, birth: date = date(1985, 4, 2)) -> str:
    """A valid resident ID number issued in the township's county."""
    return idcard.generate_resident_id(town.county_code, birth, next(_serial))


def person_input(town: Region, id_number: str | None = None, name: str = "李测试") -> PersonInput:
    return PersonInput(name=name, id_type="resident_id",
                       id_number=new_id_number(town) if id_number is None else id_number,
                       region_code=town.code, phone="13900001111", address="测试路1号")


def case_report_input(town: Region, hospital: Any, *, diagnosed_on: date = date(2026, 3, 2),
                      id_number: str | None = None, **kw: Any) -> CaseReportInput:
    values: dict[str, Any] = {
        "person": person_input(town, id_number), "report_type": 2,
        "diagnosis": DiagnosisInput("F20", "F20.0", "", hospital.pk, diagnosed_on),
        "brought_by": 2, "prior_danger": (), "danger_level": 0,
    }
    values.update(kw)
    return CaseReportInput(**values)
