"""The group pages and API: a partner sees only the patients and fields the law allows (DOMAIN.md §7),
every view is audited, and anything outside the user's region is a 404."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.helpers import fields_of, verified_client
from tests.patients.factories import PatientFactory
from xinqiao.caregroups.models import JointVisit, ManagementGroup, Meeting
from xinqiao.core.models import AuditAction, AuditEvent

pytestmark = pytest.mark.django_db

#: What police must never see of a patient: the diagnosis (label, ICD-10 code) and medication.
CLINICAL = ("精神分裂症", "schizophrenia", "F20", "诊断", "diagnosis", "用药", "medication", "ICD")


def test_police_see_a_danger_3_patient_of_their_township_and_404_on_danger_0(
        cast: dict[str, Any], team: dict[str, Any], patients: dict[str, Any]) -> None:
    g = team["group"]
    police = verified_client(cast["police_a"])
    html = police.get(reverse("caregroups:group_patients", args=[g.pk])).content.decode()
    danger3, danger0 = patients["danger3"], patients["danger0"]
    assert danger3.register_number in html and patients["incident"].register_number in html
    assert danger0.register_number not in html and patients["other_town"].register_number not in html
    assert danger3.person.name not in html  # masked: 王** …
    for word in CLINICAL:
        assert word not in html, word
    listed = AuditEvent.objects.get(action=AuditAction.LIST, object_type="patients.patient")
    assert set(listed.detail["ids"]) == {str(danger3.pk), str(patients["incident"].pk)}
    assert listed.actor_username == "police_a" and listed.detail["via"] == "caregroup"

    page = police.get(reverse("caregroups:group_patient", args=[g.pk, danger3.pk]))
    detail = page.content.decode()
    assert page.status_code == 200 and 'id="f-danger_level"' in detail and 'id="f-responsible_doctor"' in detail
    for word in CLINICAL:
        assert word not in detail, word
    assert AuditEvent.objects.filter(action=AuditAction.VIEW, object_type="patients.patient",
                                     object_id=str(danger3.pk), actor_username="police_a").exists()

    assert police.get(reverse("caregroups:group_patient", args=[g.pk, danger0.pk])).status_code == 404
    api = police.get(reverse("api-1:caregroup_patients", args=[g.pk])).json()
    assert {row["register_number"] for row in api["results"]} == {danger3.register_number,
                                                                    patients["incident"].register_number}
    assert all(row["diagnosis"] is None for row in api["results"])
    assert {row["danger_level"] for row in api["results"]} == {3, 0}


def test_clinicians_see_every_patient_with_the_diagnosis(cast: dict[str, Any], team: dict[str, Any],
                                                         patients: dict[str, Any]) -> None:
    g = team["group"]
    doctor = verified_client(cast["community_doctor_a"])
    html = doctor.get(reverse("caregroups:group_patients", args=[g.pk])).content.decode()
    assert patients["danger0"].register_number in html
    detail = doctor.get(reverse("caregroups:group_patient", args=[g.pk, patients["danger0"].pk])).content.decode()
    assert 'id="f-diagnosis"' in detail and "F20" in detail
    api = doctor.get(reverse("api-1:caregroup_patients", args=[g.pk])).json()
    assert {row["diagnosis"] for row in api["results"]} == {"F20"}


def test_each_partner_sees_only_its_categories(cast: dict[str, Any], team: dict[str, Any],
                                               patients: dict[str, Any]) -> None:
    g, p = team["group"], patients["danger3"]
    civil = verified_client(cast["civil_affairs_a"]).get(
        reverse("caregroups:group_patient", args=[g.pk, p.pk])).content.decode()
    assert 'id="f-danger_level"' not in civil and 'id="f-name"' in civil  # civil affairs: no danger level
    grid = verified_client(cast["grid_worker_a"]).get(
        reverse("caregroups:group_patient", args=[g.pk, p.pk])).content.decode()
    assert 'id="f-danger_level"' in grid and 'id="f-phone"' not in grid  # grid workers: no phone


def test_groups_of_another_township_are_404(cast: dict[str, Any], towns: list[Any], team: dict[str, Any],
                                            patients: dict[str, Any]) -> None:
    g = team["group"]
    for user in ("police_b", "zongzhi_b", "community_doctor_b"):
        client = verified_client(cast[user])
        assert client.get(reverse("caregroups:group_detail", args=[g.pk])).status_code == 404
        assert client.get(reverse("caregroups:group_patients", args=[g.pk])).status_code == 404
        assert client.get(reverse("api-1:caregroup_detail", args=[g.pk])).status_code == 404
    assert verified_client(cast["hotline_counsellor"]).get(reverse("caregroups:group_list")).status_code == 403


def test_group_patient_list_has_a_fixed_query_count(cast: dict[str, Any], towns: list[Any],
                                                    team: dict[str, Any]) -> None:
    client = verified_client(cast["police_a"])
    url = reverse("caregroups:group_patients", args=[team["group"].pk])

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    for _ in range(2):
        PatientFactory(region=towns[0], danger_level=4)
    few = count()
    for _ in range(5):
        PatientFactory(region=towns[0], danger_level=3)
    assert count() == few


def test_unmask_a_patient_for_a_home_visit_is_audited(cast: dict[str, Any], team: dict[str, Any],
                                                      patients: dict[str, Any]) -> None:
    g, p = team["group"], patients["danger3"]
    url = reverse("caregroups:group_patient_unmask", args=[g.pk, p.pk])
    police = verified_client(cast["police_a"])
    assert police.post(url, {"purpose": "ab"}).status_code == 400
    response = police.post(url, {"purpose": "今日联合走访核对住址"})
    assert response.status_code == 200 and p.person.name in response.content.decode()
    event = AuditEvent.objects.get(action=AuditAction.UNMASK, object_type="core.person")
    assert event.purpose == "今日联合走访核对住址" and event.object_id == str(p.person_id)
    assert verified_client(cast["grid_worker_a"]).post(url, {"purpose": "今日走访"}).status_code == 403
    danger0 = reverse("caregroups:group_patient_unmask", args=[g.pk, patients["danger0"].pk])
    assert police.post(danger0, {"purpose": "今日联合走访"}).status_code == 404


def test_member_unmask(cast: dict[str, Any], team: dict[str, Any]) -> None:
    member = team["members"]["justice"]
    url = reverse("caregroups:member_unmask", args=[member.pk])
    response = verified_client(cast["police_a"]).post(url, {"purpose": "联系司法所安排走访"})
    assert response.status_code == 200 and "赵司法" in response.content.decode()
    assert AuditEvent.objects.filter(action=AuditAction.UNMASK, object_type="caregroups.groupmember").exists()
    assert verified_client(cast["grid_worker_a"]).post(url, {"purpose": "联系司法所"}).status_code == 403
    assert verified_client(cast["police_b"]).post(url, {"purpose": "联系司法所"}).status_code == 404


def test_pages_create_once_per_key(cast: dict[str, Any], towns: list[Any], team: dict[str, Any],
                                   patients: dict[str, Any]) -> None:
    lead = verified_client(cast["zongzhi_a"])
    data = {"form_key": "g-1", "region_code": towns[0].code, "kind": "care", "name": "第二社区关爱帮扶小组",
            "established_on": "2025-06-01"}
    first = lead.post(reverse("caregroups:group_create"), data)
    again = lead.post(reverse("caregroups:group_create"), data)
    assert first.status_code == again.status_code == 302 and first["Location"] == again["Location"]
    assert ManagementGroup.objects.filter(name="第二社区关爱帮扶小组").count() == 1
    g = team["group"]
    members = [str(m.pk) for m in team["members"].values()]
    meeting = {"form_key": "m-1", "held_on": timezone.localdate().isoformat(), "attendees": members,
               "topics": f"研判{patients['danger3'].person.name}的情况"}
    refused = lead.post(reverse("caregroups:meeting_create", args=[g.pk]), meeting)
    assert refused.status_code == 400 and 'id="id_topics-error"' in refused.content.decode()
    meeting["topics"] = f"研判登记号{patients['danger3'].register_number}的情况"
    assert lead.post(reverse("caregroups:meeting_create", args=[g.pk]), meeting).status_code == 302
    assert lead.post(reverse("caregroups:meeting_create", args=[g.pk]), meeting).status_code == 302
    assert Meeting.objects.count() == 1
    visit = {"form_key": "v-1", "patient": patients["danger3"].register_number,
             "visited_on": timezone.localdate().isoformat(), "participants": members[:2], "outcome": 1}
    police = verified_client(cast["police_a"])
    assert police.post(reverse("caregroups:visit_create", args=[g.pk]), visit).status_code == 302
    blocked = police.post(reverse("caregroups:visit_create", args=[g.pk]),
                          {**visit, "form_key": "v-2", "patient": patients["danger0"].register_number})
    assert blocked.status_code == 400 and 'id="id_patient-error"' in blocked.content.decode()
    assert JointVisit.objects.count() == 1
    detail = lead.get(reverse("caregroups:group_detail", args=[g.pk])).content.decode()
    assert patients["danger3"].register_number in detail and 'id="member-list"' in detail


def test_api_meeting_refuses_identity_naming_the_field(cast: dict[str, Any], team: dict[str, Any],
                                                       patients: dict[str, Any]) -> None:
    g = team["group"]
    client = verified_client(cast["community_doctor_a"])
    url = reverse("api-1:caregroup_meeting_create", args=[g.pk])
    body = {"held_on": timezone.localdate().isoformat(), "attendee_ids": [team["members"]["zongzhi"].pk],
            "topics": "家属电话 13812345678"}
    refused = client.post(url, body, content_type="application/json", headers={"Idempotency-Key": "m-1"})
    assert refused.status_code == 422 and fields_of(refused) == ["topics"]
    body["topics"] = "季度例会"
    ok = client.post(url, body, content_type="application/json", headers={"Idempotency-Key": "m-2"})
    replay = client.post(url, body, content_type="application/json", headers={"Idempotency-Key": "m-2"})
    assert ok.status_code == replay.status_code == 201 and ok.json()["id"] == replay.json()["id"]
    listed = verified_client(cast["grid_worker_a"]).get(reverse("api-1:caregroup_meeting_list", args=[g.pk])).json()
    assert [m["topics"] for m in listed] == ["季度例会"]
    detail = verified_client(cast["police_a"]).get(reverse("api-1:caregroup_detail", args=[g.pk])).json()
    assert {m["role"] for m in detail["members"]} == {"zongzhi", "police", "health", "justice"}
    assert "赵司法" not in str(detail)
