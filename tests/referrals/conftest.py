"""Fixtures of the referral tests: the care network with the cast placed in it, patients of A and B."""

from __future__ import annotations

from typing import Any

import pytest

from tests.referrals.factories import PatientFactory, network


@pytest.fixture
def net(cast: dict[str, Any], towns: list[Any]) -> dict[str, Any]:
    """Organisations of townships A and B (clinic, county hospital, county centre, police station)."""
    return network(cast, towns)


@pytest.fixture
def patient_a(towns: list[Any], net: dict[str, Any]) -> Any:
    return PatientFactory(region=towns[0], danger_level=3)


@pytest.fixture
def patient_b(towns: list[Any], net: dict[str, Any]) -> Any:
    return PatientFactory(region=towns[1])
