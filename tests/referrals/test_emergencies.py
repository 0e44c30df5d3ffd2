"""Emergency handling records (应急处置记录单): every form field, the 24-hour limit, police informed
from the threshold (DOMAIN.md §5), the county centre's board, and what each role sees."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from tests.helpers import verified_client
from tests.referrals.factories import PatientFactory, emergency
from xinqiao.core.models import AuditAction, AuditEvent, Notification, Person
from xinqiao.followups import rules as followup_rules
from xinqiao.referrals import services
from xinqiao.referrals.codes import EmergencyStatus, SubjectCategory
from xinqiao.referrals.models import EmergencyRecord

pytestmark = pytest.mark.django_db

#: The fields of the national form (DOMAIN.md §4) and where the model keeps them.
FORM_FIELDS = {
    "报告人身份": "reporter_role", "处置缘由": "reason", "主要处置措施": "measures", "公安人员": "police_officers",
    "精防医生": "prevention_doctors", "精神科医师": "psychiatrists", "诊断": "diagnosis", "处置效果": "effect",
    "处置对象类别": "subject_category",
}


def test_every_field_of_the_national_form_is_kept(cast: dict[str, Any], towns: list[Any], net: dict[str, Any],
                                                  patient_a: Any) -> None:
    record = emergency(cast["community_doctor_a"], towns[0], patient=patient_a, police_officers="张警官（派出所）",
                       prevention_doctors="李医生", psychiatrists="王医师", measures=[1, 5])
    stored = EmergencyRecord.objects.get(pk=record.pk)
    for field in FORM_FIELDS.values():
        assert getattr(stored, field) not in ("", None, []), field
    assert stored.measures == [1, 5] and stored.person == patient_a.person
    assert stored.township_code == towns[0].code and stored.county_code == towns[0].county_code


def test_danger_3_informs_the_township_police(cast: dict[str, Any], towns: list[Any], net: dict[str, Any],
                                             patient_a: Any, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        record = emergency(cast["community_doctor_a"], towns[0], patient=patient_a, danger_level=3)
    assert record.police_notified_at is not None
    police = Notification.objects.get(kind="emergency_police")
    assert police.recipient_organisation == net["police_a"]
    assert patient_a.register_number in police.title and patient_a.person.name not in police.title
    # The county centre is told as well (the board), the recording clinic is not told about itself.
    recorded = Notification.objects.filter(kind="emergency_recorded").values_list("recipient_organisation", flat=True)
    assert list(recorded) == [net["centre_a"].pk]
    event = AuditEvent.objects.get(action=AuditAction.CREATE, object_type="referrals.emergencyrecord")
    assert event.detail["police_notified"] == 1 and event.detail["threshold"] == 3


def test_below_the_threshold_police_are_not_informed(cast: dict[str, Any], towns: list[Any], net: dict[str, Any],
                                                     patient_a: Any, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        record = emergency(cast["community_doctor_a"], towns[0], patient=patient_a, danger_level=2)
    assert record.police_notified_at is None
    assert not Notification.objects.filter(kind="emergency_police").exists()


def test_the_threshold_is_the_follow_up_rules_one(cast: dict[str, Any], towns: list[Any], net: dict[str, Any],
                                                  patient_a: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    assert services.police_threshold() == followup_rules.config().notify_police_min_danger == 3
    stricter = dataclasses.replace(followup_rules.config(), notify_police_min_danger=4)
    monkeypatch.setattr(followup_rules, "config", lambda: stricter)
    assert services.police_threshold() == 4
    assert emergency(cast["community_doctor_a"], towns[0], patient=patient_a, danger_level=3).police_notified_at is None
    assert emergency(cast["community_doctor_a"], towns[0], patient=patient_a, danger_level=4).police_notified_at


def test_police_accounts_outside_a_station_are_told_directly(
        cast: dict[str, Any], towns: list[Any], net: dict[str, Any], patient_a: Any,
        django_capture_on_commit_callbacks: Any) -> None:
    officer = cast["police_a"]
    officer.organisation = None
    officer.save(update_fields=["organisation"])
    with django_capture_on_commit_callbacks(execute=True):
        emergency(cast["community_doctor_a"], towns[0], patient=patient_a, danger_level=5)
    told = Notification.objects.filter(kind="emergency_police")
    assert {(n.recipient_id, n.recipient_organisation_id) for n in told} == {
        (None, net["police_a"].pk), (officer.pk, None)}
    assert Notification.objects.for_user(officer).filter(kind="emergency_police").count() == 1


def test_a_record_past_24_hours_is_marked_late(cast: dict[str, Any], towns: list[Any], net: dict[str, Any],
                                               patient_a: Any) -> None:
    now = timezone.now()
    late = emergency(cast["community_doctor_a"], towns[0], patient=patient_a, occurred_at=now - timedelta(hours=25))
    in_time = emergency(cast["community_doctor_a"], towns[0], patient=patient_a, occurred_at=now - timedelta(hours=23))
    assert late.recorded_late and not in_time.recorded_late
    assert late.record_due == late.occurred_at + timedelta(hours=24)


def test_errors_name_the_field(cast: dict[str, Any], towns: list[Any], net: dict[str, Any], patient_a: Any,
                               patient_b: Any) -> None:
    doctor = cast["community_doctor_a"]
    cases = [
        ({"occurred_at": timezone.now() + timedelta(hours=2)}, "occurred_at"),
        ({"patient": patient_b}, "patient"),  # not in the doctor's scope
        ({"patient": None, "subject_category": SubjectCategory.REGISTERED}, "patient"),
        ({"measures": []}, "measures"),
        ({"measures": [99]}, "measures"),
        ({"diagnosis": "X99"}, "diagnosis"),
    ]
    for kwargs, field in cases:
        values = {"patient": patient_a, **kwargs}
        with pytest.raises(ValidationError) as exc:
            emergency(doctor, towns[0], **values)
        assert field in exc.value.message_dict, (kwargs, exc.value.message_dict)
    with pytest.raises(ValidationError) as exc:
        emergency(doctor, towns[1], patient=patient_a)  # township B is outside the doctor's region
    assert "region_code" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        emergency(cast["police_a"], towns[0], patient=patient_a)
    assert not EmergencyRecord.objects.exists()


def test_an_unregistered_person_is_recorded_as_a_person(cast: dict[str, Any], towns: list[Any],
                                                       net: dict[str, Any]) -> None:
    record = emergency(cast["community_doctor_a"], towns[0], subject_category=SubjectCategory.SUSPECTED,
                       subject=services.UnregisteredSubject(name="路某某"))
    assert record.patient is None and record.person is not None
    assert Person.objects.get(pk=record.person_id).name == "路某某"
    assert AuditEvent.objects.filter(action=AuditAction.CREATE, object_type="core.person").exists()
    with pytest.raises(ValidationError) as exc:
        emergency(cast["community_doctor_a"], towns[0], subject_category=SubjectCategory.SUSPECTED,
                  subject=services.UnregisteredSubject(name=""))
    assert "subject.name" in exc.value.message_dict


def test_close_takes_it_off_the_board(cast: dict[str, Any], towns: list[Any], net: dict[str, Any],
                                      patient_a: Any) -> None:
    record = emergency(cast["community_doctor_a"], towns[0], patient=patient_a)
    with pytest.raises(PermissionDenied):
        services.close_emergency(cast["psychiatrist_a"], record)
    services.close_emergency(cast["mhc_staff_a"], record)
    assert EmergencyRecord.objects.get(pk=record.pk).status == EmergencyStatus.CLOSED
    services.close_emergency(cast["community_doctor_a"], record)  # already closed: nothing changes
    closes = AuditEvent.objects.filter(action=AuditAction.CHANGE, object_type="referrals.emergencyrecord")
    assert [e.actor_username for e in closes] == ["mhc_staff_a"]


# --- The board and what each role sees ---------------------------------------------------------------------


def test_county_board_lists_open_emergencies_of_the_county_late_ones_highlighted(
        cast: dict[str, Any], towns: list[Any], net: dict[str, Any], patient_a: Any) -> None:
    now = timezone.now()
    late = emergency(cast["community_doctor_a"], towns[0], patient=patient_a, occurred_at=now - timedelta(hours=30))
    ok = emergency(cast["community_doctor_a"], towns[0], patient=patient_a)
    closed = emergency(cast["community_doctor_a"], towns[0], patient=patient_a)
    services.close_emergency(cast["mhc_staff_a"], closed)
    other_county = emergency(cast["community_doctor_b"], towns[1], patient=PatientFactory(region=towns[1]))
    client = verified_client(cast["mhc_staff_a"])
    html = client.get(reverse("referrals:emergency_list")).content.decode()
    for shown in (late, ok):
        assert reverse("referrals:emergency_detail", args=[shown.pk]) in html
    for hidden in (closed, other_county):
        assert reverse("referrals:emergency_detail", args=[hidden.pk]) not in html
    assert html.count("late-record") == 1 and 'id="late-count"' in html
    html = client.get(reverse("referrals:emergency_list") + "?status=all").content.decode()
    assert reverse("referrals:emergency_detail", args=[closed.pk]) in html
    listed = AuditEvent.objects.filter(action=AuditAction.LIST, object_type="referrals.emergencyrecord").first()
    assert listed is not None and set(listed.detail["ids"]) >= {str(late.pk), str(ok.pk)}
    # The city regulator's board spans both counties.
    html = verified_client(cast["regulator"]).get(reverse("referrals:emergency_list")).content.decode()
    assert reverse("referrals:emergency_detail", args=[other_county.pk]) in html


def test_police_see_emergencies_from_the_threshold_and_never_the_diagnosis(
        cast: dict[str, Any], towns: list[Any], net: dict[str, Any], patient_a: Any) -> None:
    high = emergency(cast["community_doctor_a"], towns[0], patient=patient_a, danger_level=4)
    low = emergency(cast["community_doctor_a"], towns[0], patient=patient_a, danger_level=1)
    police = verified_client(cast["police_a"])
    response = police.get(reverse("referrals:emergency_detail", args=[high.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="f-danger"' in html and 'id="f-diagnosis"' not in html
    assert "精神分裂症" not in html and "schizophrenia" not in html.lower() and "砸毁物品" not in html
    assert police.get(reverse("referrals:emergency_detail", args=[low.pk])).status_code == 404
    body = police.get(reverse("api-1:emergency_detail", args=[high.pk])).json()
    assert body["danger_level"] == 4 and body["diagnosis"] is None and body["measures"] is None
    assert body["narrative"] is None and body["place"] != "幸福路8号楼下"  # masked address
    doctor = verified_client(cast["community_doctor_a"]).get(reverse("api-1:emergency_detail", args=[high.pk])).json()
    assert doctor["diagnosis"] == "F20" and doctor["measures"] == [1]
    assert AuditEvent.objects.filter(action=AuditAction.VIEW, object_id=str(high.pk),
                                     object_type="referrals.emergencyrecord").count() == 3  # page, 2 API


def test_record_through_the_page_with_a_one_time_key(cast: dict[str, Any], towns: list[Any], net: dict[str, Any],
                                                     patient_a: Any) -> None:
    client = verified_client(cast["community_doctor_a"])
    url = reverse("referrals:emergency_create")
    page = client.get(url)
    assert page.status_code == 200 and "应急" in page.content.decode()
    data = {
        "form_key": "k-123", "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "region_code": towns[0].code, "subject_category": 1, "patient": patient_a.register_number,
        "danger_level": 3, "reporter_role": 2, "reason": 2, "measures": ["1", "5"], "effect": 1,
        "police_officers": "张警官", "diagnosis": "F20",
    }
    first = client.post(url, data)
    again = client.post(url, data)
    assert first.status_code == again.status_code == 302 and first["Location"] == again["Location"]
    assert EmergencyRecord.objects.count() == 1
    bad = client.post(url, {**data, "form_key": "k-124", "measures": []})
    assert bad.status_code == 400 and "主要处置措施" in bad.content.decode()


def test_export_is_masked_and_audited(cast: dict[str, Any], towns: list[Any], net: dict[str, Any],
                                      patient_a: Any) -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    emergency(cast["community_doctor_a"], towns[0], patient=patient_a)
    response = verified_client(cast["mhc_staff_a"]).get(reverse("referrals:emergency_export"))
    assert response.status_code == 200
    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))
    assert len(rows) == 2 and patient_a.register_number in rows[1]
    assert "幸福路8号楼下" not in [str(v) for v in rows[1]]  # the place is an address: masked
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT, object_type="referrals.emergencyrecord").exists()
    assert verified_client(cast["psychiatrist_a"]).get(reverse("referrals:emergency_export")).status_code == 403
