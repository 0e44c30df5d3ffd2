"""Factories for the work-list tests: registered patients with the work-list columns set directly.

The columns (next follow-up due, last classification, failed attempts, awaiting a first visit
since) are normally kept current by the follow-up services; here each test states them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import factory

from tests.factories import OrganisationFactory, PersonFactory, test_townships
from xinqiao.core.models import Organisation, OrgType, Region
from xinqiao.patients.codes import Diagnosis, PatientStatus, RegistrationSource
from xinqiao.patients.models import Patient


def clinic(region: Region, name: str = "") -> Organisation:
    """The (one) community health centre of a township, created on first use."""
    org, _created = Organisation.objects.get_or_create(
        region=region, name=name or f"{region.name}社区卫生服务中心（测试）",
        defaults={"org_type": OrgType.COMMUNITY_HEALTH_CENTRE},
    )
    return org


def county_centre(county: Region) -> Organisation:
    """The county mental-health centre (精防机构) of a county."""
    return OrganisationFactory(name=f"{county.name}精神卫生中心（测试）", org_type=OrgType.MHC_COUNTY, region=county)


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    region = factory.LazyFunction(lambda: test_townships()[0])
    person = factory.SubFactory(PersonFactory, region=factory.SelfAttribute("..region"))
    register_number = factory.Sequence(lambda n: f"WL-{n:08d}")
    status = PatientStatus.MANAGED
    source = RegistrationSource.COMMUNITY
    registered_on = date(2024, 1, 10)
    diagnosis = Diagnosis.SCHIZOPHRENIA
    icd10_code = "F20.0"
    managing_organisation = factory.LazyAttribute(lambda o: clinic(o.region))
    danger_level = 0


def patient(**kwargs: Any) -> Patient:
    """A managed patient in township A (unless told otherwise)."""
    return PatientFactory(**kwargs)
