"""Evaluations and inspections, findings and their follow-up, sanctions (propose → decide → lift)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tests.registry.factories import BAIYUN, make_institution, make_practitioner
from xinqiao.core.audit import verify_chain
from xinqiao.core.models import AuditEvent
from xinqiao.registry import finder, lookup, oversight, rules
from xinqiao.registry.models import Evaluation, Institution, Practitioner

pytestmark = pytest.mark.django_db


@pytest.fixture
def room(cast: dict[str, Any]) -> Institution:
    """A village counselling room in township A; psychologist_a works there."""
    room = make_institution(None, name="测试社区心理咨询室", kind="counselling_room",
                            region_code=cast["community_doctor_a"].region_id, business_licence_number="",
                            licensing_status="")
    cast["psychologist_a"].organisation = room.organisation
    cast["psychologist_a"].save(update_fields=["organisation"])
    return room


def full_scores() -> dict[str, float | None]:
    return {i.code: float(i.points) for i in rules.checklist().items}


def test_evaluation_scored_finalised_and_graded(cast: dict[str, Any], room: Institution) -> None:
    evaluation = oversight.start_evaluation(cast["mhc_staff_a"], room, kind="evaluation", visited_on=date(2026, 1, 8))
    partial = {"staff.qualified": 15.0, "staff.training": None}
    oversight.record_scores(cast["mhc_staff_a"], evaluation, partial)  # a draft may be incomplete
    with pytest.raises(ValidationError) as exc:
        oversight.record_scores(cast["mhc_staff_a"], evaluation, partial, finalise=True)
    assert "score.staff.training" in exc.value.message_dict
    scores = full_scores()
    scores["staff.supervision"] = 0  # 90 → still A
    scores["staff.training"] = 2  # 82 → B
    evaluation = oversight.record_scores(cast["mhc_staff_a"], evaluation, scores, summary="总体良好", finalise=True)
    assert (evaluation.grade, float(evaluation.percent), evaluation.status) == ("B", 82.0, "final")
    room.refresh_from_db()
    assert room.grade == "B" and room.graded_on == date(2026, 1, 8) and room.version == 2
    with pytest.raises(ValidationError):
        oversight.record_scores(cast["mhc_staff_a"], evaluation, scores)  # final stays final
    assert verify_chain().ok


def test_inspection_does_not_change_the_public_grade(cast: dict[str, Any], room: Institution) -> None:
    inspection = oversight.start_evaluation(cast["regulator"], room, kind="inspection", visited_on=date(2026, 2, 1))
    oversight.record_scores(cast["regulator"], inspection, full_scores(), finalise=True)
    room.refresh_from_db()
    assert room.grade == "" and room.version == 1


@pytest.mark.parametrize(("change", "field"), [({"staff.qualified": 99}, "score.staff.qualified"),
                                               ({"nope": 1}, "score.nope")])
def test_bad_scores_name_the_item(cast: dict[str, Any], room: Institution, change: dict[str, float],
                                  field: str) -> None:
    evaluation = oversight.start_evaluation(cast["mhc_staff_a"], room, kind="evaluation", visited_on=date(2026, 1, 8))
    with pytest.raises(ValidationError) as exc:
        oversight.record_scores(cast["mhc_staff_a"], evaluation, {**full_scores(), **change})
    assert field in exc.value.message_dict


def test_who_may_evaluate(cast: dict[str, Any], room: Institution) -> None:
    for user in ("psychologist_a", "community_doctor_a", "police_a", "mhc_staff_b"):
        with pytest.raises(PermissionDenied):
            oversight.start_evaluation(cast[user], room, kind="evaluation", visited_on=date(2026, 1, 8))
    with pytest.raises(ValidationError):
        oversight.start_evaluation(cast["mhc_staff_a"], room, kind="evaluation",
                                   visited_on=timezone.localdate() + timedelta(days=1))


def test_findings_reported_by_the_institution_verified_by_the_inspector(cast: dict[str, Any], room: Institution) -> None:
    evaluation = oversight.start_evaluation(cast["mhc_staff_a"], room, kind="inspection", visited_on=date(2026, 1, 8))
    with pytest.raises(ValidationError) as exc:
        oversight.add_finding(cast["mhc_staff_a"], evaluation, oversight.FindingInput(description="隔音不足",
                                                                                      severity="major"))
    assert "rectify_by" in exc.value.message_dict  # a major finding needs a deadline
    finding = oversight.add_finding(cast["mhc_staff_a"], evaluation, oversight.FindingInput(
        description="隔音不足", severity="major", rectify_by=date(2026, 2, 28), item_code="premises.privacy"))
    oversight.record_scores(cast["mhc_staff_a"], evaluation, full_scores(), finalise=True)
    # The institution's staff see the final inspection and report; they cannot verify.
    assert Evaluation.objects.restrict(cast["psychologist_a"]).filter(pk=evaluation.pk).exists()
    with pytest.raises(ValidationError):
        oversight.transition_finding(cast["psychologist_a"], finding, "report", note="")  # a report says what
    finding = oversight.transition_finding(cast["psychologist_a"], finding, "report", note="已加装隔音门")
    assert finding.status == "reported" and finding.rectification == "已加装隔音门"
    with pytest.raises(PermissionDenied):
        oversight.transition_finding(cast["psychologist_a"], finding, "verify")
    with pytest.raises(PermissionDenied):  # nobody else reports for the institution
        oversight.transition_finding(cast["mhc_staff_a"], finding, "report", note="代为上报")
    finding = oversight.transition_finding(cast["mhc_staff_a"], finding, "reopen", note="复查仍可听到谈话")
    assert finding.status == "open"
    oversight.transition_finding(cast["psychologist_a"], finding, "report", note="更换为隔音墙")
    finding = oversight.transition_finding(cast["mhc_staff_a"], finding, "verify", note="复查合格")
    assert finding.status == "closed" and finding.closed_by == cast["mhc_staff_a"]


def test_institution_staff_do_not_see_draft_evaluations(cast: dict[str, Any], room: Institution) -> None:
    evaluation = oversight.start_evaluation(cast["mhc_staff_a"], room, kind="evaluation", visited_on=date(2026, 1, 8))
    assert not Evaluation.objects.restrict(cast["psychologist_a"]).filter(pk=evaluation.pk).exists()


def test_sanction_proposed_then_imposed_by_another_then_lifted(cast: dict[str, Any], room: Institution) -> None:
    here = (room.points.get().latitude, room.points.get().longitude)
    listed = finder.search(finder.Query(latitude=here[0], longitude=here[1]))
    assert [p.institution_id for p in listed] == [room.pk]
    with pytest.raises(ValidationError) as exc:
        oversight.propose_sanction(cast["mhc_staff_a"], oversight.SanctionInput(
            kind="suspension", grounds="多次投诉属实且拒不整改", institution_id=room.pk))
    assert "ends_on" in exc.value.message_dict
    sanction = oversight.propose_sanction(cast["mhc_staff_a"], oversight.SanctionInput(
        kind="suspension", grounds="多次投诉属实且拒不整改", institution_id=room.pk, ends_on=date(2026, 12, 31)))
    with pytest.raises(PermissionDenied):  # the county centre proposes, it does not decide
        oversight.transition_sanction(cast["mhc_staff_a"], sanction, "impose")
    sanction = oversight.transition_sanction(cast["regulator"], sanction, "impose")
    room.refresh_from_db()
    assert sanction.status == "in_force" and room.status == "suspended" and room.version == 2
    assert room.versions.order_by("-number").first().sanction == sanction  # type: ignore[union-attr]
    assert finder.search(finder.Query(latitude=here[0], longitude=here[1])) == []
    oversight.transition_sanction(cast["regulator_province"], sanction, "lift", note="整改完成")
    room.refresh_from_db()
    assert room.status == "active" and room.version == 3
    assert len(finder.search(finder.Query(latitude=here[0], longitude=here[1]))) == 1


def test_the_proposer_does_not_decide(cast: dict[str, Any], room: Institution) -> None:
    sanction = oversight.propose_sanction(cast["regulator"], oversight.SanctionInput(
        kind="warning", grounds="未按期报送服务记录", institution_id=room.pk))
    with pytest.raises(ValidationError):
        oversight.transition_sanction(cast["regulator"], sanction, "impose")
    with pytest.raises(ValidationError):  # a refusal gives a reason
        oversight.transition_sanction(cast["regulator_province"], sanction, "reject")
    sanction = oversight.transition_sanction(cast["regulator_province"], sanction, "reject", note="证据不足")
    assert sanction.status == "rejected"
    room.refresh_from_db()
    assert room.status == "active"


def test_removal_of_a_practitioner_shows_in_the_public_look_up(cast: dict[str, Any], room: Institution) -> None:
    practitioner = make_practitioner(room, name="孙某", profession="counsellor",
                                     credential=("counsellor_skill_level", "CS-001"), issue_date=date(2022, 1, 1))
    sanction = oversight.propose_sanction(cast["mhc_staff_a"], oversight.SanctionInput(
        kind="removal", grounds="冒用他人资格证书执业", practitioner_id=practitioner.pk))
    oversight.transition_sanction(cast["regulator"], sanction, "impose")
    practitioner.refresh_from_db()
    assert practitioner.status == "removed"
    answer = lookup.lookup("孙某", "CS-001")
    assert answer["sanctions"][0]["kind"] == "removal" and answer["sanctions"][0]["status"] == "in_force"
    with pytest.raises(ValidationError):  # only a suspension is lifted
        oversight.transition_sanction(cast["regulator_province"], sanction, "lift", note="x y")


def test_sanctions_outside_the_region_are_refused(cast: dict[str, Any]) -> None:
    elsewhere = make_institution(None, name="白云测试机构", region_code=BAIYUN)
    with pytest.raises(PermissionDenied):
        oversight.propose_sanction(cast["mhc_staff_a"], oversight.SanctionInput(
            kind="warning", grounds="越权测试越权测试", institution_id=elsewhere.pk))
    assert not Practitioner.objects.exists()
    assert not AuditEvent.objects.filter(object_type="registry.sanction").exists()
