"""The demo network of the demo city: realistic, deterministic, re-runnable, audited."""

from __future__ import annotations

import random
from typing import Any

import pytest

from xinqiao.core.audit import verify_chain
from xinqiao.core.demo import DemoResult, build_accounts, build_organisations, demo_townships
from xinqiao.core.roles import sync_roles
from xinqiao.registry import coverage, demo, lookup
from xinqiao.registry.models import (
    Complaint,
    Credential,
    Evaluation,
    Institution,
    Practitioner,
    RegistrationApplication,
    Sanction,
)

pytestmark = pytest.mark.django_db


def build(seed: int = 2026) -> Any:
    sync_roles()
    towns = demo_townships()
    rng = random.Random(seed)
    orgs = build_organisations(rng, towns)
    accounts = build_accounts(rng, towns, orgs)
    result = DemoResult(accounts=accounts, organisations=len(orgs), townships=towns, orgs=orgs)
    demo.extend_demo(random.Random(seed + 2), result)
    return result


def test_the_demo_city_has_a_realistic_network() -> None:
    result = build()
    city = Institution.objects.filter(city_code="4401")
    kinds = set(city.values_list("kind", flat=True))
    assert {"psychiatric_hospital", "general_hospital_clinic", "mental_health_centre", "counselling_room",
            "school_room", "university_centre", "hotline", "counselling_agency", "crisis_team",
            "rehabilitation_site"} <= kinds
    assert city.count() >= 25
    assert Practitioner.objects.filter(city_code="4401", profession="psychiatrist").count() >= 10
    assert Credential.objects.filter(type_code="counsellor_national").exists()
    assert Sanction.objects.filter(status="in_force", public=True).count() == 1
    assert city.filter(demonstration=True).count() == 1
    assert Evaluation.objects.filter(status="final").count() == 2
    assert RegistrationApplication.objects.filter(status="submitted").count() == 1
    assert Complaint.objects.count() == 1
    assert any("registry:" in n for n in result.notes)
    assert verify_chain().ok
    answer = lookup.lookup("林晓岚", "1511000000123456")
    assert answer["found"] and answer["status"] == "valid" and answer["sanctions"] == []
    report = coverage.coverage("4401", year=2026)
    assert report.total.population == 18900000  # the synthetic 2025 figure (data/statistics/README.md)
    assert coverage.coverage("4401", year=2020).total.population == 18676605  # the 2020 census
    assert report.total.psychiatrists >= 10 and report.total.psychiatrists_per_100k is not None
    assert report.total.hotlines >= 1 and report.total.crisis_teams == 1


def test_a_second_run_keeps_the_network() -> None:
    build()
    first = sorted(Institution.objects.values_list("organisation__name", flat=True))
    coords = sorted(Institution.objects.values_list("points__latitude", flat=True))
    build()  # a re-run keeps what exists
    assert sorted(Institution.objects.values_list("organisation__name", flat=True)) == first
    assert sorted(Institution.objects.values_list("points__latitude", flat=True)) == coords
