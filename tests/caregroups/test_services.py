"""Management-group services: groups in scope, seats by kind, outsiders encrypted, minutes without
identity, joint visits limited to patients the actor may see; every write audited."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from tests.caregroups.factories import group, seat
from xinqiao.caregroups import services
from xinqiao.caregroups.models import GroupMember, JointVisit, Meeting
from xinqiao.core.audit import verify_chain
from xinqiao.core.models import AuditAction, AuditEvent

pytestmark = pytest.mark.django_db


def test_groups_are_set_up_inside_the_actors_region(cast: dict[str, Any], towns: list[Any]) -> None:
    g = group(cast["zongzhi_a"], towns[0])
    assert g.township_code == towns[0].code
    assert AuditEvent.objects.filter(action=AuditAction.CREATE, object_type="caregroups.managementgroup").exists()
    with pytest.raises(ValidationError) as exc:
        group(cast["zongzhi_a"], towns[1])
    assert set(exc.value.message_dict) == {"region_code"}
    with pytest.raises(ValidationError) as exc:
        group(cast["zongzhi_a"], towns[0])  # same name twice
    assert set(exc.value.message_dict) == {"name"}
    with pytest.raises(PermissionDenied):
        group(cast["police_a"], towns[0], name="另一个小组")
    with pytest.raises(ValidationError) as exc:
        services.create_group(cast["zongzhi_a"], services.GroupInput(
            region_code=towns[0].county_code, kind="comprehensive", name="区级", established_on=date(2025, 1, 1)))
    assert set(exc.value.message_dict) == {"region_code"}


def test_seats_follow_the_kind_of_group(cast: dict[str, Any], towns: list[Any], team: dict[str, Any]) -> None:
    lead, g = cast["zongzhi_a"], team["group"]
    with pytest.raises(ValidationError) as exc:
        seat(lead, g, "family", name="患者母亲")
    assert set(exc.value.message_dict) == {"role"}
    care = group(lead, towns[0], kind="care", name="第一社区关爱帮扶小组")
    assert seat(lead, care, "family", name="患者母亲", phone="13900001111").role == "family"


def test_members_are_accounts_of_the_area_or_named_outsiders(cast: dict[str, Any], team: dict[str, Any]) -> None:
    lead, g = cast["zongzhi_a"], team["group"]
    with pytest.raises(ValidationError) as exc:
        seat(lead, g, "police", user=cast["police_b"])  # township B's officer
    assert set(exc.value.message_dict) == {"user"}
    with pytest.raises(ValidationError) as exc:
        seat(lead, g, "police", user=cast["police_a"])  # already holds the seat
    assert set(exc.value.message_dict) == {"user"}
    with pytest.raises(ValidationError) as exc:
        seat(lead, g, "ageing")
    assert set(exc.value.message_dict) == {"outsider_name"}
    assert seat(lead, g, "disabled_federation", user=cast["disabled_federation_a"]).user is not None  # county account


def test_an_outsiders_name_and_phone_are_encrypted_and_masked(cast: dict[str, Any], team: dict[str, Any]) -> None:
    member = team["members"]["justice"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT outsider_name, outsider_phone FROM caregroups_groupmember WHERE id = %s", [member.pk])
        name, phone = cursor.fetchone()
    assert name.startswith("v1.") and phone.startswith("v1.") and "赵" not in name
    rows = {r["member"].pk: r for r in services.member_rows(cast["police_a"], team["group"])}
    assert rows[member.pk]["name"] == "赵**" and rows[member.pk]["phone"] == "137****5678"
    grid = {r["member"].pk: r for r in services.member_rows(cast["grid_worker_a"], team["group"])}
    assert grid[member.pk]["phone"] is None  # grid workers see no phone numbers


def test_minutes_refuse_patient_names_and_numbers(cast: dict[str, Any], team: dict[str, Any],
                                                  patients: dict[str, Any]) -> None:
    doctor, g = cast["community_doctor_a"], team["group"]
    attendees = tuple(m.pk for m in team["members"].values())
    name = patients["danger3"].person.name
    with pytest.raises(ValidationError) as exc:
        services.record_meeting(doctor, g, services.MeetingInput(
            held_on=timezone.localdate(), topics=f"研判{name}的管控措施", attendee_ids=attendees))
    assert set(exc.value.message_dict) == {"topics"}
    with pytest.raises(ValidationError) as exc:
        services.record_meeting(doctor, g, services.MeetingInput(
            held_on=timezone.localdate(), topics="研判", decisions="家属电话13812345678", attendee_ids=attendees))
    assert set(exc.value.message_dict) == {"decisions"}
    number = patients["danger3"].register_number
    meeting = services.record_meeting(doctor, g, services.MeetingInput(
        held_on=timezone.localdate(), topics=f"研判登记号{number}的管控措施", decisions="每月联合走访",
        attendee_ids=attendees))
    assert meeting.attendees.count() == 4
    assert AuditEvent.objects.get(action=AuditAction.CREATE, object_type="caregroups.meeting").detail["attendees"] == 4
    with connection.cursor() as cursor:
        cursor.execute("SELECT topics FROM caregroups_meeting WHERE id = %s", [meeting.pk])
        assert cursor.fetchone()[0].startswith("v1.")


def test_meeting_attendees_must_be_members(cast: dict[str, Any], towns: list[Any], team: dict[str, Any]) -> None:
    other = group(cast["zongzhi_b"], towns[1])
    stranger = seat(cast["zongzhi_b"], other, "zongzhi", user=cast["zongzhi_b"])
    with pytest.raises(ValidationError) as exc:
        services.record_meeting(cast["zongzhi_a"], team["group"], services.MeetingInput(
            held_on=timezone.localdate(), topics="例会", attendee_ids=(stranger.pk,)))
    assert set(exc.value.message_dict) == {"attendees"}
    with pytest.raises(ValidationError) as exc:
        services.record_meeting(cast["zongzhi_a"], team["group"], services.MeetingInput(
            held_on=timezone.localdate() + timedelta(days=1), topics="例会",
            attendee_ids=(team["members"]["zongzhi"].pk,)))
    assert set(exc.value.message_dict) == {"held_on"}
    assert not Meeting.objects.exists()


def test_joint_visits_only_to_patients_the_actor_may_see(cast: dict[str, Any], team: dict[str, Any],
                                                         patients: dict[str, Any]) -> None:
    g, members = team["group"], team["members"]
    two = (members["police"].pk, members["health"].pk)
    police = cast["police_a"]
    visit = services.record_visit(police, g, services.VisitInput(
        patient_id=patients["danger3"].pk, visited_on=timezone.localdate(), outcome=1, participant_ids=two,
        note="在家，按时服药"))
    assert visit.township_code == patients["danger3"].township_code and visit.followup is None
    with pytest.raises(ValidationError) as exc:  # no such follow-up of this patient
        services.record_visit(police, g, services.VisitInput(
            patient_id=patients["danger3"].pk, visited_on=timezone.localdate(), outcome=1, participant_ids=two,
            followup_id=999999))
    assert set(exc.value.message_dict) == {"followup"}
    for blocked in ("danger0", "other_town"):
        with pytest.raises(ValidationError) as exc:
            services.record_visit(police, g, services.VisitInput(
                patient_id=patients[blocked].pk, visited_on=timezone.localdate(), outcome=1, participant_ids=two))
        assert set(exc.value.message_dict) == {"patient"}
    with pytest.raises(ValidationError) as exc:
        services.record_visit(police, g, services.VisitInput(
            patient_id=patients["danger3"].pk, visited_on=timezone.localdate(), outcome=1,
            participant_ids=(members["police"].pk,)))
    assert set(exc.value.message_dict) == {"participants"}
    # The doctor may visit the danger-0 patient; police never see that visit.
    services.record_visit(cast["community_doctor_a"], g, services.VisitInput(
        patient_id=patients["danger0"].pk, visited_on=timezone.localdate(), outcome=2, participant_ids=two))
    assert set(JointVisit.objects.restrict(police).values_list("patient_id", flat=True)) == {patients["danger3"].pk}
    assert JointVisit.objects.restrict(cast["community_doctor_a"]).count() == 2
    assert verify_chain().ok


def test_the_group_patient_list_is_partner_narrowed(cast: dict[str, Any], team: dict[str, Any],
                                                    patients: dict[str, Any]) -> None:
    g = team["group"]
    seen = set(services.group_patients(cast["police_a"], g).values_list("pk", flat=True))
    assert seen == {patients["danger3"].pk, patients["incident"].pk}
    doctor = set(services.group_patients(cast["community_doctor_a"], g).values_list("pk", flat=True))
    assert doctor == {patients["danger3"].pk, patients["danger0"].pk, patients["incident"].pk}
    assert GroupMember.objects.restrict(cast["police_b"]).count() == 0
