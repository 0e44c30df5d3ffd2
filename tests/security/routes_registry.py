"""Permission-matrix declarations of the registry's staff pages (``registry:*``) and staff API
(``api-1:registry_*``), loaded by ``test_permission_matrix``.

Record routes use one registered village counselling room per scope (``in``: township A,
``sibling``: township B, ``out``: Beijing), each with a registration application (by a staff
member of that room), a practitioner with a physician licence, a final evaluation with a finding
reported as rectified, a complaint and a proposed warning. The five institution-staff roles of the
matrix (psychiatrist_a, community_doctor_a, psychologist_a, hotline_counsellor, crisis_lead) are
made staff of the ``in`` room: institution staff reach only their own organisation's records.

Who holds what (roles.json), written out:

* ``registry.view_institution``: sysadmin, regulators, the county centre, the institution staff.
* applications: viewed by the same without sysadmin; ``add`` by the county centre (paper
  applications) and the institution staff; ``review`` by the county centre; ``decide`` by the
  regulators.
* practitioners: viewed like applications; added and changed by regulators and the county centre;
  credentials added by them, revoked by regulators only.
* evaluations: viewed like applications (institution staff: final ones only); opened, scored and
  findings verified by regulators and the county centre; institution staff report rectification.
* complaints and sanctions: regulators and the county centre; the county centre may reveal a
  complainant's contact (unmask); sanctions are proposed by both and decided by regulators.
* import: regulators. Coverage and look-up counts: regulators and the county centre.

Workflow POSTs always redirect (302) for a user who may take the step, whatever the record's state
(a refusal is shown as a message); 403 for a user who reaches the record without the permission.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from tests.security.test_permission_matrix import CITY_OR_ABOVE, EVERYONE, Route, by_role, record

INSTITUTION_STAFF = frozenset({"psychiatrist_a", "community_doctor_a", "psychologist_a", "hotline_counsellor",
                               "crisis_lead"})
OVERSIGHT = frozenset({"regulator", "regulator_province", "mhc_staff_a"})
INST_VIEWERS = OVERSIGHT | INSTITUTION_STAFF | {"sysadmin"}
APP_VIEWERS = OVERSIGHT | INSTITUTION_STAFF
APPLICANTS = INSTITUTION_STAFF | {"mhc_staff_a"}
REVIEWERS = frozenset({"mhc_staff_a"})
DECIDERS = frozenset({"regulator", "regulator_province"})
PRACT_VIEWERS = APP_VIEWERS
PRACT_EDITORS = OVERSIGHT
CRED_REVOKERS = DECIDERS
EVAL_VIEWERS = APP_VIEWERS
EVAL_EDITORS = OVERSIGHT
COMPLAINT_VIEWERS = OVERSIGHT
UNMASKERS = frozenset({"mhc_staff_a"})
SANCTION_VIEWERS = OVERSIGHT
SANCTION_PROPOSERS = OVERSIGHT
IMPORTERS = DECIDERS
COVERAGE = OVERSIGHT

assert CITY_OR_ABOVE <= INST_VIEWERS  # the sibling-scope rule of ``record`` applies to them


def registry_objects(ctx: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per scope: institution, application, practitioner, credential, evaluation, finding, complaint, sanction."""
    if "registry" not in ctx:
        from django.utils import timezone

        from tests.factories import UserFactory
        from tests.registry.factories import institution_input, make_institution, make_practitioner
        from xinqiao.core.models import Region
        from xinqiao.registry import services
        from xinqiao.registry.models import Complaint, Evaluation, Finding, Sanction

        cast = ctx["cast"]
        objects: dict[str, dict[str, Any]] = {}
        for scope in ("in", "sibling", "out"):
            town = Region.objects.get(code=ctx["persons"][scope].region_id)
            institution = make_institution(None, name=f"矩阵测试心理咨询室-{scope}", kind="counselling_room",
                                           region_code=town.code, business_licence_number="", licensing_status="")
            org = institution.organisation
            applicant = UserFactory(username=f"matrix_applicant_{scope}", region=town, roles=["psychologist"],
                                    organisation=org)
            app, _created = services.submit_application(applicant, institution_input(
                name=f"矩阵测试社会工作室-{scope}", kind="counselling_room", region_code=town.code,
                business_licence_number="", licensing_status=""))
            practitioner = make_practitioner(institution, name=f"矩阵医生{scope}",
                                             credential=("physician_licence", f"MATRIX-{scope}"))
            evaluation = Evaluation.objects.create(
                institution=institution, kind="evaluation", status="final", checklist_id="institution-general",
                checklist_version="2026.1", visited_on=date(2026, 1, 5), evaluator=applicant, grade="B",
                region_id=town.code, finalised_at=timezone.now())
            finding = Finding.objects.create(evaluation=evaluation, description="矩阵测试：隐私保护不足",
                                             status="reported", rectification="已整改")
            complaint = Complaint.objects.create(institution=institution, category="quality",
                                                 description="矩阵测试：服务态度差", complainant_name="投诉人",
                                                 complainant_phone="13800000000", region_id=town.code)
            sanction = Sanction.objects.create(institution=institution, kind="warning", grounds="矩阵测试：未按期整改",
                                               proposed_by=applicant, region_id=town.code)
            objects[scope] = {"institution": institution, "application": app, "practitioner": practitioner,
                              "credential": practitioner.credentials.get(), "evaluation": evaluation,
                              "finding": finding, "complaint": complaint, "sanction": sanction}
        for user in INSTITUTION_STAFF:
            cast[user].organisation = objects["in"]["institution"].organisation
            cast[user].save(update_fields=["organisation"])
        ctx["registry"] = objects
    out: dict[str, dict[str, Any]] = ctx["registry"]
    return out


def _pk(kind: str, name: str = "pk") -> Any:
    return lambda ctx, scope: {name: registry_objects(ctx)[scope][kind].pk}


def _touch(ctx: dict[str, Any], scope: str) -> dict[str, Any]:
    registry_objects(ctx)  # list routes: the objects (and the staff's organisation) exist first
    return {}


def _application_payload(ctx: dict[str, Any], user: str, scope: str) -> dict[str, Any]:
    registry_objects(ctx)
    return {"details": {"name": f"矩阵测试新机构-{user}", "kind": "counselling_room", "region_code": ctx["town_a"],
                        "services": ["counselling"]}}


ROUTES: dict[str, Route] = {
    "registry:home": Route(by_role(INST_VIEWERS, 200, 403), anon=302, kwargs=_touch),
    "registry:institution_list": Route(by_role(INST_VIEWERS, 200, 403), anon=302, kwargs=_touch),
    "registry:institution_detail": Route(record(INST_VIEWERS), anon=302, kwargs=_pk("institution"), per_scope=True),
    "registry:institution_change": Route(record(INST_VIEWERS, capable=APPLICANTS), anon=302,
                                         kwargs=_pk("institution"), per_scope=True),
    "registry:institution_designate": Route(record(INST_VIEWERS, ok=302, capable=DECIDERS), anon=302, method="post",
                                            kwargs=_pk("institution"), per_scope=True,
                                            data=lambda ctx, u, s: {"on": "1", "year": "2025"}),
    "registry:evaluation_create": Route(record(INST_VIEWERS, capable=EVAL_EDITORS), anon=302,
                                        kwargs=_pk("institution"), per_scope=True),
    "registry:application_list": Route(by_role(APP_VIEWERS, 200, 403), anon=302, kwargs=_touch),
    "registry:application_create": Route(by_role(APPLICANTS, 200, 403), anon=302, kwargs=_touch),
    "registry:application_detail": Route(record(APP_VIEWERS), anon=302, kwargs=_pk("application"), per_scope=True),
    "registry:application_transition": Route(record(APP_VIEWERS, ok=302, capable=REVIEWERS), anon=302, method="post",
                                             kwargs=_pk("application"), per_scope=True,
                                             data=lambda ctx, u, s: {"action": "review",
                                                                     "recommendation": "approve"}),
    "registry:practitioner_list": Route(by_role(PRACT_VIEWERS, 200, 403), anon=302, kwargs=_touch),
    "registry:practitioner_create": Route(by_role(PRACT_EDITORS, 200, 403), anon=302, kwargs=_touch),
    "registry:practitioner_detail": Route(record(PRACT_VIEWERS), anon=302, kwargs=_pk("practitioner"),
                                          per_scope=True),
    "registry:credential_add": Route(record(PRACT_VIEWERS, ok=302, capable=PRACT_EDITORS), anon=302, method="post",
                                     kwargs=_pk("practitioner"), per_scope=True,
                                     data=lambda ctx, u, s: {"type_code": "physician_licence",
                                                             "number": f"M-{u}-{s}", "issue_date": "2020-01-01"}),
    "registry:training_add": Route(record(PRACT_VIEWERS, ok=302, capable=PRACT_EDITORS), anon=302, method="post",
                                   kwargs=_pk("practitioner"), per_scope=True,
                                   data=lambda ctx, u, s: {"kind": "continuing", "title": "矩阵测试课程",
                                                           "completed_on": "2025-06-01", "hours": "6"}),
    "registry:credential_revoke": Route(record(PRACT_VIEWERS, ok=302, capable=CRED_REVOKERS), anon=302,
                                        method="post", kwargs=_pk("credential"), per_scope=True,
                                        data=lambda ctx, u, s: {"reason": "矩阵测试：发证机关撤销"}),
    "registry:evaluation_detail": Route(record(EVAL_VIEWERS), anon=302, kwargs=_pk("evaluation"), per_scope=True),
    # The evaluation is final: a scorer gets the page back with "cannot be changed" (400).
    "registry:evaluation_score": Route(record(EVAL_VIEWERS, ok=400, capable=EVAL_EDITORS), anon=302, method="post",
                                       kwargs=_pk("evaluation"), per_scope=True, data=lambda ctx, u, s: {}),
    "registry:finding_add": Route(record(EVAL_VIEWERS, ok=302, capable=EVAL_EDITORS), anon=302, method="post",
                                  kwargs=_pk("evaluation"), per_scope=True,
                                  data=lambda ctx, u, s: {"description": "矩阵测试：记录不全", "severity": "minor"}),
    "registry:finding_transition": Route(record(EVAL_VIEWERS, ok=302, capable=EVAL_EDITORS), anon=302,
                                         method="post", kwargs=_pk("finding"), per_scope=True,
                                         data=lambda ctx, u, s: {"action": "verify"}),
    "registry:complaint_list": Route(by_role(COMPLAINT_VIEWERS, 200, 403), anon=302, kwargs=_touch),
    "registry:complaint_detail": Route(record(COMPLAINT_VIEWERS), anon=302, kwargs=_pk("complaint"), per_scope=True),
    "registry:complaint_unmask": Route(record(COMPLAINT_VIEWERS, capable=UNMASKERS), anon=302, method="post",
                                       kwargs=_pk("complaint"), per_scope=True,
                                       data=lambda ctx, u, s: {"purpose": "矩阵测试：回访投诉人"}),
    "registry:complaint_transition": Route(record(COMPLAINT_VIEWERS, ok=302), anon=302, method="post",
                                           kwargs=_pk("complaint"), per_scope=True,
                                           data=lambda ctx, u, s: {"action": "investigate"}),
    "registry:sanction_list": Route(by_role(SANCTION_VIEWERS, 200, 403), anon=302, kwargs=_touch),
    # Without a target the page says where to start; with one (tests/registry) the target is scoped.
    "registry:sanction_create": Route(by_role(SANCTION_PROPOSERS, 200, 403), anon=302, kwargs=_touch),
    "registry:sanction_detail": Route(record(SANCTION_VIEWERS), anon=302, kwargs=_pk("sanction"), per_scope=True),
    "registry:sanction_transition": Route(record(SANCTION_VIEWERS, ok=302, capable=DECIDERS), anon=302,
                                          method="post", kwargs=_pk("sanction"), per_scope=True,
                                          data=lambda ctx, u, s: {"action": "impose"}),
    "registry:import_upload": Route(by_role(IMPORTERS, 200, 403), anon=302),
    "registry:import_template": Route(by_role(IMPORTERS, 200, 403), anon=302),
    "registry:coverage": Route(by_role(COVERAGE, 200, 403), anon=302),
    "registry:lookup_counts": Route(by_role(COVERAGE, 200, 403), anon=302),

    "api-1:registry_institution_list": Route(by_role(INST_VIEWERS, 200, 403), anon=401, kwargs=_touch),
    "api-1:registry_institution_detail": Route(record(INST_VIEWERS), anon=401, kwargs=_pk("institution",
                                                                                       "institution_id"),
                                               per_scope=True),
    "api-1:registry_application_list": Route(by_role(APP_VIEWERS, 200, 403), anon=401, kwargs=_touch),
    "api-1:registry_application_create": Route(by_role(APPLICANTS, 201, 403), anon=401, method="post", json=True,
                                               kwargs=_touch, data=_application_payload),
    "api-1:registry_application_transition": Route(record(APP_VIEWERS, capable=REVIEWERS), anon=401, method="post",
                                                   json=True, kwargs=_pk("application", "application_id"),
                                                   per_scope=True,
                                                   data=lambda ctx, u, s: {"action": "review",
                                                                           "recommendation": "approve"}),
    "api-1:registry_practitioner_list": Route(by_role(PRACT_VIEWERS, 200, 403), anon=401, kwargs=_touch),
    "api-1:registry_coverage": Route(by_role(COVERAGE, 200, 403), anon=401),
}

__all__ = ["EVERYONE", "ROUTES"]
