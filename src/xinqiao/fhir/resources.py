"""Building FHIR resources from platform records, through the same masks as every other path.

Resources are validated by ``fhir.resources``' R4B models; R4B is wire-compatible with R4
(4.0.1) for Patient, Bundle, OperationOutcome and CapabilityStatement, which is what the
CapabilityStatement declares. Masked values carry the v3 ``MASKED`` security label.
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient

from xinqiao.core.masks import Visibility, present, visibility
from xinqiao.core.models import Person

FHIR_VERSION = "4.0.1"
# Identifier systems: project-defined URNs, one per document type (no national FHIR NamingSystem is
# published for these; a deployment can map them to OIDs at its boundary).
ID_SYSTEM_PREFIX = "urn:xinqiao:id-type:"
MASKED_LABEL = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "MASKED",
                "display": "masked"}
GENDER = {"M": "male", "F": "female", "U": "unknown"}


def id_system(id_type: str) -> str:
    """The identifier system URI of a document type."""
    return f"{ID_SYSTEM_PREFIX}{id_type}"


def patient_resource(user: Any, person: Person) -> dict[str, Any]:
    """A Patient as ``user`` may see ``person`` (hidden fields absent, masked ones masked)."""
    shown = present(user, person)
    masked_any = any(visibility(user, c) == Visibility.MASKED for c in Person.PII_FIELDS.values())
    data: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(person.pk),
        "meta": {"security": [MASKED_LABEL]} if masked_any else {},
        # The township is not personal data on its own; the street address is, and is masked.
        "address": [{"district": person.region.name, "postalCode": person.township_code,
                     **({"text": shown["address"]} if shown.get("address") else {})}],
    }
    if shown.get("name"):
        data["name"] = [{"text": shown["name"]}]
    if shown.get("id_number"):
        data["identifier"] = [{"system": id_system(person.id_type), "value": shown["id_number"]}]
    if "sex" in shown:
        data["gender"] = GENDER.get(person.sex, "unknown")
    if shown.get("birth_date"):
        birth = str(shown["birth_date"])
        data["birthDate"] = birth[:4] if "*" in birth else birth
    if shown.get("phone"):
        data["telecom"] = [{"system": "phone", "value": shown["phone"]}]
    if not data["meta"]:
        del data["meta"]
    return Patient.model_validate(data).model_dump(mode="json", exclude_none=True)


def bundle(resources: list[dict[str, Any]], base: str) -> dict[str, Any]:
    """A searchset Bundle of the given resources."""
    entries = [{"fullUrl": f"{base}{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}}
               for r in resources]
    data = {"resourceType": "Bundle", "type": "searchset", "total": len(resources), "entry": entries}
    return Bundle.model_validate(data).model_dump(mode="json", exclude_none=True)


def operation_outcome(code: str, text: str, severity: str = "error") -> dict[str, Any]:
    """An OperationOutcome with one issue."""
    data = {"resourceType": "OperationOutcome",
            "issue": [{"severity": severity, "code": code, "diagnostics": text}]}
    return OperationOutcome.model_validate(data).model_dump(mode="json", exclude_none=True)


def capability_statement(base: str) -> dict[str, Any]:
    """What this server supports."""
    data = {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-11-23",
        "kind": "instance",
        "fhirVersion": FHIR_VERSION,
        "format": ["json"],
        "software": {"name": "xinqiao"},
        "implementation": {"description": "xinqiao FHIR R4 facade (resources validated with fhir.resources "
                           "R4B models, wire-compatible with R4 4.0.1 for the resources listed). Results "
                           "are scoped to the caller's region and masked per role.", "url": base},
        "rest": [{
            "mode": "server",
            "security": {"description": "Session sign-in with two-factor verification; every read is audited."},
            "resource": [{
                "type": "Patient",
                "interaction": [{"code": "read"}, {"code": "search-type"}],
                "documentation": "Prefer POST Patient/_search: an identifier in a URL ends up in access logs.",
                "searchParam": [{"name": "identifier", "type": "token",
                                 "documentation": "system|value, system = urn:xinqiao:id-type:<document type>"}],
            }, {
                "type": "Questionnaire",
                "interaction": [{"code": "read"}, {"code": "search-type"}],
                "documentation": "One per screening instrument (public); id = instrument id, url = "
                                 "urn:xinqiao:questionnaire:<id>. Answer points in the ordinalValue extension.",
                "searchParam": [{"name": "url", "type": "uri", "documentation": "canonical, optionally |version"}],
            }, {
                "type": "QuestionnaireResponse",
                "interaction": [{"code": "read"}],
                "documentation": "A stored screening response, scoped and audited; never carries identity.",
            }, {
                "type": "Observation",
                "interaction": [{"code": "read"}],
                "documentation": "Observation/screening-<response id>: the total score, band and subscales, "
                                 "derivedFrom the QuestionnaireResponse.",
            }],
        }],
    }
    return CapabilityStatement.model_validate(data).model_dump(mode="json", exclude_none=True)
