"""Factories of the register: clinics and hospitals of the test townships, patients, case reports.

``PatientFactory`` writes rows directly (fast, for tests of other behaviour); tests of registration
itself go through ``xinqiao.patients.services``. Regions are real (``tests.factories.test_townships``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import factory

from tests.factories import PersonFactory, test_townships
from xinqiao.core.models import Organisation, OrgType, Region
from xinqiao.patients.codes import Diagnosis, PatientStatus, RegistrationSource
from xinqiao.patients.models import Patient


def clinic_of(town: Region) -> Organisation:
    """The township's community health centre (made once)."""
    org, _created = Organisation.objects.get_or_create(
        region=town, name=f"{town.name}社区卫生服务中心(测试)",
        defaults={"org_type": OrgType.COMMUNITY_HEALTH_CENTRE})
    return org


def hospital_of(region: Region) -> Organisation:
    """A psychiatric hospital placed in ``region`` (made once)."""
    org, _created = Organisation.objects.get_or_create(
        region=region, name=f"{region.name}精神专科医院(测试)",
        defaults={"org_type": OrgType.PSYCHIATRIC_HOSPITAL})
    return org


def county_centre_of(town: Region) -> Organisation:
    """The county mental-health centre of a township's county (made once)."""
    county = Region.objects.get(code=town.county_code)
    org, _created = Organisation.objects.get_or_create(
        region=county, name=f"{county.name}精神卫生中心(测试)", defaults={"org_type": OrgType.MHC_COUNTY})
    return org


def _register_number(o: Any) -> str:
    """From the county's real counter, so a number the services give later never collides."""
    from xinqiao.patients.services import next_register_numbers

    return next_register_numbers(o.region.county_code, 2026)[0]


class PatientFactory(factory.django.DjangoModelFactory):
    """A managed patient with schizophrenia in township A unless told otherwise."""

    class Meta:
        model = Patient

    region = factory.LazyFunction(lambda: test_townships()[0])
    person = factory.LazyAttribute(lambda o: PersonFactory(region=o.region))
    register_number = factory.LazyAttribute(_register_number)
    status = PatientStatus.MANAGED
    source = RegistrationSource.CASE_REPORT
    registered_on = date(2026, 1, 5)
    diagnosis = Diagnosis.SCHIZOPHRENIA
    icd10_code = "F20.0"
    managing_organisation = factory.LazyAttribute(lambda o: clinic_of(o.region))
    danger_level = 0
