"""The demo extensions of referrals and management groups: harmless without patients, a story in every
state with them, and created once (a re-run adds nothing)."""

from __future__ import annotations

import random
from typing import Any

import pytest
from django.utils import timezone

from tests.patients.factories import PatientFactory
from xinqiao.caregroups import demo as caregroups_demo
from xinqiao.caregroups.models import GroupMember, JointVisit, ManagementGroup, Meeting
from xinqiao.core.demo import DemoResult, build_accounts, build_organisations, demo_townships
from xinqiao.core.models import Notification
from xinqiao.core.roles import sync_roles
from xinqiao.referrals import demo as referrals_demo
from xinqiao.referrals.models import EmergencyRecord, Referral

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo() -> DemoResult:
    """The demo's organisations and accounts, without any other app's extension."""
    rng = random.Random(2026)
    sync_roles()
    towns = demo_townships()
    orgs = build_organisations(rng, towns)
    return DemoResult(accounts=build_accounts(rng, towns, orgs), townships=towns, orgs=orgs)


def run(demo: DemoResult) -> None:
    referrals_demo.extend_demo(random.Random(1), demo)
    caregroups_demo.extend_demo(random.Random(1), demo)


def test_without_patients_only_the_groups_are_made(demo: DemoResult) -> None:
    run(demo)
    assert not Referral.objects.exists() and not EmergencyRecord.objects.exists()
    assert ManagementGroup.objects.count() == 4  # a 综合管理小组 and a 关爱帮扶小组 in each township
    assert Meeting.objects.count() == 2 and not JointVisit.objects.exists()


def test_with_patients_every_state_and_created_once(demo: DemoResult, django_capture_on_commit_callbacks: Any) -> None:
    town_a, town_b = demo.townships
    for level in (0, 0, 1, 3, 0, 4):
        PatientFactory(region=town_a, danger_level=level)
    PatientFactory(region=town_b, danger_level=3)
    with django_capture_on_commit_callbacks(execute=True):
        run(demo)
    states = set(Referral.objects.values_list("state", flat=True))
    assert states == {"sent", "received", "completed", "declined"}
    assert Referral.objects.filter(state="sent", receive_due__lt=timezone.localdate()).exists()
    assert Notification.objects.filter(kind="referral_overdue").exists()
    assert EmergencyRecord.objects.filter(recorded_late=True, police_notified_at__isnull=False).exists()
    assert EmergencyRecord.objects.filter(status="closed").count() == 1
    assert EmergencyRecord.objects.filter(patient__isnull=True, person__isnull=False).count() == 1
    assert JointVisit.objects.filter(patient__danger_level__gte=3).count() == 2
    assert GroupMember.objects.filter(user__username="police_a").count() == 2
    counts = (Referral.objects.count(), EmergencyRecord.objects.count(), ManagementGroup.objects.count(),
              GroupMember.objects.count(), Meeting.objects.count(), JointVisit.objects.count())
    run(demo)
    assert counts == (Referral.objects.count(), EmergencyRecord.objects.count(), ManagementGroup.objects.count(),
                      GroupMember.objects.count(), Meeting.objects.count(), JointVisit.objects.count())
