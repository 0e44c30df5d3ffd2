"""Factories of the followups tests: a registered patient, and follow-up inputs that pass validation."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from tests.factories import PersonFactory, test_townships
from xinqiao.core.models import Organisation, OrgType, Region
from xinqiao.followups.codes import Outcome
from xinqiao.followups.services import DischargeInput, FollowUpInput, HealthCheckInput, MedicationInput
from xinqiao.patients.codes import Diagnosis, RegistrationSource
from xinqiao.patients.models import Patient

_numbers = itertools.count(1)


def clinic(town: Region) -> Organisation:
    """The township's health centre (made once per township)."""
    org, _created = Organisation.objects.get_or_create(
        name=f"{town.name}卫生院", defaults={"org_type": OrgType.TOWNSHIP_HEALTH_CENTRE, "region": town})
    return org


def hospital(county_code: str) -> Organisation:
    org, _created = Organisation.objects.get_or_create(
        name=f"{county_code}精神专科医院", defaults={"org_type": OrgType.PSYCHIATRIC_HOSPITAL,
                                               "region": Region.objects.get(code=county_code)})
    return org


def make_patient(town: Region | None = None, **kwargs: Any) -> Patient:
    """A managed schizophrenia patient of ``town`` (township A by default)."""
    town = town or test_townships()[0]
    person = PersonFactory(region=town)
    defaults: dict[str, Any] = {
        "person": person, "region": town, "register_number": f"FU-T{next(_numbers):06d}",
        "source": RegistrationSource.CASE_REPORT, "registered_on": date(2024, 1, 10),
        "diagnosis": Diagnosis.SCHIZOPHRENIA, "icd10_code": "F20.0", "managing_organisation": clinic(town),
    }
    defaults.update(kwargs)
    return Patient.objects.create(**defaults)


STABLE_VISIT = FollowUpInput(
    followup_date=date(2025, 3, 3), method=2, danger_level=0, symptoms=(), insight=1, sleep=1, diet=1,
    self_care=1, housework=1, work=9, study=2, social=2, lock_status=1, hospital_status=0, lab_tests=1,
    adherence=1, adverse_reaction=1, treatment_effect=2, referral=1, rehab_measures=(1, 4),
    medications=(MedicationInput(times=2, dose=Decimal("2"), drug_name="利培酮"),),
)


def visit(**changes: Any) -> FollowUpInput:
    """A complete visit (stable unless changed)."""
    return replace(STABLE_VISIT, **changes)


def not_reached(**changes: Any) -> FollowUpInput:
    base = FollowUpInput(followup_date=date(2025, 3, 3), outcome=Outcome.NOT_REACHED, method=3,
                         not_reached_reason="电话无人接听")
    return replace(base, **changes)


def health_check(**changes: Any) -> HealthCheckInput:
    base = HealthCheckInput(check_date=date(2025, 3, 3), general_exam="未见异常", systolic_bp=120, diastolic_bp=80,
                            weight_kg=Decimal("62.5"), blood_count="正常", alt=Decimal(25), glucose=Decimal("5.1"),
                            ecg=1)
    return replace(base, **changes)


def discharge(**changes: Any) -> DischargeInput:
    base = DischargeInput(admission_date=date(2025, 2, 1), discharge_date=date(2025, 3, 3), diagnosis="F20",
                          icd10_code="F20.0", effect=2, rehab_measures=(1,),
                          medications=(MedicationInput(times=1, dose=Decimal(150), drug_name="帕利哌酮棕榈酸酯注射液",
                                                       period="month"),))
    return replace(base, **changes)
