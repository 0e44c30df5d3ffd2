"""API routes of the caregroups app, mounted under ``/api/v1/caregroups/``. Every route is in the
permission matrix (``tests/security/routes_caregroups.py``).

A group outside the caller's region is a 404; the group's patients come through
``Patient.objects.restrict`` (partner-narrowed) and ``masks.present``, audited as a list. POSTs take a
required ``Idempotency-Key`` and store once.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest
from ninja import Header, Router, Status
from ninja.security import django_auth

from xinqiao.caregroups import services
from xinqiao.caregroups.models import JointVisit, ManagementGroup, Meeting
from xinqiao.caregroups.schemas import (
    CareGroupCreateSchema,
    CareGroupSchema,
    GroupMemberCreateSchema,
    GroupMemberSchema,
    GroupPatientPage,
    JointVisitCreateSchema,
    JointVisitSchema,
    MeetingCreateSchema,
    MeetingSchema,
)
from xinqiao.core import audit
from xinqiao.core.idempotency import run_once
from xinqiao.core.masks import present
from xinqiao.core.models import AuditAction
from xinqiao.core.scope import get_scoped_or_404
from xinqiao.referrals.api import json_body

router = Router(tags=["caregroups"])
PAGE_SIZE = 50


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _group(request: HttpRequest, group_id: int) -> ManagementGroup:
    return get_scoped_or_404(ManagementGroup, request.user, pk=group_id)


def group_out(group: ManagementGroup, members: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"id": group.pk, "kind": group.kind, "name": group.name, "township_code": group.township_code,
            "established_on": group.established_on, "active": group.active,
            "members": [member_out(row) for row in members or []]}


def member_out(row: dict[str, Any]) -> dict[str, Any]:
    member = row["member"]
    return {"id": member.pk, "role": member.role, "role_label": row["seat"], "user_id": member.user_id,
            "name": row["name"], "phone": row["phone"], "unit": row["unit"]}


def meeting_out(meeting: Meeting) -> dict[str, Any]:
    return {"id": meeting.pk, "group_id": meeting.group_id, "held_on": meeting.held_on, "place": meeting.place,
            "attendee_ids": sorted(m.pk for m in meeting.attendees.all()), "topics": meeting.topics,
            "decisions": meeting.decisions}


def visit_out(user: Any, visit: JointVisit) -> dict[str, Any]:
    return {"id": visit.pk, "group_id": visit.group_id, "patient_id": visit.patient_id,
            "register_number": visit.patient.register_number, "visited_on": visit.visited_on,
            "outcome": visit.outcome, "participant_ids": sorted(m.pk for m in visit.participants.all()),
            "note": present(user, visit).get("note") or None, "followup_id": visit.followup_id}


@router.get("/groups", response=list[CareGroupSchema], auth=django_auth, url_name="caregroup_list")
def group_list(request: HttpRequest) -> list[dict[str, Any]]:
    """The groups of the caller's region."""
    _require(request, "caregroups.view_managementgroup")
    return [group_out(g) for g in ManagementGroup.objects.restrict(request.user).order_by("region_id", "kind", "name")]


@router.post("/groups", response={201: CareGroupSchema}, auth=django_auth, url_name="caregroup_create")
def group_create(request: HttpRequest, payload: CareGroupCreateSchema,
                 idempotency_key: str = Header(..., alias="Idempotency-Key")) -> Status:
    """Set up a group in a township of the caller's region; stored once per ``Idempotency-Key``."""
    _require(request, "caregroups.add_managementgroup")
    body = payload.dict()

    def create() -> tuple[int, dict[str, Any]]:
        return 201, json_body(group_out(services.create_group(request.user, services.GroupInput(**body))))

    status, out, _replayed = run_once(request.user, "caregroups.group", idempotency_key[:128], body, create)
    return Status(status, out)


@router.get("/groups/{int:group_id}", response=CareGroupSchema, auth=django_auth, url_name="caregroup_detail")
def group_detail(request: HttpRequest, group_id: int) -> dict[str, Any]:
    """One group with its active members (outsiders masked); audited as a view."""
    group = _group(request, group_id)
    members = services.member_rows(request.user, group)
    audit.record(AuditAction.VIEW, obj=group, detail={"members": len(members), "via": "api"})
    return group_out(group, members)


@router.post("/groups/{int:group_id}/members", response={201: GroupMemberSchema}, auth=django_auth,
             url_name="caregroup_member_create")
def member_create(request: HttpRequest, group_id: int, payload: GroupMemberCreateSchema,
                  idempotency_key: str = Header(..., alias="Idempotency-Key")) -> Status:
    """Give a platform account or an outsider a seat of the group."""
    group = _group(request, group_id)
    _require(request, "caregroups.add_groupmember")
    body = {"group": group.pk, **payload.dict()}

    def create() -> tuple[int, dict[str, Any]]:
        member = services.add_member(request.user, group, services.MemberInput(**payload.dict()))
        row = next(r for r in services.member_rows(request.user, group) if r["member"].pk == member.pk)
        return 201, json_body(member_out(row))

    status, out, _replayed = run_once(request.user, "caregroups.member", idempotency_key[:128], body, create)
    return Status(status, out)


@router.get("/groups/{int:group_id}/meetings", response=list[MeetingSchema], auth=django_auth,
            url_name="caregroup_meeting_list")
def meeting_list(request: HttpRequest, group_id: int) -> list[dict[str, Any]]:
    """The group's meetings, newest first."""
    group = _group(request, group_id)
    _require(request, "caregroups.view_meeting")
    meetings = list(Meeting.objects.restrict(request.user).filter(group=group).prefetch_related("attendees")
                    .order_by("-held_on", "-id")[:200])
    return [meeting_out(m) for m in meetings]


@router.post("/groups/{int:group_id}/meetings", response={201: MeetingSchema}, auth=django_auth,
             url_name="caregroup_meeting_create")
def meeting_create(request: HttpRequest, group_id: int, payload: MeetingCreateSchema,
                   idempotency_key: str = Header(..., alias="Idempotency-Key")) -> Status:
    """Record a meeting; minutes carrying names, ID or phone numbers are refused (422 naming the field)."""
    group = _group(request, group_id)
    _require(request, "caregroups.add_meeting")
    body = {"group": group.pk, **payload.dict()}
    data = payload.dict()

    def create() -> tuple[int, dict[str, Any]]:
        meeting = services.record_meeting(request.user, group, services.MeetingInput(
            held_on=data["held_on"], place=data["place"], topics=data["topics"], decisions=data["decisions"],
            attendee_ids=tuple(data["attendee_ids"])))
        return 201, json_body(meeting_out(meeting))

    status, out, _replayed = run_once(request.user, "caregroups.meeting", idempotency_key[:128], body, create)
    return Status(status, out)


@router.get("/groups/{int:group_id}/visits", response=list[JointVisitSchema], auth=django_auth,
            url_name="caregroup_visit_list")
def visit_list(request: HttpRequest, group_id: int) -> list[dict[str, Any]]:
    """The group's joint visits the caller may see (partner roles: patients they may see); audited."""
    group = _group(request, group_id)
    _require(request, "caregroups.view_jointvisit")
    visits = list(JointVisit.objects.restrict(request.user).filter(group=group).select_related("patient")
                  .prefetch_related("participants").order_by("-visited_on", "-id")[:200])
    if visits:
        audit.record_many(AuditAction.LIST, visits, detail={"group": group.pk, "via": "api"})
    return [visit_out(request.user, v) for v in visits]


@router.post("/groups/{int:group_id}/visits", response={201: JointVisitSchema}, auth=django_auth,
             url_name="caregroup_visit_create")
def visit_create(request: HttpRequest, group_id: int, payload: JointVisitCreateSchema,
                 idempotency_key: str = Header(..., alias="Idempotency-Key")) -> Status:
    """Record a joint visit to a patient the caller may see."""
    group = _group(request, group_id)
    _require(request, "caregroups.add_jointvisit")
    data = payload.dict()
    body = {"group": group.pk, **data}

    def create() -> tuple[int, dict[str, Any]]:
        visit = services.record_visit(request.user, group, services.VisitInput(
            patient_id=data["patient_id"], visited_on=data["visited_on"], outcome=data["outcome"],
            participant_ids=tuple(data["participant_ids"]), note=data["note"], followup_id=data["followup_id"]))
        return 201, json_body(visit_out(request.user, visit))

    status, out, _replayed = run_once(request.user, "caregroups.visit", idempotency_key[:128], body, create)
    return Status(status, out)


@router.get("/groups/{int:group_id}/patients", response=GroupPatientPage, auth=django_auth,
            url_name="caregroup_patients")
def group_patients(request: HttpRequest, group_id: int, page: int = 1) -> dict[str, Any]:
    """The patients of the group's township the caller may see, masked per role; audited as a list."""
    group = _group(request, group_id)
    _require(request, "patients.view_patient")
    qs = services.group_patients(request.user, group).select_related("person", "responsible_doctor")
    paged = Paginator(qs.order_by("-danger_level", "register_number"), PAGE_SIZE).get_page(page)
    rows = services.list_group_patients(request.user, group, paged.object_list)
    results = []
    for row in rows:
        p, shown, person = row["patient"], row["shown"], row["person"]
        results.append({
            "id": p.pk, "register_number": p.register_number, "township_code": p.township_code,
            "incident_history": p.incident_history, "name": person.get("name"),
            "sex": p.person.sex if "sex" in person else None, "address": person.get("address"),
            "phone": person.get("phone"), "danger_level": p.danger_level if "danger_level" in shown else None,
            "responsible_doctor": str(shown["responsible_doctor"]) if shown.get("responsible_doctor") else None,
            "diagnosis": p.diagnosis if "diagnosis" in shown else None,
        })
    return {"count": paged.paginator.count, "page": paged.number, "pages": paged.paginator.num_pages,
            "results": results}
