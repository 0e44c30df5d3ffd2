"""The rows of the two national forms, in the order and wording of the standard's 附件.

``supplement_form`` and ``followup_form`` return the template context of one form: its title,
the 姓名/编号 header and a list of ``FormRow``. With no record (``None``) they give the blank form
for paper use: every option printed, every box empty. Values pass through ``pdf.form_value``
(the mask policy), so a role that may not see a category gets an empty box, and the name is masked
unless the caller revealed it after an audited purpose.

Source: 《国家基本公共卫生服务规范（第三版）》(2017) 严重精神障碍患者管理服务规范, 附件1 个人信息补充表,
附件2 随访服务记录表 (DOMAIN.md §4); the national system's extras (精准扶贫, 监护补助, 残疾人证, 关爱帮扶
小组, 家庭医师签约, 社区康复).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from xinqiao.paperwork.pdf import FormRow, Option, box, boxes, form_value, options_of, ymd
from xinqiao.patients.codes import (
    Adherence,
    Classification,
    Consent,
    DangerBehaviour,
    DangerLevel,
    DeathCause,
    DisabilityGrade,
    EconomicStatus,
    Employment,
    FollowUpMethod,
    HospitalStatus,
    Household,
    Insight,
    LatestTreatmentEffect,
    LockStatus,
    LossReason,
    OutpatientHistory,
    PhysicalDeathCause,
    Rating,
    RehabMeasure,
    Symptom,
    TreatmentEffect,
)

#: 危险行为: model count field per ``DangerBehaviour`` code, in form order (1 轻度滋事 … 6 自杀未遂).
BEHAVIOURS: tuple[tuple[str, str], ...] = tuple((code, f"{code}_count") for code in DangerBehaviour.values)
MEDICATION_LINES = 3


def _yes_no() -> list[Option]:
    return [Option(1, pgettext("form option", "no")), Option(2, pgettext("form option", "yes"))]


def _header(user: Any, patient: Any, person: Any, unmasked: bool) -> dict[str, Any]:
    return {
        "name": (form_value(user, person, "name", unmasked=unmasked) or "") if person is not None else "",
        "number": patient.register_number if patient is not None else "",
        "unmasked": unmasked,
    }


def _behaviour_parts(user: Any, obj: Any, unmasked: bool) -> tuple[list[tuple[str, str | None]], list[str]]:
    """The six counts written inline ("1 轻度滋事 2 次"), and box 7 (无) when all are zero."""
    parts: list[tuple[str, str | None]] = []
    total = 0
    seen = obj is not None
    for n, (code, name) in enumerate(BEHAVIOURS, start=1):
        value = form_value(user, obj, name, unmasked=unmasked) if obj is not None else None
        if value is None and obj is not None:
            seen = False
        if isinstance(value, int):
            total += value
        parts.append((f"{n} {DangerBehaviour(code).label}", "" if value is None else str(value)))
    none_box = ["7"] if seen and total == 0 else [""]
    return parts, none_box


# --- 个人信息补充表 ---------------------------------------------------------------------------------------


def supplement_form(user: Any, patient: Any = None, person: Any = None, supplement: Any = None, *,
                    unmasked: bool = False) -> dict[str, Any]:
    """The context of the 个人信息补充表 (blank when ``patient`` is ``None``)."""

    def v(obj: Any, name: str) -> Any:
        return form_value(user, obj, name, unmasked=unmasked)

    s = supplement
    rows = [
        FormRow(_("Guardian's name"), parts=[("", v(s, "guardian_name") or ""),
                                             (_("Relation to the patient"), v(s, "guardian_relation") or "")]),
        FormRow(_("Guardian's address"), parts=[("", v(s, "guardian_address") or ""),
                                                (_("Guardian's phone"), v(s, "guardian_phone") or "")]),
        FormRow(_("Village (residents') committee contact and phone"),
                parts=[("", v(s, "village_contact_name") or ""), (_("Phone"), v(s, "village_contact_phone") or "")]),
        FormRow(_("Household type"), options_of(Household), [box(v(s, "household"))]),
        FormRow(_("Employment"), options_of(Employment), [box(v(s, "employment"))]),
        FormRow(_("Informed consent"), options_of(Consent), [box(v(s, "consent"))],
                parts=[(_("Signed by"), v(s, "consent_signed_by") or ""),
                       (_("Signed on"), ymd(v(s, "consent_date")))]),
        FormRow(_("First onset"), parts=[("", ymd(v(s, "onset_date")))]),
        FormRow(_("Main past symptoms"), options_of(Symptom), boxes(v(s, "past_symptoms"), 4), wide=True),
        FormRow(_("Past locking up"), options_of(LockStatus), [box(v(s, "past_lock"))]),
        FormRow(_("Past treatment: outpatient"), options_of(OutpatientHistory), [box(v(s, "outpatient_history"))],
                parts=[(_("First antipsychotic treatment"), ymd(v(s, "first_antipsychotic_date"))),
                       (_("Psychiatric admissions (times)"),
                        "" if v(s, "admissions") is None else str(v(s, "admissions")))]),
        FormRow(_("Current diagnosis"), parts=[
            (_("Diagnosis"), _diagnosis_text(user, patient, unmasked)),
            (_("Confirming hospital"), str(v(patient, "diagnosing_hospital") or "")),
            (_("Date of diagnosis"), ymd(v(patient, "diagnosed_on")))]),
        FormRow(_("Latest treatment effect"), options_of(LatestTreatmentEffect),
                [box(v(s, "latest_treatment_effect"))]),
    ]
    parts, none_box = _behaviour_parts(user, s, unmasked)
    rows.append(FormRow(_("Dangerous behaviour"), parts=[*parts, (_("7 none"), None)], boxes=none_box, wide=True))
    rows += [
        FormRow(_("Economic status"), options_of(EconomicStatus), [box(v(s, "economic_status"))]),
        FormRow(_("Specialist's opinion (record if any)"), text=v(s, "specialist_opinion") or "", wide=True),
    ]
    extras = [
        FormRow(_("Targeted poverty alleviation"), _yes_no(), [box(v(s, "poverty_alleviation"))]),
        FormRow(_("Guardianship subsidy"), _yes_no(), [box(v(s, "guardianship_subsidy"))]),
        FormRow(_("Disability card"), _yes_no(), [box(v(s, "disability_card"))],
                parts=[(_("Mental disability grade"), _label(DisabilityGrade, v(s, "disability_grade")))]),
        FormRow(_("Care and support group"), _yes_no(), [box(v(s, "care_group_service"))]),
        FormRow(_("Family-doctor contract"), _yes_no(), [box(v(s, "family_doctor_contract"))]),
        FormRow(_("Community rehabilitation"), _yes_no(), [box(v(s, "community_rehab"))]),
    ]
    return {
        "title": _("Personal information supplement of a patient with a severe mental disorder"),
        "header": _header(user, patient, person, unmasked),
        "rows": rows, "extras": extras, "blank": patient is None,
        "filled_on": ymd(v(s, "filled_on")),
    }


def _label(choices: Any, value: Any) -> str:
    if value is None:
        return ""
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)  # masked


def _diagnosis_text(user: Any, patient: Any, unmasked: bool) -> str:
    if patient is None:
        return ""
    diagnosis = form_value(user, patient, "diagnosis", unmasked=unmasked)
    if diagnosis is None:
        return ""
    code = form_value(user, patient, "icd10_code", unmasked=unmasked) or ""
    co = form_value(user, patient, "co_icd10_code", unmasked=unmasked) or ""
    from xinqiao.patients.codes import Diagnosis

    label = _label(Diagnosis, diagnosis)
    return " ".join(filter(None, [label, code, f"+ {co}" if co else ""]))


# --- 随访服务记录表 ---------------------------------------------------------------------------------------


def followup_form(user: Any, followup: Any = None, patient: Any = None, person: Any = None, *,
                  medications: list[Any] | None = None, unmasked: bool = False) -> dict[str, Any]:
    """The context of the 随访服务记录表 (blank when ``followup`` is ``None``)."""
    from xinqiao.followups.codes import Presence, YesNo

    f = followup

    def v(name: str) -> Any:
        return form_value(user, f, name, unmasked=unmasked)

    work_options = [*options_of(Rating), Option(9, _("not applicable"))]
    social = [
        (_("Personal self-care"), "self_care", options_of(Rating)),
        (_("Housework"), "housework", options_of(Rating)),
        (_("Productive work"), "work", work_options),
        (_("Learning ability"), "study", options_of(Rating)),
        (_("Social contact"), "social", options_of(Rating)),
    ]
    parts, none_box = _behaviour_parts(user, f, unmasked)
    danger = v("danger_level")
    rows = [
        FormRow(_("Follow-up date"), parts=[("", ymd(v("followup_date")))]),
        FormRow(_("Follow-up method"), options_of(FollowUpMethod), [box(v("method"))]),
        FormRow(_("If lost to follow-up, the reason"), options_of(LossReason), [box(v("loss_reason"))]),
        FormRow(_("If dead, date and cause"), [*options_of(DeathCause)], [box(v("death_cause"))],
                parts=[(_("Date of death"), ymd(v("death_date"))),
                       (_("Physical illness"), _label(PhysicalDeathCause, v("physical_death_cause")))]),
        FormRow(_("Danger assessment"), [Option(level, pgettext("danger level", "level %(n)s") % {"n": level})
                                         for level in DangerLevel.values], [box(danger)]),
        FormRow(_("Current symptoms"), options_of(Symptom), boxes(v("symptoms"), 4),
                parts=[(_("Other"), v("symptoms_other") or "")] if v("symptoms_other") else [], wide=True),
        FormRow(_("Insight"), options_of(Insight), [box(v("insight"))]),
        FormRow(_("Sleep"), options_of(Rating), [box(v("sleep"))]),
        FormRow(_("Diet"), options_of(Rating), [box(v("diet"))]),
    ]
    rows.append(FormRow(_("Social function"), items=[(label, opts, box(v(name))) for label, name, opts in social]))
    rows += [
        FormRow(_("Dangerous behaviour since the last visit"), parts=[*parts, (_("7 none"), None)], boxes=none_box,
                wide=True),
        FormRow(_("Locking up between the two visits"), options_of(LockStatus), [box(v("lock_status"))]),
        FormRow(_("Hospitalisation between the two visits"), options_of(HospitalStatus), [box(v("hospital_status"))],
                parts=[(_("Last discharge"), ymd(v("last_discharge_date")))]),
        FormRow(_("Laboratory tests"), options_of(Presence), [box(v("lab_tests"))],
                parts=[("", v("lab_tests_text") or "")]),
        FormRow(_("Medication adherence"), options_of(Adherence), [box(v("adherence"))]),
        FormRow(_("Adverse drug reaction"), options_of(Presence), [box(v("adverse_reaction"))],
                parts=[("", v("adverse_reaction_text") or "")]),
        FormRow(_("Treatment effect"), options_of(TreatmentEffect), [box(v("treatment_effect"))]),
        FormRow(_("Referral"), options_of(YesNo), [box(v("referral"))],
                parts=[(_("Reason"), v("referral_reason") or ""),
                       (_("Referred to (institution and department)"),
                        " ".join(filter(None, [v("referral_institution"), v("referral_department")])))]),
        FormRow(_("Rehabilitation measures"), options_of(RehabMeasure), boxes(v("rehab_measures"), 3),
                parts=[(_("Other"), v("rehab_other") or "")] if v("rehab_other") else [], wide=True),
        FormRow(_("Classification of this follow-up"), options_of(Classification), [box(v("classification"))]),
    ]
    lines = []
    for line in (medications or [])[:12]:
        lines.append({"name": form_value(user, line, "drug_name", unmasked=unmasked) or "",
                      "times": form_value(user, line, "times", unmasked=unmasked),
                      "period": line.get_period_display() if form_value(user, line, "period") is not None else "",
                      "dose": form_value(user, line, "dose", unmasked=unmasked),
                      "unit": line.get_unit_display() if form_value(user, line, "unit") is not None else ""})
    while len(lines) < MEDICATION_LINES:
        lines.append({"name": "", "times": "", "period": "", "dose": "", "unit": ""})
    doctor = ""
    if f is not None:
        doctor = f.doctor_name or (f.doctor.display_name if f.doctor_id and f.doctor else "")
    return {
        "title": _("Follow-up record of a patient with a severe mental disorder"),
        "header": _header(user, patient, person, unmasked),
        "rows": rows, "medications": lines, "blank": f is None,
        "next_date": ymd(v("next_followup_date")), "doctor": doctor,
    }
