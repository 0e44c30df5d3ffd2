"""Fixtures of the management-group tests: township A's comprehensive group with its members, and
three patients of township A: danger 3, danger 0, and danger 0 with a 肇事肇祸 history."""

from __future__ import annotations

from typing import Any

import pytest

from tests.caregroups.factories import group, seat
from tests.patients.factories import PatientFactory


@pytest.fixture
def team(cast: dict[str, Any], towns: list[Any]) -> dict[str, Any]:
    lead = cast["zongzhi_a"]
    g = group(lead, towns[0])
    members = {
        "zongzhi": seat(lead, g, "zongzhi", user=lead),
        "police": seat(lead, g, "police", user=cast["police_a"]),
        "health": seat(lead, g, "health", user=cast["community_doctor_a"]),
        "justice": seat(lead, g, "justice", name="赵司法", phone="13712345678"),
    }
    return {"group": g, "members": members}


@pytest.fixture
def patients(towns: list[Any]) -> dict[str, Any]:
    return {
        "danger3": PatientFactory(region=towns[0], danger_level=3),
        "danger0": PatientFactory(region=towns[0], danger_level=0),
        "incident": PatientFactory(region=towns[0], danger_level=0, incident_history=True),
        "other_town": PatientFactory(region=towns[1], danger_level=4),
    }
