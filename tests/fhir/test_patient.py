"""FHIR Patient: same scope, masks and audit as every other path; resources validate as R4."""

from __future__ import annotations

from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.patient import Patient

from tests.factories import PersonFactory
from tests.helpers import verified_client
from xinqiao.core.models import AuditEvent
from xinqiao.fhir.resources import id_system

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(cast: dict[str, Any], towns: list[Any]) -> dict[str, Any]:
    return {"a": PersonFactory(region=towns[0]), "b": PersonFactory(region=towns[1])}


def test_metadata_is_a_capability_statement(client: Any) -> None:
    body = client.get("/fhir/metadata").json()
    assert body["resourceType"] == "CapabilityStatement"
    assert body["fhirVersion"] == "4.0.1"
    assert body["rest"][0]["resource"][0]["type"] == "Patient"


def test_read_in_scope_is_masked_valid_and_audited(cast: dict[str, Any], people: dict[str, Any]) -> None:
    client = verified_client(cast["police_a"])
    person = people["a"]
    resp = client.get(f"/fhir/Patient/{person.pk}")
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("application/fhir+json")
    body = resp.json()
    Patient.model_validate(body)  # valid R4(B) Patient
    assert body["identifier"][0]["system"] == id_system("resident_id")
    assert body["identifier"][0]["value"] == person.id_number[:4] + "*" * 10 + person.id_number[-4:]
    assert "*" in body["name"][0]["text"] and person.name not in resp.content.decode()
    assert body["meta"]["security"][0]["code"] == "MASKED"
    assert body["birthDate"] == str(person.birth_date.year)  # police see the birth year only
    assert AuditEvent.objects.filter(action="view", object_id=str(person.pk), detail__via="fhir").exists()


def test_hidden_categories_are_absent(cast: dict[str, Any], people: dict[str, Any]) -> None:
    body = verified_client(cast["grid_worker_a"]).get(f"/fhir/Patient/{people['a'].pk}").json()
    assert "identifier" not in body and "telecom" not in body and "birthDate" not in body
    assert body["name"][0]["text"].startswith(people["a"].name[0])


def test_out_of_scope_is_not_found_outcome(cast: dict[str, Any], people: dict[str, Any]) -> None:
    resp = verified_client(cast["police_a"]).get(f"/fhir/Patient/{people['b'].pk}")
    assert resp.status_code == 404
    assert resp.json()["resourceType"] == "OperationOutcome"


def test_search_by_identifier_uses_blind_index_within_scope(cast: dict[str, Any], people: dict[str, Any]) -> None:
    a, b = people["a"], people["b"]
    doctor = verified_client(cast["community_doctor_a"])
    found = doctor.get("/fhir/Patient", {"identifier": f"{id_system('resident_id')}|{a.id_number.lower()}"}).json()
    Bundle.model_validate(found)
    assert [e["resource"]["id"] for e in found.get("entry", [])] == [str(a.pk)]
    other = doctor.get("/fhir/Patient", {"identifier": f"{id_system('resident_id')}|{b.id_number}"}).json()
    assert other["total"] == 0  # exists, but outside the doctor's township
    regulator = verified_client(cast["regulator"])
    assert regulator.get("/fhir/Patient", {"identifier": f"{id_system('resident_id')}|{b.id_number}"}).json()["total"] == 1


def test_search_with_bad_identifier_names_the_problem(cast: dict[str, Any]) -> None:
    doctor = verified_client(cast["community_doctor_a"])
    resp = doctor.get("/fhir/Patient", {"identifier": f"{id_system('resident_id')}|110105194912310021"})
    assert resp.status_code == 400
    assert "id_number" in resp.json()["issue"][0]["diagnostics"]
    assert doctor.get("/fhir/Patient", {"identifier": "nosystem"}).status_code == 400


def test_anonymous_gets_401_outcome(client: Any, people: dict[str, Any]) -> None:
    resp = client.get(f"/fhir/Patient/{people['a'].pk}")
    assert resp.status_code == 401
    assert resp.json()["resourceType"] == "OperationOutcome"


def test_post_search_keeps_the_number_out_of_the_url(cast: dict[str, Any], people: dict[str, Any]) -> None:
    a = people["a"]
    doctor = verified_client(cast["community_doctor_a"])
    resp = doctor.post("/fhir/Patient/_search", {"identifier": f"{id_system('resident_id')}|{a.id_number}"})
    assert resp.status_code == 200
    assert [e["resource"]["id"] for e in resp.json()["entry"]] == [str(a.pk)]
    police = verified_client(cast["police_b"])  # township B: the A person is out of scope
    assert police.post("/fhir/Patient/_search", {"identifier": f"{id_system('resident_id')}|{a.id_number}"}).json()["total"] == 0
