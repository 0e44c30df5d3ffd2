"""Practitioners and credentials: registration in scope, credential types as data (the 2017 end of
the national counsellor qualification), uniqueness, revocation, encryption and masks."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from tests.registry.factories import BAIYUN, make_institution
from xinqiao.core import crypto
from xinqiao.core.masks import present
from xinqiao.core.models import AuditEvent
from xinqiao.registry import people, rules
from xinqiao.registry.models import Institution, Practitioner

pytestmark = pytest.mark.django_db


@pytest.fixture
def agency(cast: dict[str, Any]) -> Institution:
    return make_institution(None, name="天河心语咨询中心")


def register(cast: dict[str, Any], agency: Institution, *, name: str = "周明", profession: str = "counsellor") -> Any:
    return people.register_practitioner(cast["mhc_staff_a"], people.PractitionerInput(
        name=name, profession=profession, institution_id=agency.pk, post="心理咨询师"))


def test_register_a_practitioner_at_a_workplace_in_scope(cast: dict[str, Any], agency: Institution) -> None:
    practitioner = register(cast, agency)
    assert practitioner.region_id == agency.region_id and practitioner.practices.get().institution == agency
    assert "周明" not in str(practitioner) and str(practitioner).endswith(f"#{practitioner.pk}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, name_index FROM registry_practitioner WHERE id = %s", [practitioner.pk])
        raw_name, index = cursor.fetchone()
    assert raw_name.startswith("v1.") and "周明" not in raw_name
    assert index == crypto.blind_index("registry.practitioner_name", rules.normalise_name("周明"))
    assert AuditEvent.objects.filter(object_type="registry.practitioner", action="create").count() == 1
    elsewhere = make_institution(None, name="白云机构", region_code=BAIYUN)
    with pytest.raises(ValidationError) as exc:
        people.register_practitioner(cast["mhc_staff_a"], people.PractitionerInput(
            name="李四", profession="nurse", institution_id=elsewhere.pk))
    assert "institution" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        people.register_practitioner(cast["psychologist_a"], people.PractitionerInput(
            name="李四", profession="nurse", institution_id=agency.pk))


def test_the_national_counsellor_certificate_cannot_postdate_2017(cast: dict[str, Any], agency: Institution) -> None:
    practitioner = register(cast, agency)
    old = people.add_credential(cast["mhc_staff_a"], practitioner, people.CredentialInput(
        type_code="counsellor_national", number="1511000000000001", issue_date=date(2016, 11, 20)))
    assert old.status_on(date(2026, 1, 1)) == "valid"
    with pytest.raises(ValidationError) as exc:
        people.add_credential(cast["mhc_staff_a"], practitioner, people.CredentialInput(
            type_code="counsellor_national", number="1511000000000002", issue_date=date(2019, 5, 20)))
    assert "issue_date" in exc.value.message_dict
    newer = people.add_credential(cast["mhc_staff_a"], practitioner, people.CredentialInput(
        type_code="counsellor_skill_level", number="S-2023-01", issue_date=date(2023, 5, 20)))
    assert newer.expiry_date is None


def test_credential_rules(cast: dict[str, Any], agency: Institution) -> None:
    nurse = register(cast, agency, name="吴护士", profession="nurse")
    licence = people.add_credential(cast["mhc_staff_a"], nurse, people.CredentialInput(
        type_code="nurse_licence", number="2021440100001", issue_date=date(2021, 3, 15)))
    assert licence.expiry_date == date(2026, 3, 14)  # 《护士条例》: five years
    with pytest.raises(ValidationError) as exc:  # a number is unique within its type
        people.add_credential(cast["mhc_staff_a"], nurse, people.CredentialInput(
            type_code="nurse_licence", number="2021 4401 00001"))
    assert "number" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        people.add_credential(cast["mhc_staff_a"], nurse, people.CredentialInput(
            type_code="physician_licence", number="P1"))
    assert "type_code" in exc.value.message_dict  # not a nurse's credential
    with pytest.raises(ValidationError):
        people.add_credential(cast["mhc_staff_a"], nurse, people.CredentialInput(type_code="nope", number="1"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT number FROM registry_credential WHERE id = %s", [licence.pk])
        assert cursor.fetchone()[0].startswith("v1.")


def test_revocation_by_the_regulator_only(cast: dict[str, Any], agency: Institution) -> None:
    practitioner = register(cast, agency)
    credential = people.add_credential(cast["mhc_staff_a"], practitioner, people.CredentialInput(
        type_code="cps_registered", number="X-1"))
    with pytest.raises(PermissionDenied):
        people.revoke_credential(cast["mhc_staff_a"], credential, reason="发证机构撤销")
    people.revoke_credential(cast["regulator"], credential, reason="发证机构撤销")
    credential.refresh_from_db()
    assert credential.status_on(date(2026, 1, 1)) == "revoked"
    with pytest.raises(ValidationError):
        people.revoke_credential(cast["regulator"], credential, reason="再次撤销")


def test_training_and_leaving(cast: dict[str, Any], agency: Institution) -> None:
    practitioner = register(cast, agency)
    people.add_training(cast["mhc_staff_a"], practitioner, kind="continuing", title="危机干预培训",
                        completed_on=date(2025, 9, 1), hours=Decimal("12"))
    with pytest.raises(ValidationError) as exc:
        people.add_training(cast["mhc_staff_a"], practitioner, kind="continuing", title="",
                            completed_on=date(2025, 9, 1), hours=Decimal("0"))
    assert {"title", "hours"} <= set(exc.value.message_dict)
    people.end_practice(cast["mhc_staff_a"], practitioner.practices.get(), ended_on=date(2026, 1, 31))
    practitioner.refresh_from_db()
    assert practitioner.status == "left"


def test_names_and_numbers_per_role(cast: dict[str, Any], agency: Institution) -> None:
    practitioner = register(cast, agency)
    credential = people.add_credential(cast["mhc_staff_a"], practitioner, people.CredentialInput(
        type_code="cps_registered", number="X-9"))
    assert present(cast["regulator"], practitioner) == {"name": "周明"}
    assert present(cast["regulator"], credential) == {"number": "X-9"}
    assert present(cast["police_a"], practitioner) == {}  # no category for the police
    # Institution staff see their own organisation's practitioners only.
    cast["psychologist_a"].organisation = agency.organisation
    cast["psychologist_a"].save(update_fields=["organisation"])
    assert list(Practitioner.objects.restrict(cast["psychologist_a"])) == [practitioner]
    other = make_institution(None, name="另一家机构")
    people.register_practitioner(cast["mhc_staff_a"], people.PractitionerInput(
        name="钱某", profession="counsellor", institution_id=other.pk))
    assert list(Practitioner.objects.restrict(cast["psychologist_a"])) == [practitioner]
    assert Practitioner.objects.restrict(cast["mhc_staff_a"]).count() == 2
    assert not Practitioner.objects.restrict(cast["mhc_staff_b"]).exists()
