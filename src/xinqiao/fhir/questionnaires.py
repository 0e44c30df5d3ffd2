"""FHIR R4 Questionnaire, QuestionnaireResponse and score Observation for the screening instruments.

One Questionnaire per instrument definition (``instruments/<id>.json``): canonical
``urn:xinqiao:questionnaire:<id>``, version = the definition's version, LOINC codes where
INSTRUMENTS.md gives them, and on every answer option the points it actually scores (reverse
applied, :attr:`~xinqiao.screening.instruments.Item.points`) as the ``ordinalValue`` extension.
A stored :class:`~xinqiao.screening.models.ScreeningResponse` becomes a QuestionnaireResponse (the
answers) and an Observation (the total, band and subscales, derived from the response).

Identity is never part of these resources: public responses are anonymous, and the name and number
of an identified campaign participant are shown only through the masked campaign pages. LOINC codes
that the instrument file lists as unverified (GAD-2 total) are not emitted; the code falls back to
text. Every resource is validated by the ``fhir.resources`` R4B models before it is returned.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from xinqiao.screening.instruments import Instrument, Item, Option, SupplementaryItem, Text, load

LOINC = "http://loinc.org"
LANGUAGE = "zh-CN"
QUESTIONNAIRE_PREFIX = "urn:xinqiao:questionnaire:"
ANSWER_PREFIX = "urn:xinqiao:answer:"
BAND_PREFIX = "urn:xinqiao:band:"
SUBSCALE_PREFIX = "urn:xinqiao:subscale:"
SCORE_SYSTEM = "urn:xinqiao:score"
ALERT_SYSTEM = "urn:xinqiao:alert"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
INSTRUCTIONS_LINK_ID = "instructions"

__all__ = [
    "QUESTIONNAIRE_PREFIX",
    "observation_id",
    "questionnaire",
    "questionnaire_for",
    "questionnaire_response",
    "questionnaire_url",
    "score_observation",
]


def questionnaire_url(instrument_id: str) -> str:
    """The canonical URL of an instrument's Questionnaire."""
    return f"{QUESTIONNAIRE_PREFIX}{instrument_id}"


def observation_id(response: Any) -> str:
    """The id of the score Observation of a stored response."""
    return f"screening-{response.pk}"


def _loinc(instrument: Instrument, code: str | None) -> str | None:
    """A LOINC code, unless missing or listed as unverified in the instrument file."""
    return code if code and code not in instrument.loinc.unverified else None


def _translated(text: Text) -> dict[str, Any]:
    """The ``_element`` carrying the English wording as a ``translation`` extension."""
    return {
        "extension": [
            {
                "url": TRANSLATION,
                "extension": [{"url": "lang", "valueCode": "en"}, {"url": "content", "valueString": text.en}],
            }
        ]
    }


def _answer_coding(instrument: Instrument, label: str, index: int, option: Option) -> dict[str, Any]:
    """The Coding of one answer option: its LOINC answer code, else a project code ``<item>-<index>``."""
    if option.loinc_answer:
        return {"system": LOINC, "code": option.loinc_answer, "display": option.text.zh}
    return {
        "system": f"{ANSWER_PREFIX}{instrument.id}",
        "code": f"{label}-{index}",
        "display": option.text.zh,
    }


def _item(instrument: Instrument, item: Item) -> dict[str, Any]:
    points = item.points
    data: dict[str, Any] = {
        "linkId": item.label,
        "prefix": f"{item.label}.",
        "text": item.text.zh,
        "_text": _translated(item.text),
        "type": "choice",
        "required": item.required,
        "answerOption": [
            {
                "extension": [{"url": ORDINAL_VALUE, "valueDecimal": points[index]}],
                "valueCoding": _answer_coding(instrument, item.label, index, option),
            }
            for index, option in enumerate(item.options)
        ],
    }
    code = _loinc(instrument, item.loinc)
    if code:
        data["code"] = [{"system": LOINC, "code": code}]
    if item.enable_when is not None:
        source = instrument.item(item.enable_when.item)
        answer = item.enable_when.answer
        data["enableWhen"] = [
            {
                "question": source.label,
                "operator": "=",
                "answerCoding": _answer_coding(instrument, source.label, answer, source.options[answer]),
            }
        ]
    return data


def _supplementary(instrument: Instrument, item: SupplementaryItem) -> dict[str, Any]:
    """An unscored question (PHQ-9/GAD-7 "how difficult"): no points, never required."""
    data: dict[str, Any] = {
        "linkId": item.code,
        "text": item.text.zh,
        "_text": _translated(item.text),
        "type": "choice",
        "required": False,
        "answerOption": [
            {"valueCoding": _answer_coding(instrument, item.code, index, option)}
            for index, option in enumerate(item.options)
        ],
    }
    code = _loinc(instrument, item.loinc)
    if code:
        data["code"] = [{"system": LOINC, "code": code}]
    return data


def questionnaire(instrument: Instrument) -> dict[str, Any]:
    """The FHIR R4 Questionnaire of an instrument definition (validated)."""
    data: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": instrument.id,
        "language": LANGUAGE,
        "url": questionnaire_url(instrument.id),
        "version": instrument.version,
        "name": instrument.id.upper(),
        "title": instrument.name.zh,
        "_title": _translated(instrument.name),
        "status": "active",
        "subjectType": ["Patient"],
        "publisher": "xinqiao 心桥",
        "description": instrument.description.zh,
        "copyright": instrument.licence.copyright,
        "item": [
            {
                "linkId": INSTRUCTIONS_LINK_ID,
                "type": "display",
                "text": instrument.instructions.zh,
                "_text": _translated(instrument.instructions),
            },
            *(_item(instrument, item) for item in instrument.items),
            *(_supplementary(instrument, item) for item in instrument.supplementary_items),
        ],
    }
    panel = _loinc(instrument, instrument.loinc.panel)
    if panel:
        data["code"] = [{"system": LOINC, "code": panel}]
    return Questionnaire.model_validate(data).model_dump(mode="json", exclude_none=True)


@cache
def _questionnaire_cached(instrument_id: str) -> dict[str, Any]:
    return questionnaire(load(instrument_id))


def questionnaire_for(instrument_id: str) -> dict[str, Any]:
    """The Questionnaire of a shipped instrument (built once, a fresh copy per call). Raises
    :class:`~xinqiao.screening.instruments.UnknownInstrumentError` for an unknown id."""
    return copy.deepcopy(_questionnaire_cached(instrument_id))


def _when(response: Any) -> str:
    return str(response.submitted_at.isoformat())


def questionnaire_response(response: Any) -> dict[str, Any]:
    """The answers of a stored screening response as a QuestionnaireResponse (validated; no identity)."""
    instrument = load(response.instrument)
    items = []
    for item, answer in zip(instrument.items, response.answers, strict=False):
        if answer is None or not 0 <= answer < len(item.options):
            continue  # skipped (or not asked): an unanswered item is left out
        items.append(
            {
                "linkId": item.label,
                "text": item.text.zh,
                "answer": [
                    {"valueCoding": _answer_coding(instrument, item.label, answer, item.options[answer])}
                ],
            }
        )
    data: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": str(response.pk),
        "language": LANGUAGE,
        "questionnaire": f"{questionnaire_url(response.instrument)}|{response.instrument_version}",
        "status": "completed",
        "authored": _when(response),
        "item": items,
    }
    return QuestionnaireResponse.model_validate(data).model_dump(mode="json", exclude_none=True)


def _band_concept(instrument: Instrument, band_code: str) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": f"{BAND_PREFIX}{instrument.id}", "code": band_code}
    concept: dict[str, Any] = {"coding": [coding]}
    try:
        band = instrument.band(band_code)
    except KeyError:  # scored by an older definition whose bands differ
        return concept
    coding["display"] = band.label.zh
    concept["text"] = band.label.zh
    return concept


def _subscale_component(instrument: Instrument, code: str, value: Any) -> dict[str, Any]:
    names = {s.code: s.name.zh for s in instrument.subscales}
    coding: dict[str, Any] = {"system": f"{SUBSCALE_PREFIX}{instrument.id}", "code": code}
    if code in names:
        coding["display"] = names[code]
    component: dict[str, Any] = {"code": {"coding": [coding]}}
    if value is None:
        component["dataAbsentReason"] = {"coding": [{"system": DATA_ABSENT, "code": "not-applicable"}]}
    elif isinstance(value, bool):
        component["valueBoolean"] = value
    elif isinstance(value, int):
        component["valueInteger"] = value
    else:
        component["valueQuantity"] = {"value": value}
    return component


def score_observation(response: Any) -> dict[str, Any]:
    """The result of a stored screening response as an Observation (validated; no subject, no identity).

    ``valueInteger`` is the total; risk-method instruments (C-SSRS, no total) carry the risk level
    as ``valueCodeableConcept``. The band and positive/negative are the interpretation; standard
    score, subscales and alerts are components.
    """
    instrument = load(response.instrument)
    total_code = _loinc(instrument, instrument.loinc.total)
    if total_code:
        code: dict[str, Any] = {
            "coding": [{"system": LOINC, "code": total_code}],
            "text": f"{instrument.abbreviation} 总分",
        }
    elif response.total is None:
        code = {"text": f"{instrument.abbreviation} 风险等级"}
    else:
        code = {"text": f"{instrument.abbreviation} 总分"}
    components: list[dict[str, Any]] = []
    if response.standard_score is not None:
        components.append(
            {
                "code": {"coding": [{"system": SCORE_SYSTEM, "code": "standard_score", "display": "标准分"}]},
                "valueInteger": response.standard_score,
            }
        )
    for key, value in (response.subscales or {}).items():
        components.append(_subscale_component(instrument, key, value))
    for alert in response.alerts or []:
        display = next((a.label.zh for a in instrument.alerts if a.code == alert), None)
        components.append(
            {
                "code": {"coding": [{"system": SCORE_SYSTEM, "code": "alert", "display": "预警"}]},
                "valueCodeableConcept": {
                    "coding": [
                        {"system": ALERT_SYSTEM, "code": alert, **({"display": display} if display else {})}
                    ]
                },
            }
        )
    positive = "POS" if response.positive else "NEG"
    data: dict[str, Any] = {
        "resourceType": "Observation",
        "id": observation_id(response),
        "language": LANGUAGE,
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}],
        "code": code,
        "effectiveDateTime": _when(response),
        "issued": _when(response),
        "interpretation": [
            _band_concept(instrument, response.band),
            {
                "coding": [
                    {
                        "system": INTERPRETATION,
                        "code": positive,
                        "display": "Positive" if response.positive else "Negative",
                    }
                ]
            },
        ],
        "method": {"text": f"{instrument.abbreviation} {response.instrument_version}"},
        "derivedFrom": [{"reference": f"QuestionnaireResponse/{response.pk}"}],
    }
    if response.total is not None:
        data["valueInteger"] = response.total
    else:
        data["valueCodeableConcept"] = _band_concept(instrument, response.band)
    if components:
        data["component"] = components
    return Observation.model_validate(data).model_dump(mode="json", exclude_none=True)
