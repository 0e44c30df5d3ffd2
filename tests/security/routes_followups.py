"""Permission-matrix declarations of the follow-up pages and API (loaded by ``test_permission_matrix``).

Record routes use, per scope, a registered patient at danger level 0 (``in``: township A,
``sibling``: township B in county B, ``out``: Beijing) with one follow-up, one health check and one
discharge record. Partner roles (police, civil affairs, 综治, grid worker, disabled persons'
federation) hold ``patients.view_patient`` but see only patients at danger ≥3 or with a 肇事肇祸
history, so these patients are 404 for them; they hold no follow-up permission at all.

Who holds what (roles.json), written out:

* ``followups.view_followup`` / ``view_healthcheck`` / ``view_dischargerecord``: regulators, the
  county centre (mhc_staff), the psychiatrist, the community doctor.
* ``add_followup``: mhc_staff, psychiatrist, community doctor. ``add_healthcheck``: mhc_staff,
  community doctor. ``add_dischargerecord``: mhc_staff, psychiatrist (hospital users).
* The medication catalogue is reference data: any signed-in user.
* ``change_followup`` (correcting a follow-up): mhc_staff, psychiatrist, community doctor — and then
  only the recording doctor, the patient's or recording clinic's staff, or the county centre
  (``followups/data/editing.json``). The matrix follow-ups are recorded by ``community_doctor_a``;
  the psychiatrist (not the author, no clinic) is refused (403), as are the regulators.
* ``export_followup``: mhc_staff and community doctor (a list-level page: 403 for the others).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from tests.security.test_permission_matrix import CITY_OR_ABOVE, EVERYONE, Route, by_role, record

CLINICAL = frozenset({"regulator", "regulator_province", "mhc_staff_a", "psychiatrist_a", "community_doctor_a"})
VIEWERS = CLINICAL
ADDERS = frozenset({"mhc_staff_a", "psychiatrist_a", "community_doctor_a"})
CHECKERS = frozenset({"mhc_staff_a", "community_doctor_a"})
DISCHARGERS = frozenset({"mhc_staff_a", "psychiatrist_a"})
CORRECTORS = frozenset({"mhc_staff_a", "community_doctor_a"})
EXPORTERS = frozenset({"mhc_staff_a", "community_doctor_a"})

assert CITY_OR_ABOVE - {"sysadmin"} <= VIEWERS


def followup_objects(ctx: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per scope: a patient, a follow-up, a health check and a discharge record; made once per ctx."""
    if "followups" not in ctx:
        from tests.factories import PersonFactory
        from xinqiao.core.models import Organisation, OrgType, Region
        from xinqiao.followups.models import DischargeRecord, FollowUp, HealthCheck
        from xinqiao.patients.models import Patient

        objects: dict[str, dict[str, Any]] = {}
        day = timezone.localdate() - timedelta(days=3)
        for scope in ("in", "sibling", "out"):
            region = Region.objects.get(code=ctx["persons"][scope].region_id)
            clinic = Organisation.objects.create(name=f"矩阵随访卫生院-{scope}", org_type=OrgType.TOWNSHIP_HEALTH_CENTRE,
                                                 region=region)
            hospital = Organisation.objects.create(name=f"矩阵随访专科医院-{scope}",
                                                   org_type=OrgType.PSYCHIATRIC_HOSPITAL, region=region)
            patient = Patient.objects.create(
                person=PersonFactory(region=region), region=region, register_number=f"MATRIX-FU-{scope}",
                source="case_report", registered_on=day - timedelta(days=100), diagnosis="F20", icd10_code="F20.0",
                managing_organisation=clinic)
            followup = FollowUp.objects.create(
                patient=patient, region=region, followup_date=day, method=2, danger_level=0, insight=1,
                classification=3, proposed_classification=3, next_followup_date=day + timedelta(days=90),
                proposed_next_date=day + timedelta(days=90), actions=["continue_plan"],
                doctor=ctx["cast"]["community_doctor_a"])
            check = HealthCheck.objects.create(patient=patient, region=region, check_date=day, general_exam="正常")
            discharge = DischargeRecord.objects.create(
                patient=patient, region=region, hospital=hospital, admission_date=day - timedelta(days=30),
                discharge_date=day, diagnosis="F20", effect=2, reported_on=day, report_deadline=day + timedelta(days=14))
            objects[scope] = {"patient": patient, "followup": followup, "check": check, "discharge": discharge,
                              "hospital": hospital}
        ctx["followups"] = objects
    out: dict[str, dict[str, Any]] = ctx["followups"]
    return out


def _pk(kind: str, name: str = "pk") -> Any:
    return lambda ctx, scope: {name: followup_objects(ctx)[scope][kind].pk}


def _patient(ctx: dict[str, Any], scope: str) -> dict[str, Any]:
    return {"patient_id": followup_objects(ctx)[scope]["patient"].pk}


def _attempt(ctx: dict[str, Any], user: str, scope: str) -> dict[str, Any]:
    return {"patient_id": followup_objects(ctx)[scope]["patient"].pk, "followup_date": timezone.localdate().isoformat(),
            "outcome": "not_reached", "method": 3, "not_reached_reason": "矩阵测试：电话无人接听"}


def _check(ctx: dict[str, Any], user: str, scope: str) -> dict[str, Any]:
    return {"patient_id": followup_objects(ctx)[scope]["patient"].pk, "check_date": timezone.localdate().isoformat(),
            "general_exam": "矩阵测试：未见异常"}


def _discharge(ctx: dict[str, Any], user: str, scope: str) -> dict[str, Any]:
    objs = followup_objects(ctx)[scope]
    today = timezone.localdate()
    return {"patient_id": objs["patient"].pk, "hospital_id": objs["hospital"].pk,
            "admission_date": (today - timedelta(days=20)).isoformat(), "discharge_date": today.isoformat(),
            "diagnosis": "F20", "effect": 2}


def _correction(ctx: dict[str, Any], user: str, scope: str) -> dict[str, Any]:
    """A complete visit (the matrix follow-up lacks items), different for each caller."""
    return {"reason": "矩阵测试：补全漏填项目", "method": 2, "danger_level": 0, "insight": 1, "sleep": 1, "diet": 1,
            "self_care": 1, "housework": 1, "work": 9, "study": 1, "social": 1, "lock_status": 1,
            "hospital_status": 0, "lab_tests": 1, "adherence": 1, "adverse_reaction": 1, "treatment_effect": 2,
            "referral": 1, "physical_illness_text": f"矩阵测试 {user}"}


def _rule_input(ctx: dict[str, Any], user: str, scope: str) -> dict[str, Any]:
    return {"followup_date": "2025-03-03", "danger_level": 3, "insight": 1, "symptoms": [], "symptoms_marked": False,
            "social_function": {"self_care": 1, "housework": 1, "work": 9, "study": 1, "social": 1},
            "adverse_reaction_serious": False, "physical_illness_serious": False}


ROUTES: dict[str, Route] = {
    # Pages: the patient first (404 outside scope or for partners at danger 0), then the permission (403).
    "followups:followup_list": Route(record(CLINICAL, capable=VIEWERS), anon=302, kwargs=_patient, per_scope=True),
    "followups:followup_create": Route(record(CLINICAL, capable=ADDERS), anon=302, kwargs=_patient, per_scope=True),
    "followups:followup_propose": Route(record(CLINICAL, capable=ADDERS), anon=302, method="post", kwargs=_patient,
                                        per_scope=True, data=lambda ctx, u, s: {"followup_date": "2025-03-03"}),
    "followups:healthcheck_create": Route(record(CLINICAL, capable=CHECKERS), anon=302, kwargs=_patient,
                                          per_scope=True),
    "followups:discharge_create": Route(record(CLINICAL, capable=DISCHARGERS), anon=302, kwargs=_patient,
                                        per_scope=True),
    "followups:followup_detail": Route(record(VIEWERS), anon=302, kwargs=_pk("followup"), per_scope=True),
    "followups:followup_correct": Route(record(VIEWERS, capable=CORRECTORS), anon=302, kwargs=_pk("followup"),
                                        per_scope=True),
    "followups:followup_correct_propose": Route(record(VIEWERS, capable=CORRECTORS), anon=302, method="post",
                                                kwargs=_pk("followup"), per_scope=True,
                                                data=lambda ctx, u, s: {"followup_date": "2025-03-03"}),
    "followups:followup_export": Route(by_role(EXPORTERS, 200, 403), anon=302),
    "followups:healthcheck_detail": Route(record(VIEWERS), anon=302, kwargs=_pk("check"), per_scope=True),
    "followups:discharge_detail": Route(record(VIEWERS), anon=302, kwargs=_pk("discharge"), per_scope=True),
    # API.
    "api-1:followups_medications": Route(by_role(EVERYONE, 200, 200), anon=401),
    "api-1:followups_propose": Route(by_role(ADDERS, 200, 403), anon=401, method="post", json=True,
                                     data=_rule_input),
    "api-1:followups_list": Route(by_role(VIEWERS, 200, 403), anon=401),
    "api-1:followups_detail": Route(record(VIEWERS), anon=401, kwargs=_pk("followup", "followup_id"),
                                    per_scope=True),
    "api-1:followups_create": Route(record(CLINICAL, ok=201, capable=ADDERS), anon=401, method="post", json=True,
                                    data=_attempt, per_scope=True),
    "api-1:followups_correct": Route(record(VIEWERS, capable=CORRECTORS), anon=401, method="post", json=True,
                                     kwargs=_pk("followup", "followup_id"), data=_correction, per_scope=True),
    "api-1:followups_healthcheck_list": Route(record(CLINICAL, capable=VIEWERS), anon=401,
                                              kwargs=_patient, per_scope=True),
    "api-1:followups_healthcheck_create": Route(record(CLINICAL, ok=201, capable=CHECKERS), anon=401, method="post",
                                                json=True, data=_check, per_scope=True),
    "api-1:followups_discharge_list": Route(record(CLINICAL, capable=VIEWERS), anon=401, kwargs=_patient,
                                            per_scope=True),
    "api-1:followups_discharge_create": Route(record(CLINICAL, ok=201, capable=DISCHARGERS), anon=401, method="post",
                                              json=True, data=_discharge, per_scope=True),
}
