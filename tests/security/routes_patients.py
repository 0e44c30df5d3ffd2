"""Permission-matrix declarations of the register's pages and API (loaded by ``test_permission_matrix``).

Record routes use one patient per scope at danger level 3 (so that the partner agencies of the
township group reach the ``in`` one; the danger-0 case is in ``tests/patients/test_views.py``):
``in`` in township A, ``sibling`` in township B (county B), ``out`` in Beijing. Each has a
个人信息补充表, a suspected case in its township, a draft case report (not yet entered; the matrix users
have no organisation, so the pending drafts they answer for are those of their region), and a
pending transfer *into* its township (from township B for ``in``, from Beijing for the others). Two persons of township A share an ID number
(the duplicates page and the merge).

Who holds what (roles.json), written out:

* ``patients.view_patient``: regulators, the county centre, psychiatrist, community doctor and the
  partner agencies (police, civil affairs, 综治, grid worker, disabled persons' federation) — the
  partners only for danger ≥3 or a 肇事肇祸 history;
* change (status, supplement): county centre, psychiatrist, community doctor; unmask: those and
  police, civil affairs, 综治; export: county centre and community doctor;
* transfers (send, answer, inbox): county centre and community doctor; only the receiving region
  answers;
* case reports: entered by the county centre and the psychiatrist, listed also for regulators; a
  draft is entered (``case_report_enter``) only by those two, within their pending scope (else 404);
* suspected cases: seen by county centre, psychiatrist, community doctor; reported and referred or
  closed by the county centre and community doctor; confirmed by the county centre and psychiatrist;
* duplicates and merge: the county centre.

Writes that can happen once (answering a transfer, confirming a case) are expected to succeed for
the first capable user in ``USERS`` order and to be refused with 422 for the next (already done).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.security.test_permission_matrix import CITY_OR_ABOVE, Route, by_role, record

PARTNERS = frozenset({"police_a", "civil_affairs_a", "zongzhi_a", "grid_worker_a", "disabled_federation_a"})
VIEWERS = frozenset({"regulator", "regulator_province", "mhc_staff_a", "psychiatrist_a", "community_doctor_a"}) | PARTNERS
CHANGERS = frozenset({"mhc_staff_a", "psychiatrist_a", "community_doctor_a"})
UNMASKERS = CHANGERS | {"police_a", "civil_affairs_a", "zongzhi_a"}
EXPORTERS = frozenset({"mhc_staff_a", "community_doctor_a"})
TRANSFER_USERS = frozenset({"mhc_staff_a", "community_doctor_a"})
CASE_VIEWERS = frozenset({"regulator", "regulator_province", "mhc_staff_a", "psychiatrist_a"})
CASE_ADDERS = frozenset({"mhc_staff_a", "psychiatrist_a"})
SUSPECT_VIEWERS = frozenset({"mhc_staff_a", "psychiatrist_a", "community_doctor_a"})
SUSPECT_CHANGERS = frozenset({"mhc_staff_a", "community_doctor_a"})
CONFIRMERS = frozenset({"mhc_staff_a", "psychiatrist_a"})
MERGERS = frozenset({"mhc_staff_a"})

assert CITY_OR_ABOVE & VIEWERS == {"regulator", "regulator_province"}


def once(viewers: frozenset[str], capable_in_order: list[str], ok: int, again: int = 422) -> Callable[[str, str], int]:
    """A record write that can succeed once: the first capable user gets ``ok``, later ones ``again``."""
    base = record(viewers, capable=frozenset(capable_in_order))

    def expect(user: str, scope: str) -> int:
        status = base(user, scope)
        if status != 200:
            return status
        return ok if user == capable_in_order[0] else again
    return expect


def patient_objects(ctx: dict[str, Any]) -> dict[str, Any]:
    """Per scope: a danger-3 patient with a supplement, a suspected case, an incoming transfer; made once per ctx."""
    if "patients" not in ctx:
        from datetime import date

        from tests.factories import PersonFactory
        from tests.patients.factories import PatientFactory, hospital_of
        from xinqiao.core.models import Region
        from xinqiao.patients.codes import TransferStatus
        from xinqiao.patients.models import CaseReport, PersonalSupplement, SuspectedCase, Transfer

        town_a = Region.objects.get(code=ctx["town_a"])
        regions = {scope: Region.objects.get(code=ctx["persons"][scope].region_id) for scope in ("in", "sibling", "out")}
        beijing_2 = Region.objects.get(code="110101002")
        senders = {"in": regions["sibling"], "sibling": regions["out"], "out": beijing_2}
        out: dict[str, Any] = {"hospital": hospital_of(Region.objects.get(code=town_a.county_code))}
        for scope, region in regions.items():
            patient = PatientFactory(region=region, danger_level=3)
            PersonalSupplement.objects.create(patient=patient, region=region, guardian_name="矩阵监护人",
                                              filled_on=date(2026, 1, 6), economic_status=1)
            case = SuspectedCase.objects.create(person=PersonFactory(region=region), region=region,
                                                found_by="doctor", discovered_on=date(2026, 1, 6))
            moving = PatientFactory(region=senders[scope], danger_level=3)
            transfer = Transfer.objects.create(
                patient=moving, region=region, from_region=senders[scope],
                from_organisation=moving.managing_organisation, moved_on=date(2026, 1, 6),
                status=TransferStatus.PENDING)
            draft = CaseReport.objects.create(
                person=PersonFactory(region=region), region=region, status="draft", diagnosis="F20",
                icd10_code="F20.0", diagnosing_hospital=out["hospital"], diagnosed_on=date(2026, 1, 5),
                reporting_unit=out["hospital"], report_deadline=date(2026, 1, 19))
            out[scope] = {"patient": patient, "case": case, "transfer": transfer, "draft": draft}
        number = PersonFactory(region=town_a).id_number
        out["keep"] = PersonFactory(region=town_a, id_number=number)
        out["drop"] = PersonFactory(region=town_a, id_number=number)
        ctx["patients"] = out
    objects: dict[str, Any] = ctx["patients"]
    return objects


def _pk(kind: str, name: str = "pk") -> Callable[[dict[str, Any], str], dict[str, Any]]:
    return lambda ctx, scope: {name: patient_objects(ctx)[scope][kind].pk}


def _case_report(ctx: dict[str, Any], user: str, scope: str) -> dict[str, Any]:
    return {"name": "矩阵报告", "id_number": "", "region_code": ctx["town_a"], "report_type": 1,
            "diagnosis": "F20", "icd10_code": "F20.0", "diagnosing_hospital": patient_objects(ctx)["hospital"].pk,
            "diagnosed_on": "2026-01-05", "brought_by": 2}


def _status(ctx: dict[str, Any], user: str, scope: str) -> dict[str, Any]:
    # managed → in hospital (county centre) → managed (psychiatrist) → in hospital (community doctor)
    to = "managed" if user == "psychiatrist_a" else "in_hospital"
    return {"to_status": to, "changed_on": "2026-01-20"}


def _merge(ctx: dict[str, Any], user: str, scope: str) -> dict[str, Any]:
    objects = patient_objects(ctx)
    return {"keep": objects["keep"].pk, "drop": objects["drop"].pk, "reason": "矩阵测试：重复建档"}


PURPOSE = {"purpose": "矩阵测试：核对身份"}

ROUTES: dict[str, Route] = {
    # --- pages
    "patients:patient_list": Route(by_role(VIEWERS, 200, 403), anon=302),
    "patients:patient_export": Route(by_role(EXPORTERS, 200, 403), anon=302),
    "patients:patient_detail": Route(record(VIEWERS), anon=302, kwargs=_pk("patient"), per_scope=True),
    "patients:patient_unmask": Route(record(VIEWERS, capable=UNMASKERS), anon=302, method="post",
                                     kwargs=_pk("patient"), per_scope=True, data=lambda ctx, u, s: PURPOSE),
    "patients:patient_status": Route(record(VIEWERS, capable=CHANGERS), anon=302, kwargs=_pk("patient"),
                                     per_scope=True),
    "patients:supplement_edit": Route(record(VIEWERS, capable=CHANGERS), anon=302, kwargs=_pk("patient"),
                                      per_scope=True),
    "patients:transfer_create": Route(record(VIEWERS, capable=TRANSFER_USERS), anon=302, kwargs=_pk("patient"),
                                      per_scope=True),
    "patients:transfer_inbox": Route(by_role(TRANSFER_USERS, 200, 403), anon=302),
    # Declining twice: the second answer is refused on the page, which still redirects to the inbox.
    "patients:transfer_decide": Route(record(TRANSFER_USERS, ok=302), anon=302, method="post",
                                      kwargs=_pk("transfer"), per_scope=True,
                                      data=lambda ctx, u, s: {"decision": "decline", "decline_reason": "矩阵测试"}),
    "patients:case_report_list": Route(by_role(CASE_VIEWERS, 200, 403), anon=302),
    "patients:case_report_create": Route(by_role(CASE_ADDERS, 200, 403), anon=302),
    # Entering a draft: the adders, where the draft is theirs (their region here); 404 elsewhere.
    "patients:case_report_enter": Route(lambda user, scope: (200 if scope == "in" else 404) if user in CASE_ADDERS
                                        else 403, anon=302, kwargs=_pk("draft"), per_scope=True),
    "patients:suspected_list": Route(by_role(SUSPECT_VIEWERS, 200, 403), anon=302),
    "patients:suspected_create": Route(by_role(SUSPECT_CHANGERS, 200, 403), anon=302),
    "patients:suspected_detail": Route(record(SUSPECT_VIEWERS), anon=302, kwargs=_pk("case"), per_scope=True),
    # Sent without the required fields: a capable user gets the form back (400), nothing changes.
    "patients:suspected_refer": Route(record(SUSPECT_VIEWERS, ok=400, capable=SUSPECT_CHANGERS), anon=302,
                                      method="post", kwargs=_pk("case"), per_scope=True),
    "patients:suspected_close": Route(record(SUSPECT_VIEWERS, ok=400, capable=SUSPECT_CHANGERS), anon=302,
                                      method="post", kwargs=_pk("case"), per_scope=True),
    "patients:suspected_confirm": Route(record(SUSPECT_VIEWERS, capable=CONFIRMERS), anon=302, kwargs=_pk("case"),
                                        per_scope=True),
    "patients:duplicate_list": Route(by_role(MERGERS, 200, 403), anon=302),
    "patients:merge": Route(by_role(MERGERS, 302, 403), anon=302, method="post", data=_merge),
    # --- API
    "api-1:patients_list": Route(by_role(VIEWERS, 200, 403), anon=401),
    "api-1:patients_detail": Route(record(VIEWERS), anon=401, kwargs=_pk("patient", "patient_id"), per_scope=True),
    "api-1:patients_unmask": Route(record(VIEWERS, capable=UNMASKERS), anon=401, method="post", json=True,
                                   kwargs=_pk("patient", "patient_id"), per_scope=True, data=lambda ctx, u, s: PURPOSE),
    "api-1:patients_status": Route(record(VIEWERS, ok=201, capable=CHANGERS), anon=401, method="post", json=True,
                                   kwargs=_pk("patient", "patient_id"), per_scope=True, data=_status),
    "api-1:patients_supplement": Route(record(VIEWERS), anon=401, kwargs=_pk("patient", "patient_id"),
                                       per_scope=True),
    "api-1:patients_supplement_save": Route(record(VIEWERS, capable=CHANGERS), anon=401, method="post", json=True,
                                            kwargs=_pk("patient", "patient_id"), per_scope=True,
                                            data=lambda ctx, u, s: {"household": 1, "economic_status": 2}),
    # One pending transfer per patient: the county centre's is sent, the community doctor's refused.
    "api-1:patients_transfer_create": Route(once(VIEWERS, ["mhc_staff_a", "community_doctor_a"], 201), anon=401,
                                            method="post", json=True, kwargs=_pk("patient", "patient_id"),
                                            per_scope=True,
                                            data=lambda ctx, u, s: {"to_region": "110101002", "moved_on": "2026-01-10"}),
    "api-1:patients_transfer_list": Route(by_role(TRANSFER_USERS, 200, 403), anon=401),
    "api-1:patients_transfer_decide": Route(once(TRANSFER_USERS, ["mhc_staff_a", "community_doctor_a"], 200),
                                            anon=401, method="post", json=True,
                                            kwargs=_pk("transfer", "transfer_id"), per_scope=True,
                                            data=lambda ctx, u, s: {"decision": "decline", "decline_reason": "矩阵测试"}),
    "api-1:patients_case_report_create": Route(by_role(CASE_ADDERS, 201, 403), anon=401, method="post", json=True,
                                               data=_case_report),
    "api-1:patients_case_report_list": Route(by_role(CASE_VIEWERS, 200, 403), anon=401),
    "api-1:patients_case_report_draft_create": Route(by_role(CASE_ADDERS, 201, 403), anon=401, method="post",
                                                     json=True, data=lambda ctx, u, s: {
                                                         **_case_report(ctx, u, s), "report_type": None,
                                                         "brought_by": None}),
    # Sent empty: a capable user in scope gets the named missing fields (422), nothing is entered.
    "api-1:patients_case_report_enter": Route(lambda user, scope: (422 if scope == "in" else 404)
                                              if user in CASE_ADDERS else 403, anon=401, method="post", json=True,
                                              kwargs=_pk("draft", "report_id"), per_scope=True,
                                              data=lambda ctx, u, s: {}),
    "api-1:patients_suspected_create": Route(by_role(SUSPECT_CHANGERS, 201, 403), anon=401, method="post", json=True,
                                             data=lambda ctx, u, s: {"name": "矩阵疑似", "region_code": ctx["town_a"],
                                                                     "found_by": "doctor",
                                                                     "discovered_on": "2026-01-10"}),
    "api-1:patients_suspected_list": Route(by_role(SUSPECT_VIEWERS, 200, 403), anon=401),
    "api-1:patients_suspected_refer": Route(once(SUSPECT_VIEWERS, ["mhc_staff_a", "community_doctor_a"], 200),
                                            anon=401, method="post", json=True, kwargs=_pk("case", "case_id"),
                                            per_scope=True,
                                            data=lambda ctx, u, s: {"referred_to": patient_objects(ctx)["hospital"].pk,
                                                                    "referred_on": "2026-01-10"}),
    "api-1:patients_suspected_confirm": Route(once(SUSPECT_VIEWERS, ["mhc_staff_a", "psychiatrist_a"], 201),
                                              anon=401, method="post", json=True, kwargs=_pk("case", "case_id"),
                                              per_scope=True,
                                              data=lambda ctx, u, s: {"diagnosis": "F20", "icd10_code": "F20.0",
                                                                      "diagnosing_hospital":
                                                                          patient_objects(ctx)["hospital"].pk,
                                                                      "diagnosed_on": "2026-01-10"}),
    "api-1:patients_suspected_close": Route(once(SUSPECT_VIEWERS, ["mhc_staff_a", "community_doctor_a"], 200),
                                            anon=401, method="post", json=True, kwargs=_pk("case", "case_id"),
                                            per_scope=True, data=lambda ctx, u, s: {"closing_reason": "矩阵测试"}),
    "api-1:patients_duplicates": Route(by_role(MERGERS, 200, 403), anon=401),
    "api-1:patients_merge": Route(by_role(MERGERS, 201, 403), anon=401, method="post", json=True, data=_merge),
}
