"""Factories of the registry: registered institutions (through the same write path as an approval),
practitioners with credentials, and the staff of an institution.

Regions are real (the demo's townships and counties); coordinates are in Guangzhou.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth.models import Group

from tests.factories import UserFactory
from xinqiao.core.models import Organisation, Region, User
from xinqiao.registry.models import (
    Credential,
    Institution,
    InstitutionVersion,
    Practice,
    Practitioner,
)
from xinqiao.registry.services import InstitutionInput, apply_details, record_version

TIANHE = "440106"
BAIYUN = "440111"
CITY = "4401"


def institution_input(**overrides: Any) -> InstitutionInput:
    values: dict[str, Any] = {
        "name": "测试心理咨询中心", "kind": "counselling_agency", "region_code": TIANHE,
        "address": "天河区测试路1号", "phone": "020-88888888", "latitude": 23.1252, "longitude": 113.3612,
        "hours": "1-5 09:00-18:00", "services": ["counselling"], "populations": ["adults"],
        "business_licence_number": "91440106MA5TEST01X", "licensing_status": "licensed",
    }
    values.update(overrides)
    return InstitutionInput(**values)


def make_institution(actor: Any = None, organisation: Organisation | None = None, parent: Organisation | None = None,
                     **overrides: Any) -> Institution:
    """A registered, active institution (written like an import: version 1, audited)."""
    data = institution_input(**overrides)
    institution = apply_details(data, actor=actor, organisation=organisation, parent=parent)
    record_version(institution, source=InstitutionVersion.Source.IMPORT, actor=actor, before=None)
    return institution


def make_practitioner(institution: Institution, *, name: str = "李医生", profession: str = "psychiatrist",
                      credential: tuple[str, str] | None = ("physician_licence", "110440106000123"),
                      issue_date: date | None = date(2015, 7, 1), expiry_date: date | None = None) -> Practitioner:
    practitioner = Practitioner.objects.create(name=name, profession=profession, region_id=institution.region_id)
    Practice.objects.create(practitioner=practitioner, institution=institution, is_primary=True)
    if credential:
        Credential.objects.create(practitioner=practitioner, type_code=credential[0], number=credential[1],
                                  issue_date=issue_date, expiry_date=expiry_date)
    return practitioner


def staff_of(organisation: Organisation, role: str, *, username: str, region: Region | None = None) -> User:
    """A user of ``role`` working at ``organisation`` (placed in its region unless told otherwise)."""
    user = UserFactory(username=username, region=region or organisation.region, roles=[role],
                       organisation=organisation)
    return user


def role_group(role: str) -> Group:
    return Group.objects.get(name=role)
