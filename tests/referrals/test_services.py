"""Two-way referral services: sending, the receiving organisation's steps, history, deadlines,
notifications, reminders, and who reaches a referral (region or sending/receiving organisation)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from tests.referrals.factories import PatientFactory, referral
from xinqiao.core.audit import verify_chain
from xinqiao.core.models import AuditAction, AuditEvent, Notification
from xinqiao.referrals import services, tasks
from xinqiao.referrals.codes import ReferralState
from xinqiao.referrals.models import Referral, ReferralEvent

pytestmark = pytest.mark.django_db


def test_send_up_records_history_deadline_audit_and_notifies_the_receiver(
        cast: dict[str, Any], net: dict[str, Any], patient_a: Any, django_capture_on_commit_callbacks: Any) -> None:
    doctor = cast["community_doctor_a"]
    with django_capture_on_commit_callbacks(execute=True):
        r = referral(doctor, patient_a, net["hospital_a"], urgency="urgent")
    assert r.state == ReferralState.SENT and r.township_code == patient_a.township_code
    assert r.from_organisation == net["clinic_a"] and r.sent_by == doctor
    assert r.receive_due == services._add_days(timezone.localdate(), 3)
    assert list(r.events.values_list("action", "to_state")) == [("send", "sent")]
    event = AuditEvent.objects.get(action=AuditAction.CREATE, object_type="referrals.referral")
    assert event.object_id == str(r.pk) and event.detail["fields"] == ["reason"]
    notice = Notification.objects.get(kind="referral_sent")
    assert notice.recipient_organisation == net["hospital_a"]
    assert patient_a.register_number in notice.title
    assert patient_a.person.name not in notice.title + notice.body
    assert verify_chain().ok


def test_reason_is_encrypted_at_rest(cast: dict[str, Any], net: dict[str, Any], patient_a: Any) -> None:
    r = referral(cast["community_doctor_a"], patient_a, net["hospital_a"], reason="幻听加重，拒绝服药")
    with connection.cursor() as cursor:
        cursor.execute("SELECT reason FROM referrals_referral WHERE id = %s", [r.pk])
        raw = cursor.fetchone()[0]
    assert raw.startswith("v1.") and "幻听" not in raw
    assert Referral.objects.get(pk=r.pk).reason == "幻听加重，拒绝服药"


def test_send_refusals_name_the_field(cast: dict[str, Any], net: dict[str, Any], patient_a: Any,
                                      patient_b: Any) -> None:
    doctor = cast["community_doctor_a"]
    with pytest.raises(PermissionDenied):
        referral(cast["police_a"], patient_a, net["hospital_a"])
    with pytest.raises(ValidationError) as exc:
        referral(doctor, patient_b, net["hospital_a"])  # a patient of township B: not in the doctor's scope
    assert set(exc.value.message_dict) == {"patient"}
    with pytest.raises(ValidationError) as exc:
        referral(doctor, patient_a, net["clinic_b"])  # up must go to an institution
    assert set(exc.value.message_dict) == {"to_organisation"}
    with pytest.raises(ValidationError) as exc:
        referral(doctor, patient_a, net["hospital_a"], reason="")
    assert set(exc.value.message_dict) == {"reason"}
    with pytest.raises(ValidationError) as exc:
        referral(doctor, patient_a, net["hospital_a"], direction="down")  # a clinic does not send down
    assert {"from_organisation", "to_organisation", "discharge_summary"} <= set(exc.value.message_dict)
    assert not Referral.objects.exists()


def test_send_down_with_a_discharge_summary(cast: dict[str, Any], net: dict[str, Any], patient_a: Any) -> None:
    r = referral(cast["psychiatrist_a"], patient_a, net["clinic_a"], direction="down", reason="",
                 discharge_summary="住院疗效：好转；用药指导：利培酮 2mg bid；康复措施：社区康复")
    assert r.direction == "down" and r.from_organisation == net["hospital_a"]


def test_receive_then_complete_notifies_the_sender_each_time(
        cast: dict[str, Any], net: dict[str, Any], patient_a: Any, django_capture_on_commit_callbacks: Any) -> None:
    r = referral(cast["community_doctor_a"], patient_a, net["hospital_a"])
    psychiatrist = cast["psychiatrist_a"]
    with django_capture_on_commit_callbacks(execute=True):
        services.act_on_referral(psychiatrist, r, "receive")
    r.refresh_from_db()
    assert r.state == "received" and r.received_at is not None
    assert r.complete_due == services._add_days(timezone.localdate(), 10)
    with django_capture_on_commit_callbacks(execute=True):
        services.act_on_referral(psychiatrist, r, "complete", "已住院治疗，病情好转")
    r.refresh_from_db()
    assert r.state == "completed" and r.outcome_note == "已住院治疗，病情好转"
    assert list(ReferralEvent.objects.filter(referral=r).values_list("action", "from_state", "to_state")) == [
        ("send", "", "sent"), ("receive", "sent", "received"), ("complete", "received", "completed")]
    to_sender = Notification.objects.filter(recipient_organisation=net["clinic_a"]).values_list("kind", flat=True)
    assert sorted(to_sender) == ["referral_completed", "referral_received"]
    changes = AuditEvent.objects.filter(action=AuditAction.CHANGE, object_type="referrals.referral")
    assert [e.detail["action"] for e in changes.order_by("id")] == ["receive", "complete"]


def test_decline_needs_a_reason_and_is_final(cast: dict[str, Any], net: dict[str, Any], patient_a: Any) -> None:
    r = referral(cast["community_doctor_a"], patient_a, net["hospital_a"])
    psychiatrist = cast["psychiatrist_a"]
    with pytest.raises(ValidationError) as exc:
        services.act_on_referral(psychiatrist, r, "decline", "")
    assert set(exc.value.message_dict) == {"note"}
    services.act_on_referral(psychiatrist, r, "decline", "床位已满，请转市级医院")
    r.refresh_from_db()
    assert r.state == "declined" and r.decline_reason == "床位已满，请转市级医院"
    with pytest.raises(ValidationError) as exc:
        services.act_on_referral(psychiatrist, r, "receive")
    assert set(exc.value.message_dict) == {"action"}


def test_only_the_receiving_organisation_acts(cast: dict[str, Any], net: dict[str, Any], patient_a: Any) -> None:
    r = referral(cast["community_doctor_a"], patient_a, net["hospital_a"])
    for user in ("community_doctor_a", "mhc_staff_a", "regulator"):
        with pytest.raises(PermissionDenied):
            services.act_on_referral(cast[user], r, "receive")
    r.refresh_from_db()
    assert r.state == "sent"


def test_a_stale_copy_cannot_move_a_referral_twice(cast: dict[str, Any], net: dict[str, Any], patient_a: Any) -> None:
    r = referral(cast["community_doctor_a"], patient_a, net["hospital_a"])
    stale = Referral.objects.get(pk=r.pk)
    services.act_on_referral(cast["psychiatrist_a"], r, "receive")
    with pytest.raises(ValidationError):
        services.act_on_referral(cast["psychiatrist_a"], stale, "decline", "重复点击")
    assert Referral.objects.get(pk=r.pk).state == "received"
    assert ReferralEvent.objects.filter(referral=r).count() == 2


def test_the_receiving_hospital_in_another_county_reaches_the_referral(
        cast: dict[str, Any], net: dict[str, Any], patient_a: Any) -> None:
    """A referral of a township-A patient to the county-B hospital: its staff see it, others of county B not."""
    r = referral(cast["community_doctor_a"], patient_a, net["hospital_b"])
    assert Referral.objects.restrict(cast["psychiatrist_b"]).filter(pk=r.pk).exists()
    assert not Referral.objects.restrict(cast["mhc_staff_b"]).filter(pk=r.pk).exists()
    assert not Referral.objects.restrict(cast["community_doctor_b"]).filter(pk=r.pk).exists()
    assert Referral.objects.restrict(cast["mhc_staff_a"]).filter(pk=r.pk).exists()  # by region
    assert not Referral.objects.restrict(cast["police_a"]).exists()  # no permission
    services.act_on_referral(cast["psychiatrist_b"], r, "receive")


# --- Reminders -------------------------------------------------------------------------------------------


def _age(r: Referral, *, receive_due: date | None = None, complete_due: date | None = None,
         state: str | None = None) -> None:
    fields: dict[str, Any] = {}
    if receive_due:
        fields["receive_due"] = receive_due
    if complete_due:
        fields["complete_due"] = complete_due
    if state:
        fields["state"] = state
    Referral.objects.filter(pk=r.pk).update(**fields)


def test_reminders_once_per_missed_deadline_to_both_organisations(
        cast: dict[str, Any], net: dict[str, Any], patient_a: Any) -> None:
    today = timezone.localdate()
    doctor = cast["community_doctor_a"]
    late_receipt = referral(doctor, patient_a, net["hospital_a"])
    _age(late_receipt, receive_due=today - timedelta(days=2))
    late_completion = referral(doctor, PatientFactory(region=patient_a.region), net["hospital_a"])
    _age(late_completion, state="received", complete_due=today - timedelta(days=1))
    in_time = referral(doctor, PatientFactory(region=patient_a.region), net["hospital_a"])
    done = referral(doctor, PatientFactory(region=patient_a.region), net["hospital_a"])
    _age(done, state="completed", receive_due=today - timedelta(days=30))
    assert services.send_referral_reminders(today) == 4
    reminders = Notification.objects.filter(kind="referral_overdue")
    assert reminders.count() == 4
    assert {(n.subject_id, n.recipient_organisation_id) for n in reminders} == {
        (str(late_receipt.pk), net["hospital_a"].pk), (str(late_receipt.pk), net["clinic_a"].pk),
        (str(late_completion.pk), net["hospital_a"].pk), (str(late_completion.pk), net["clinic_a"].pk)}
    assert str(in_time.pk) not in {n.subject_id for n in reminders}
    # A second run the same day (or the next) adds nothing.
    services.send_referral_reminders(today)
    services.send_referral_reminders(today + timedelta(days=1))
    assert Notification.objects.filter(kind="referral_overdue").count() == 4


def test_reminders_are_one_query_and_one_insert(cast: dict[str, Any], net: dict[str, Any], patient_a: Any,
                                                django_assert_num_queries: Any) -> None:
    today = timezone.localdate()
    for _ in range(5):
        r = referral(cast["community_doctor_a"], PatientFactory(region=patient_a.region), net["hospital_a"])
        _age(r, receive_due=today - timedelta(days=3))
    with django_assert_num_queries(2):  # the overdue referrals; one bulk INSERT of the notices
        services.send_referral_reminders(today)
    assert Notification.objects.filter(kind="referral_overdue").count() == 10


def test_command_and_task(cast: dict[str, Any], net: dict[str, Any], patient_a: Any) -> None:
    today = timezone.localdate()
    r = referral(cast["community_doctor_a"], patient_a, net["hospital_a"])
    _age(r, receive_due=today - timedelta(days=1))
    out = StringIO()
    call_command("referral_reminders", "--date", today.isoformat(), stdout=out)
    assert json.loads(out.getvalue()) == {"date": today.isoformat(), "overdue": 1, "offered": 2, "created": 2}
    out = StringIO()
    call_command("referral_reminders", "--date", today.isoformat(), stdout=out)
    assert json.loads(out.getvalue())["created"] == 0
    assert tasks.send_referral_reminders.delay().get() == 2  # eager: offered again, stored nothing new
    assert Notification.objects.filter(kind="referral_overdue").count() == 2
