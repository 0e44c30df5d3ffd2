"""Permission-matrix declarations of the management-group routes (loaded by ``test_permission_matrix``).

Record routes use, per scope, a 综合管理小组 of the scope's township (``in`` township A, ``sibling``
township B, ``out`` a Beijing township) with two outside members, a meeting, and a patient at danger
level 3 (so the partner roles of township A see them; the 404 for a danger-0 patient is tested in
``tests/caregroups/test_views.py``).

Who holds what (roles.json), written out:

* viewing groups, members, meetings and joint visits: the group's agencies (综治, police, civil affairs,
  grid worker, disabled persons' federation — at county level — community doctor, county centre) and
  regulators; the group's patients additionally need ``patients.view_patient``, which all of them hold;
* setting up groups, seats and meetings: 综治, community doctors, the county centre; joint visits: the
  same plus police; exporting visits: community doctors and the county centre;
* revealing an outside member: the three leads plus police and civil affairs
  (``caregroups.unmask_groupmember``); revealing a patient's identity: holders of ``core.unmask_person``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from tests.security.test_permission_matrix import CITY_OR_ABOVE, PERSON_UNMASKERS, Route, by_role, record

GROUP_VIEWERS = frozenset({"regulator", "regulator_province", "mhc_staff_a", "community_doctor_a", "police_a",
                           "civil_affairs_a", "zongzhi_a", "grid_worker_a", "disabled_federation_a"})
LEADS = frozenset({"zongzhi_a", "community_doctor_a", "mhc_staff_a"})
MEMBER_UNMASKERS = LEADS | {"police_a", "civil_affairs_a"}
VISITORS = LEADS | {"police_a"}
VISIT_EXPORTERS = frozenset({"community_doctor_a", "mhc_staff_a"})
PATIENT_UNMASKERS = PERSON_UNMASKERS & GROUP_VIEWERS

assert CITY_OR_ABOVE - {"sysadmin"} <= GROUP_VIEWERS


def group_objects(ctx: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per scope: a group with two outside members, a meeting, a danger-3 patient; made once per ctx."""
    if "group_objects" not in ctx:
        from tests.patients.factories import PatientFactory
        from xinqiao.caregroups.models import GroupMember, ManagementGroup, Meeting
        from xinqiao.core.models import Region

        objects: dict[str, dict[str, Any]] = {}
        for scope in ("in", "sibling", "out"):
            town = Region.objects.get(code=ctx["persons"][scope].region_id)
            group = ManagementGroup.objects.create(region=town, kind="comprehensive", name=f"矩阵测试小组-{scope}",
                                                   established_on=date(2025, 1, 1))
            members = [GroupMember.objects.create(group=group, region=town, role=role, outsider_name=name,
                                                  outsider_phone="13700001111", joined_on=date(2025, 1, 1))
                       for role, name in (("justice", "矩阵司法"), ("ageing", "矩阵老龄"))]
            meeting = Meeting.objects.create(group=group, region=town, held_on=date(2025, 6, 1), topics="矩阵测试例会")
            meeting.attendees.set(members)
            patient = PatientFactory(region=town, danger_level=3)
            objects[scope] = {"group": group, "members": members, "meeting": meeting, "patient": patient}
        ctx["group_objects"] = objects
    out: dict[str, dict[str, Any]] = ctx["group_objects"]
    return out


def _group(name: str = "pk") -> Any:
    return lambda ctx, scope: {name: group_objects(ctx)[scope]["group"].pk}


def _member(ctx: dict[str, Any], scope: str) -> dict[str, Any]:
    return {"pk": group_objects(ctx)[scope]["members"][0].pk}


def _meeting(ctx: dict[str, Any], scope: str) -> dict[str, Any]:
    return {"pk": group_objects(ctx)[scope]["meeting"].pk}


def _patient(ctx: dict[str, Any], scope: str) -> dict[str, Any]:
    objs = group_objects(ctx)[scope]
    return {"pk": objs["group"].pk, "patient_pk": objs["patient"].pk}


def _visit_payload(ctx: dict[str, Any], user: str, scope: str) -> dict[str, Any]:
    objs = group_objects(ctx)[scope]
    return {"patient_id": objs["patient"].pk, "visited_on": "2025-07-01", "outcome": 1,
            "participant_ids": [m.pk for m in objs["members"]]}


def _meeting_payload(ctx: dict[str, Any], user: str, scope: str) -> dict[str, Any]:
    objs = group_objects(ctx)[scope]
    return {"held_on": "2025-07-01", "attendee_ids": [objs["members"][0].pk], "topics": "矩阵测试季度例会"}


PURPOSE = {"purpose": "矩阵测试：安排联合走访"}

ROUTES: dict[str, Route] = {
    "caregroups:group_list": Route(by_role(GROUP_VIEWERS, 200, 403), anon=302),
    "caregroups:group_create": Route(by_role(LEADS, 200, 403), anon=302),
    "caregroups:group_detail": Route(record(GROUP_VIEWERS), anon=302, kwargs=_group(), per_scope=True),
    "caregroups:member_create": Route(record(GROUP_VIEWERS, capable=LEADS), anon=302, kwargs=_group(),
                                      per_scope=True),
    "caregroups:member_unmask": Route(record(GROUP_VIEWERS, capable=MEMBER_UNMASKERS), anon=302, method="post",
                                      kwargs=_member, per_scope=True, data=lambda ctx, u, s: PURPOSE),
    "caregroups:meeting_create": Route(record(GROUP_VIEWERS, capable=LEADS), anon=302, kwargs=_group(),
                                       per_scope=True),
    "caregroups:meeting_detail": Route(record(GROUP_VIEWERS), anon=302, kwargs=_meeting, per_scope=True),
    "caregroups:visit_create": Route(record(GROUP_VIEWERS, capable=VISITORS), anon=302, kwargs=_group(),
                                     per_scope=True),
    "caregroups:visit_export": Route(record(GROUP_VIEWERS, capable=VISIT_EXPORTERS), anon=302, kwargs=_group(),
                                     per_scope=True),
    "caregroups:group_patients": Route(record(GROUP_VIEWERS), anon=302, kwargs=_group(), per_scope=True),
    "caregroups:group_patient": Route(record(GROUP_VIEWERS), anon=302, kwargs=_patient, per_scope=True),
    "caregroups:group_patient_unmask": Route(record(GROUP_VIEWERS, capable=PATIENT_UNMASKERS), anon=302,
                                             method="post", kwargs=_patient, per_scope=True,
                                             data=lambda ctx, u, s: PURPOSE),
    "api-1:caregroup_list": Route(by_role(GROUP_VIEWERS, 200, 403), anon=401),
    "api-1:caregroup_create": Route(by_role(LEADS, 201, 403), anon=401, method="post", json=True,
                                    data=lambda ctx, u, s: {"region_code": ctx["town_a"], "kind": "care",
                                                            "name": f"矩阵测试-{u}", "established_on": "2025-01-01"}),
    "api-1:caregroup_detail": Route(record(GROUP_VIEWERS), anon=401, kwargs=_group("group_id"), per_scope=True),
    "api-1:caregroup_member_create": Route(record(GROUP_VIEWERS, ok=201, capable=LEADS), anon=401, method="post",
                                           json=True, kwargs=_group("group_id"), per_scope=True,
                                           data=lambda ctx, u, s: {"role": "ageing", "outsider_name": f"矩阵{u}"}),
    "api-1:caregroup_meeting_list": Route(record(GROUP_VIEWERS), anon=401, kwargs=_group("group_id"),
                                          per_scope=True),
    "api-1:caregroup_meeting_create": Route(record(GROUP_VIEWERS, ok=201, capable=LEADS), anon=401, method="post",
                                            json=True, kwargs=_group("group_id"), per_scope=True,
                                            data=_meeting_payload),
    "api-1:caregroup_visit_list": Route(record(GROUP_VIEWERS), anon=401, kwargs=_group("group_id"),
                                        per_scope=True),
    "api-1:caregroup_visit_create": Route(record(GROUP_VIEWERS, ok=201, capable=VISITORS), anon=401,
                                          method="post", json=True, kwargs=_group("group_id"), per_scope=True,
                                          data=_visit_payload),
    "api-1:caregroup_patients": Route(record(GROUP_VIEWERS), anon=401, kwargs=_group("group_id"), per_scope=True),
}
