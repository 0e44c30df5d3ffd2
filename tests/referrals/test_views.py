"""Referral pages and API: incoming and outgoing lists with overdue flags, sending with a one-time key,
the receiver's steps, 404 outside scope, masks, field-named errors in both languages, export."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tests.helpers import fields_of, verified_client
from tests.referrals.factories import PatientFactory, referral
from xinqiao.core.models import AuditAction, AuditEvent
from xinqiao.referrals.models import Referral

pytestmark = pytest.mark.django_db


def test_incoming_and_outgoing_with_overdue_flags(cast: dict[str, Any], net: dict[str, Any], patient_a: Any) -> None:
    r = referral(cast["community_doctor_a"], patient_a, net["hospital_a"])
    Referral.objects.filter(pk=r.pk).update(receive_due=timezone.localdate() - timedelta(days=2))
    detail = reverse("referrals:referral_detail", args=[r.pk])
    hospital = verified_client(cast["psychiatrist_a"])
    html = hospital.get(reverse("referrals:referral_list")).content.decode()  # incoming by default
    assert detail in html and "overdue-flag" in html and patient_a.register_number in html
    assert patient_a.person.name not in html  # masked
    assert detail not in hospital.get(reverse("referrals:referral_list") + "?box=outgoing").content.decode()
    clinic = verified_client(cast["community_doctor_a"])
    assert detail in clinic.get(reverse("referrals:referral_list") + "?box=outgoing").content.decode()
    assert detail not in clinic.get(reverse("referrals:referral_list") + "?box=incoming").content.decode()
    fresh = referral(cast["community_doctor_a"], PatientFactory(region=patient_a.region), net["hospital_a"])
    overdue_only = hospital.get(reverse("referrals:referral_list") + "?overdue=1").content.decode()
    assert detail in overdue_only and reverse("referrals:referral_detail", args=[fresh.pk]) not in overdue_only
    assert AuditEvent.objects.filter(action=AuditAction.LIST, object_type="referrals.referral").exists()


def test_list_query_count_does_not_grow_with_rows(cast: dict[str, Any], net: dict[str, Any], patient_a: Any) -> None:
    client = verified_client(cast["psychiatrist_a"])
    url = reverse("referrals:referral_list")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    for _ in range(2):
        referral(cast["community_doctor_a"], PatientFactory(region=patient_a.region), net["hospital_a"])
    few = count()
    for _ in range(6):
        referral(cast["community_doctor_a"], PatientFactory(region=patient_a.region), net["hospital_a"])
    assert count() == few


def test_send_through_the_page_once_per_key(cast: dict[str, Any], net: dict[str, Any], patient_a: Any) -> None:
    client = verified_client(cast["community_doctor_a"])
    url = reverse("referrals:referral_create")
    page = client.get(url + f"?patient={patient_a.pk}").content.decode()
    assert patient_a.register_number in page and 'name="form_key"' in page
    data = {"form_key": "send-1", "patient": patient_a.register_number, "direction": "up",
            "to_organisation": net["hospital_a"].pk, "urgency": "urgent", "reason": "拒绝服药，夜间吵闹"}
    first, again = client.post(url, data), client.post(url, data)
    assert first.status_code == again.status_code == 302 and first["Location"] == again["Location"]
    assert Referral.objects.count() == 1
    bad = client.post(url, {**data, "form_key": "send-2", "reason": ""})
    assert bad.status_code == 400 and 'id="id_reason-error"' in bad.content.decode()
    unknown = client.post(url, {**data, "form_key": "send-3", "patient": "NOPE"})
    assert unknown.status_code == 400 and 'id="id_patient-error"' in unknown.content.decode()


def test_detail_steps_for_the_receiver_only_and_404_outside(cast: dict[str, Any], net: dict[str, Any],
                                                           patient_a: Any) -> None:
    r = referral(cast["community_doctor_a"], patient_a, net["hospital_a"], reason="幻听加重")
    url = reverse("referrals:referral_detail", args=[r.pk])
    receiver = verified_client(cast["psychiatrist_a"])
    html = receiver.get(url).content.decode()
    assert 'id="referral-act"' in html and "幻听加重" in html
    sender_html = verified_client(cast["community_doctor_a"]).get(url).content.decode()
    assert 'id="referral-act"' not in sender_html
    for outsider in ("community_doctor_b", "psychiatrist_b", "mhc_staff_b", "police_a"):
        assert verified_client(cast[outsider]).get(url).status_code == 404, outsider
    act = reverse("referrals:referral_act", args=[r.pk])
    assert verified_client(cast["community_doctor_a"]).post(act, {"action": "receive"}).status_code == 403
    assert receiver.post(act, {"action": "complete"}).status_code == 400  # not yet received
    assert receiver.post(act, {"action": "receive"}).status_code == 302
    assert receiver.post(act, {"action": "decline"}).status_code == 400
    r.refresh_from_db()
    assert r.state == "received"
    assert AuditEvent.objects.filter(action=AuditAction.VIEW, object_type="referrals.referral",
                                     object_id=str(r.pk)).count() >= 2


def test_regulator_sees_reason_but_not_the_medication_guidance(cast: dict[str, Any], net: dict[str, Any],
                                                               patient_a: Any) -> None:
    r = referral(cast["psychiatrist_a"], patient_a, net["clinic_a"], direction="down", reason="出院转回社区",
                 discharge_summary="利培酮 2mg bid")
    body = verified_client(cast["regulator"]).get(reverse("api-1:referral_detail", args=[r.pk])).json()
    assert body["reason"] == "出院转回社区" and body["discharge_summary"] is None
    doctor = verified_client(cast["community_doctor_a"]).get(reverse("api-1:referral_detail", args=[r.pk])).json()
    assert doctor["discharge_summary"] == "利培酮 2mg bid" and doctor["allowed_actions"] == ["receive", "decline"]
    assert [h["action"] for h in doctor["history"]] == ["send"]


def test_api_send_is_idempotent_and_errors_name_the_field(cast: dict[str, Any], net: dict[str, Any],
                                                          patient_a: Any) -> None:
    client = verified_client(cast["community_doctor_a"])
    url = reverse("api-1:referral_create")
    body = {"patient_id": patient_a.pk, "direction": "up", "to_organisation_id": net["hospital_a"].pk,
            "reason": "不稳定"}
    first = client.post(url, body, content_type="application/json", headers={"Idempotency-Key": "r-1"})
    again = client.post(url, body, content_type="application/json", headers={"Idempotency-Key": "r-1"})
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    assert Referral.objects.count() == 1
    other = client.post(url, {**body, "urgency": "urgent"}, content_type="application/json",
                        headers={"Idempotency-Key": "r-1"})
    assert other.status_code == 422 and fields_of(other) == ["Idempotency-Key"]
    zh = client.post(url, {**body, "reason": ""}, content_type="application/json", headers={"Idempotency-Key": "r-2"})
    assert zh.status_code == 422 and fields_of(zh) == ["reason"]
    en = client.post(url, {**body, "reason": ""}, content_type="application/json",
                     headers={"Idempotency-Key": "r-3", "Accept-Language": "en"})
    assert en.json()["detail"][0]["message"] == "State the reason for the referral."
    assert zh.json()["detail"][0]["message"] != en.json()["detail"][0]["message"]
    bad = client.post(url, {**body, "direction": "sideways"}, content_type="application/json",
                      headers={"Idempotency-Key": "r-4"})
    assert bad.status_code == 422 and fields_of(bad) == ["direction"]


def test_api_lists_and_acts(cast: dict[str, Any], net: dict[str, Any], patient_a: Any, patient_b: Any) -> None:
    r = referral(cast["community_doctor_a"], patient_a, net["hospital_a"])
    other = referral(cast["community_doctor_b"], patient_b, net["hospital_b"])
    hospital = verified_client(cast["psychiatrist_a"])
    listed = hospital.get(reverse("api-1:referral_list") + "?box=incoming").json()
    assert [row["id"] for row in listed["results"]] == [r.pk]
    assert hospital.get(reverse("api-1:referral_detail", args=[other.pk])).status_code == 404
    act = reverse("api-1:referral_action", args=[r.pk])
    done = hospital.post(act, {"action": "receive"}, content_type="application/json", headers={"Idempotency-Key": "a-1"})
    assert done.status_code == 200 and done.json()["state"] == "received"
    replay = hospital.post(act, {"action": "receive"}, content_type="application/json",
                           headers={"Idempotency-Key": "a-1"})
    assert replay.status_code == 200 and replay.json()["state"] == "received"
    refused = hospital.post(act, {"action": "receive"}, content_type="application/json",
                            headers={"Idempotency-Key": "a-2"})
    assert refused.status_code == 422 and fields_of(refused) == ["action"]
    sender = verified_client(cast["community_doctor_a"]).post(
        act, {"action": "complete"}, content_type="application/json", headers={"Idempotency-Key": "a-3"})
    assert sender.status_code == 403


def test_export_is_scoped_masked_and_audited(cast: dict[str, Any], net: dict[str, Any], patient_a: Any,
                                             patient_b: Any) -> None:
    referral(cast["community_doctor_a"], patient_a, net["hospital_a"], reason="幻听加重")
    referral(cast["community_doctor_b"], patient_b, net["hospital_b"])
    response = verified_client(cast["community_doctor_a"]).get(reverse("referrals:referral_export"))
    assert response.status_code == 200
    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][1] == patient_a.register_number and "幻听加重" in rows[1]
    assert AuditEvent.objects.get(action=AuditAction.EXPORT, object_type="referrals.referral").detail["count"] == 1
    assert verified_client(cast["psychiatrist_a"]).get(reverse("referrals:referral_export")).status_code == 403
