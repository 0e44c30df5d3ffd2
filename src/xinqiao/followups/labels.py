"""Human labels of the engine's codes (actions, reasons) and of multi-choice code lists, for pages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext_lazy as _

from xinqiao.patients.codes import RehabMeasure, Symptom

ACTION_LABELS: dict[str, Any] = {
    "refer": _("Treat urgently and refer at once to a psychiatric institution"),
    "notify_police": _("Inform the police of the township (done automatically)"),
    "adjust_treatment": _("Find the cause and adjust the treatment within the allowed range"),
    "consult_psychiatrist": _("Basically stable again: ask a psychiatrist for guidance"),
    "continue_plan": _("Keep the current treatment plan"),
}

REASON_LABELS: dict[str, Any] = {
    "danger_high": _("danger level 3–5"),
    "symptoms_marked": _("marked psychotic symptoms"),
    "insight_absent": _("insight absent"),
    "adverse_reaction_serious": _("serious adverse drug reaction"),
    "physical_illness_serious": _("serious physical illness"),
    "danger_low": _("danger level 1–2"),
    "symptoms": _("symptoms present"),
    "insight_partial": _("insight partial"),
    "social_function_poor": _("social function poor"),
}


def action_labels(codes: Iterable[str]) -> list[str]:
    return [str(ACTION_LABELS.get(c, c)) for c in codes]


def reason_labels(codes: Iterable[str]) -> list[str]:
    return [str(REASON_LABELS.get(c, c)) for c in codes]


def symptom_labels(codes: Iterable[int]) -> list[str]:
    labels = dict(Symptom.choices)
    return [str(labels.get(c, c)) for c in codes]


def rehab_labels(codes: Iterable[int]) -> list[str]:
    labels = dict(RehabMeasure.choices)
    return [str(labels.get(c, c)) for c in codes]
