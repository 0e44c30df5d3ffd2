"""FHIR Questionnaire per instrument; a stored response as QuestionnaireResponse + score Observation
(scoped, audited, without identity)."""

from __future__ import annotations

from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from tests.factories import school_campaign_group
from tests.helpers import verified_client
from xinqiao.core.models import AuditEvent, Region
from xinqiao.fhir.questionnaires import (
    ORDINAL_VALUE,
    questionnaire,
    questionnaire_response,
    score_observation,
)
from xinqiao.screening import services
from xinqiao.screening.instruments import INSTRUMENT_IDS, all_instruments, load
from xinqiao.screening.models import CampaignGroup, Source

LOINC = "http://loinc.org"
PHQ9_ITEMS = [
    "44250-9",
    "44255-8",
    "44259-0",
    "44254-1",
    "44251-7",
    "44258-2",
    "44252-5",
    "44253-3",
    "44260-8",
]
PHQ9_ANSWERS = ["LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"]


def _items(resource: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["linkId"]: item for item in resource["item"]}


def _ordinals(item: dict[str, Any]) -> list[float]:
    out = []
    for option in item["answerOption"]:
        [ext] = [e for e in option["extension"] if e["url"] == ORDINAL_VALUE]
        out.append(ext["valueDecimal"])
    return out


# --- Questionnaire definitions (no database) ------------------------------------------------------


@pytest.mark.parametrize("instrument", all_instruments(), ids=lambda i: i.id)
def test_every_instrument_questionnaire_validates(instrument: Any) -> None:
    resource = questionnaire(instrument)
    Questionnaire.model_validate(resource)
    assert resource["url"] == f"urn:xinqiao:questionnaire:{instrument.id}"
    assert resource["version"] == instrument.version
    assert resource["status"] == "active"
    assert resource["title"] == instrument.name.zh
    assert resource["copyright"] == instrument.licence.copyright
    items = _items(resource)
    for item in instrument.items:
        fhir_item = items[item.label]
        assert fhir_item["type"] == "choice" and fhir_item["text"] == item.text.zh
        assert fhir_item["required"] is item.required
        assert _ordinals(fhir_item) == list(item.points)  # points actually scored, reverse applied
        codings = [o["valueCoding"] for o in fhir_item["answerOption"]]
        for index, (option, coding) in enumerate(zip(item.options, codings, strict=True)):
            assert coding["display"] == option.text.zh
            if option.loinc_answer:
                assert (coding["system"], coding["code"]) == (LOINC, option.loinc_answer)
            else:
                assert (coding["system"], coding["code"]) == (
                    f"urn:xinqiao:answer:{instrument.id}",
                    f"{item.label}-{index}",
                )


def test_title_carries_the_english_translation() -> None:
    resource = questionnaire(load("gad7"))
    [translation] = resource["_title"]["extension"]
    parts = {e["url"]: e.get("valueCode") or e.get("valueString") for e in translation["extension"]}
    assert parts == {"lang": "en", "content": load("gad7").name.en}


def test_phq9_has_loinc_panel_item_and_answer_codes() -> None:
    resource = questionnaire(load("phq9"))
    assert resource["code"] == [{"system": LOINC, "code": "44249-1"}]
    items = _items(resource)
    for number, code in enumerate(PHQ9_ITEMS, start=1):
        item = items[str(number)]
        assert item["code"] == [{"system": LOINC, "code": code}]
        assert [o["valueCoding"]["code"] for o in item["answerOption"]] == PHQ9_ANSWERS
        assert _ordinals(item) == [0, 1, 2, 3]
    assert items["difficulty"]["code"][0]["code"] == "69722-7"  # unscored: no points
    assert items["difficulty"]["required"] is False
    assert all("extension" not in o for o in items["difficulty"]["answerOption"])


def test_unverified_and_missing_loinc_codes_are_left_out() -> None:
    assert "code" not in questionnaire(load("gad2"))  # no panel code
    assert "code" not in questionnaire(load("k10"))
    assert questionnaire(load("gad7"))["code"][0]["code"] == "69737-5"


def test_epds_reverse_items_score_three_on_their_first_option() -> None:
    epds = load("epds")
    items = _items(questionnaire(epds))
    reverse = [item.label for item in epds.items if item.reverse]
    assert reverse == ["3", "5", "6", "7", "8", "9", "10"]
    for label in reverse:
        assert _ordinals(items[label]) == [3, 2, 1, 0]
    for label in ("1", "2", "4"):
        assert _ordinals(items[label]) == [0, 1, 2, 3]


def test_cssrs_skip_logic_is_enable_when() -> None:
    items = _items(questionnaire(load("cssrs")))
    yes = {"system": LOINC, "code": "LA33-6", "display": "是"}
    for label in ("3", "4", "5"):
        assert items[label]["enableWhen"] == [{"question": "2", "operator": "=", "answerCoding": yes}]
    assert items["6b"]["enableWhen"] == [{"question": "6", "operator": "=", "answerCoding": yes}]
    for label in ("1", "2", "6"):
        assert "enableWhen" not in items[label]


# --- Stored responses -----------------------------------------------------------------------------


@pytest.fixture
def campaign(cast: dict[str, Any], towns: list[Any]) -> CampaignGroup:
    """An identified campaign of psychologist_a's school in county A, with one class."""
    return school_campaign_group(cast["psychologist_a"], Region.objects.get(code=towns[0].county_code))


PHQ9 = [1, 2, 0, 3, 1, 0, 2, 1, 1]


@pytest.fixture
def stored(campaign: CampaignGroup, towns: list[Any]) -> Any:
    answers: list[int | None] = list(PHQ9)
    response, created = services.submit_response(
        services.Submission(
            instrument="phq9",
            answers=answers,
            source=Source.CAMPAIGN,
            region_code=towns[0].code,
            group=campaign,
            participant_name="李同学",
            participant_number="20260101",
        )
    )
    assert created
    return response


@pytest.mark.django_db
def test_questionnaire_response_and_observation_validate(stored: Any) -> None:
    qr = questionnaire_response(stored)
    QuestionnaireResponse.model_validate(qr)
    assert qr["questionnaire"] == "urn:xinqiao:questionnaire:phq9|1.0.0"
    assert qr["status"] == "completed" and qr["authored"]
    assert [i["linkId"] for i in qr["item"]] == [str(n) for n in range(1, 10)]
    assert [i["answer"][0]["valueCoding"]["code"] for i in qr["item"]] == [PHQ9_ANSWERS[a] for a in PHQ9]
    assert "subject" not in qr and "author" not in qr

    obs = score_observation(stored)
    Observation.model_validate(obs)
    assert obs["id"] == f"screening-{stored.pk}"
    assert obs["status"] == "final"
    assert obs["category"][0]["coding"][0]["code"] == "survey"
    assert obs["code"]["coding"] == [{"system": LOINC, "code": "44261-6"}]
    assert obs["valueInteger"] == stored.total == sum(PHQ9) == 11
    assert obs["interpretation"][0]["coding"][0]["code"] == stored.band == "moderate"
    assert obs["interpretation"][1]["coding"][0]["code"] == "POS"
    assert obs["derivedFrom"] == [{"reference": f"QuestionnaireResponse/{stored.pk}"}]
    assert "subject" not in obs
    alerts = [
        c["valueCodeableConcept"]["coding"][0]["code"]
        for c in obs["component"]
        if c["code"]["coding"][0]["code"] == "alert"
    ]
    assert alerts == ["suicide_risk"]


@pytest.mark.django_db
def test_cssrs_observation_has_the_risk_level_and_skipped_items_are_absent(
    campaign: CampaignGroup, towns: list[Any]
) -> None:
    response, _ = services.submit_response(
        services.Submission(
            instrument="cssrs",
            answers=[1, 0, None, None, None, 1, 0],
            source=Source.CAMPAIGN,
            region_code=towns[0].code,
            group=campaign,
        )
    )
    qr = questionnaire_response(response)
    assert [i["linkId"] for i in qr["item"]] == ["1", "2", "6", "6b"]
    obs = score_observation(response)
    assert "valueInteger" not in obs and "coding" not in obs["code"]
    assert obs["valueCodeableConcept"]["coding"][0]["code"] == response.band == "moderate"


@pytest.mark.django_db
def test_sds_observation_carries_the_standard_score(towns: list[Any]) -> None:
    response, _ = services.submit_response(
        services.Submission(
            instrument="sds", answers=[1] * 20, source=Source.PUBLIC, region_code=towns[0].code
        )
    )
    obs = score_observation(response)
    Observation.model_validate(obs)
    assert obs["code"] == {"text": "SDS 总分"}
    [standard] = [c for c in obs["component"] if c["code"]["coding"][0]["code"] == "standard_score"]
    assert standard["valueInteger"] == response.standard_score


# --- Routes ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_questionnaires_are_public(client: Any) -> None:
    found = client.get("/fhir/Questionnaire")
    assert found.status_code == 200 and found["Content-Type"].startswith("application/fhir+json")
    body = found.json()
    Bundle.model_validate(body)
    assert [e["resource"]["id"] for e in body["entry"]] == list(INSTRUMENT_IDS)
    one = client.get("/fhir/Questionnaire", {"url": "urn:xinqiao:questionnaire:epds|1.0.0"}).json()
    assert [e["resource"]["id"] for e in one["entry"]] == ["epds"]
    assert (
        client.get("/fhir/Questionnaire", {"url": "urn:xinqiao:questionnaire:epds|9.9.9"}).json()["total"]
        == 0
    )
    read = client.get("/fhir/Questionnaire/phq9")
    assert read.status_code == 200 and read.json()["code"][0]["code"] == "44249-1"
    missing = client.get("/fhir/Questionnaire/nope")
    assert missing.status_code == 404 and missing.json()["resourceType"] == "OperationOutcome"


@pytest.mark.django_db
def test_capability_statement_lists_the_screening_resources(client: Any) -> None:
    body = client.get("/fhir/metadata").json()
    CapabilityStatement.model_validate(body)
    types = [r["type"] for r in body["rest"][0]["resource"]]
    assert types[0] == "Patient"
    assert {"Questionnaire", "QuestionnaireResponse", "Observation"} <= set(types)


@pytest.mark.django_db
def test_read_in_scope_is_valid_audited_and_without_identity(cast: dict[str, Any], stored: Any) -> None:
    client = verified_client(cast["psychologist_a"])
    for url, model, kind in (
        (f"/fhir/QuestionnaireResponse/{stored.pk}", QuestionnaireResponse, "QuestionnaireResponse"),
        (f"/fhir/Observation/screening-{stored.pk}", Observation, "Observation"),
    ):
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert resp["Content-Type"].startswith("application/fhir+json")
        model.model_validate(resp.json())
        text = resp.content.decode()
        assert "李同学" not in text and "20260101" not in text
        assert AuditEvent.objects.filter(
            action="view",
            object_type="screening.screeningresponse",
            object_id=str(stored.pk),
            actor_username="psychologist_a",
            detail__via="fhir",
            detail__resource=kind,
        ).exists()
    regulator = verified_client(cast["regulator"])
    assert regulator.get(f"/fhir/Observation/screening-{stored.pk}").json()["valueInteger"] == 11


@pytest.mark.django_db
def test_out_of_scope_is_not_found_outcome(cast: dict[str, Any], stored: Any) -> None:
    for user in ("mhc_staff_b", "psychologist_b", "police_a"):
        client = verified_client(cast[user])
        for url in (
            f"/fhir/QuestionnaireResponse/{stored.pk}",
            f"/fhir/Observation/screening-{stored.pk}",
            "/fhir/QuestionnaireResponse/nope",
            "/fhir/Observation/screening-nope",
        ):
            resp = client.get(url)
            assert resp.status_code == 404, (user, url)
            assert resp.json()["resourceType"] == "OperationOutcome"
    assert not AuditEvent.objects.filter(action="view", object_type="screening.screeningresponse").exists()


@pytest.mark.django_db
def test_public_responses_are_for_centres_not_psychologists(
    cast: dict[str, Any], campaign: CampaignGroup, towns: list[Any]
) -> None:
    response, _ = services.submit_response(
        services.Submission(
            instrument="phq2", answers=[1, 1], source=Source.PUBLIC, region_code=towns[0].code
        )
    )
    url = f"/fhir/QuestionnaireResponse/{response.pk}"
    assert verified_client(cast["psychologist_a"]).get(url).status_code == 404
    assert verified_client(cast["mhc_staff_a"]).get(url).status_code == 200


@pytest.mark.django_db
def test_anonymous_gets_401_outcome(client: Any, stored: Any) -> None:
    for url in (f"/fhir/QuestionnaireResponse/{stored.pk}", f"/fhir/Observation/screening-{stored.pk}"):
        resp = client.get(url)
        assert resp.status_code == 401
        assert resp.json()["resourceType"] == "OperationOutcome"
