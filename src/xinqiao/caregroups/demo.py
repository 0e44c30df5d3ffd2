"""Demo management groups: in each demo township a 综合管理小组 and a 关爱帮扶小组 with their members,
one meeting, and a joint visit to a patient at danger level ≥3 when the register has one.

Called by ``xinqiao demo`` (``core.demo.build_demo``); created once (a re-run keeps them). Members are
the demo accounts of the township (and county) plus named outsiders; the outsiders' names and phone
numbers are fictitious. Goes through the services, so everything is audited as in real use.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.utils import timezone

from xinqiao.caregroups import services
from xinqiao.caregroups.models import GroupKind, ManagementGroup, VisitOutcome
from xinqiao.core.models import User
from xinqiao.patients.models import Patient

SEATS_COMPREHENSIVE = (("zongzhi", "zongzhi"), ("health", "community_doctor"), ("police", "police"),
                       ("civil_affairs", "civil_affairs"), ("disabled_federation", "disabled_federation"))
OUTSIDERS_COMPREHENSIVE = (("justice", "司法所"), ("ageing", "老龄办"))
SEATS_CARE = (("grid_worker", "grid_worker"), ("prevention_doctor", "community_doctor"),
              ("station_police", "police"))
OUTSIDERS_CARE = (("village_cadre", "社区居委会"), ("family", ""))
SURNAMES = "王李张刘陈杨黄赵吴周"
GIVEN = "伟芳娜敏静丽强磊军洋"


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)


def _phone(rng: random.Random) -> str:
    return f"13{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}"


def extend_demo(rng: random.Random, result: Any) -> None:
    """Two groups per demo township, with members, a meeting and (if possible) a joint visit."""
    today = timezone.localdate()
    for suffix, town in zip("ab", result.townships, strict=False):
        lead = User.objects.filter(username=f"zongzhi_{suffix}").first()
        doctor = User.objects.filter(username=f"community_doctor_{suffix}").first()
        if lead is None or doctor is None or ManagementGroup.objects.filter(region=town).exists():
            continue
        groups = {}
        for kind, name, seats, outsiders in (
            (GroupKind.COMPREHENSIVE, f"{town.name}严重精神障碍患者综合管理小组", SEATS_COMPREHENSIVE,
             OUTSIDERS_COMPREHENSIVE),
            (GroupKind.CARE, f"{town.name}第一社区关爱帮扶小组", SEATS_CARE, OUTSIDERS_CARE),
        ):
            group = services.create_group(lead, services.GroupInput(
                region_code=town.code, kind=kind, name=name, established_on=today - timedelta(days=400)))
            for seat, role in seats:
                user = User.objects.filter(username=f"{role}_{suffix}").first()
                if user is not None:
                    services.add_member(lead, group, services.MemberInput(role=seat, user_id=user.pk))
            for seat, unit in outsiders:
                services.add_member(lead, group, services.MemberInput(
                    role=seat, outsider_name=_name(rng), outsider_phone=_phone(rng), unit=unit))
            groups[kind] = group
        _meeting_and_visit(rng, doctor, groups, town.code, today)
    if result.townships:
        result.notes.append("Demo management groups in each township (zongzhi_a leads; police_a, grid_worker_a, "
                            "civil_affairs_a see the group's patients at danger ≥3 only).")


def _meeting_and_visit(rng: random.Random, doctor: User, groups: dict[Any, ManagementGroup], town: str,
                       today: Any) -> None:
    comprehensive, care = groups[GroupKind.COMPREHENSIVE], groups[GroupKind.CARE]
    risky = list(Patient.objects.filter(township_code=town, danger_level__gte=3).order_by("-danger_level", "pk")[:3])
    numbers = "、".join(p.register_number for p in risky) or "无"
    members = list(comprehensive.members.values_list("pk", flat=True))
    services.record_meeting(doctor, comprehensive, services.MeetingInput(
        held_on=today - timedelta(days=rng.randint(5, 20)), place="街道综治中心会议室",
        topics=f"一、通报本季度在册患者管理情况；二、研判危险性评估3级以上患者（登记号：{numbers}）的管控措施。",
        decisions="对上述患者落实“以奖代补”监护责任，由派出所民警与精防医生每月联合走访一次。",
        attendee_ids=tuple(members),
    ))
    if risky:
        participants = tuple(care.members.values_list("pk", flat=True)[:3])
        services.record_visit(doctor, care, services.VisitInput(
            patient_id=risky[0].pk, visited_on=today - timedelta(days=rng.randint(1, 10)),
            outcome=VisitOutcome.STABLE, participant_ids=participants, note="患者在家，按时服药，家属监护到位。"))
