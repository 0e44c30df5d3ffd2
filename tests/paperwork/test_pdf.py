"""The national forms as PDF: filled from the record, masked unless revealed with an audited purpose,
every print audited, blank forms for paper use. The PDFs' text is read from the bytes (``pdftext``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import translation

from tests.helpers import verified_client
from tests.paperwork.pdftext import pages_text, pdf_text
from tests.patients.factories import PatientFactory
from xinqiao.core.models import AuditEvent, Region
from xinqiao.followups.models import FollowUp, FollowUpMedication
from xinqiao.patients.models import Patient, PersonalSupplement


@pytest.fixture(autouse=True)
def _chinese() -> None:
    translation.activate("zh-hans")


@pytest.fixture
def patient(towns: list[Region]) -> Patient:
    patient = PatientFactory(region=towns[0], danger_level=1)
    PersonalSupplement.objects.create(
        patient=patient, region=towns[0], guardian_name="王大伯", guardian_relation="父子", guardian_phone="13900001111",
        household=2, employment=3, consent=1, consent_signed_by="王大伯", consent_date=date(2024, 1, 2),
        past_symptoms=[1, 3, 10], past_lock=1, outpatient_history=2, admissions=2, latest_treatment_effect=2,
        trouble_count=1, economic_status=2, poverty_alleviation=True, filled_on=date(2024, 1, 2),
        specialist_opinion="建议规律服药")
    return patient


@pytest.fixture
def followup(patient: Patient) -> FollowUp:
    fu = FollowUp.objects.create(
        patient=patient, region_id=patient.region_id, followup_date=date(2026, 1, 10), method=2, danger_level=1,
        symptoms=[1, 10], insight=2, sleep=1, diet=2, self_care=1, housework=2, work=9, study=2, social=3, lock_status=1,
        hospital_status=0, lab_tests=1, adherence=1, adverse_reaction=1, treatment_effect=2, referral=1,
        rehab_measures=[1, 4], classification=2, next_followup_date=date(2026, 1, 24), doctor_name="李医生")
    FollowUpMedication.objects.create(followup=fu, drug_name="利培酮", times=2, dose=Decimal("2"))
    return fu


def flat(text: str) -> str:
    return text.replace("\n", "")


def _pdf(response: Any) -> str:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    return pdf_text(response.content)


def test_supplement_filled_and_masked(cast: dict[str, Any], patient: Patient) -> None:
    client = verified_client(cast["community_doctor_a"])
    before = AuditEvent.objects.count()
    text = _pdf(client.get(reverse("paperwork:supplement_pdf", kwargs={"pk": patient.pk})))
    name = patient.person.name
    assert "严重精神障碍患者个人信息补充表" in text
    assert name not in text and f"{name[0]}**" in text and "（已脱敏）" in text
    assert patient.register_number in text
    for label in ("监护人姓名", "与患者关系", "户别", "就业情况", "知情同意", "既往主要症状", "既往关锁情况",
                  "目前诊断情况", "最近一次治疗效果", "危险行为", "经济状况", "专科医生的意见（如果有请记录）",
                  "精准扶贫对象", "填表日期", "医生签字"):
        assert label in flat(text), label  # a long label wraps onto two lines in its cell
    assert "1 城镇\n2 农村\n2" in text  # 户别: the options, then the chosen code in the box
    assert "1\n/\n3\n/\n10" in text  # 既往主要症状: one box per chosen code
    assert "监护人姓名\n王**\n" in text  # the guardian is masked for the community doctor (care.guardian)
    assert "精神分裂症 F20.0" in text and "2024年01月02日" in text and "建议规律服药" in text
    events = list(AuditEvent.objects.order_by("id")[before:])
    assert [(e.action, e.object_type, e.detail["masked"]) for e in events] == [("export", "patients.patient", True)]


def test_supplement_revealed_after_a_purpose(cast: dict[str, Any], patient: Patient) -> None:
    client = verified_client(cast["community_doctor_a"])
    url = reverse("paperwork:supplement_pdf", kwargs={"pk": patient.pk})
    before = AuditEvent.objects.count()
    text = _pdf(client.post(url, {"purpose": "入户随访带纸质表"}))
    assert patient.person.name in text and "监护人姓名\n王大伯\n" in text and "（已脱敏）" not in text
    events = list(AuditEvent.objects.order_by("id")[before:])
    assert [e.action for e in events] == ["unmask", "export"]
    assert events[0].purpose == "入户随访带纸质表" and events[1].detail["masked"] is False


def test_a_purpose_is_needed_to_reveal(cast: dict[str, Any], patient: Patient) -> None:
    client = verified_client(cast["community_doctor_a"])
    response = client.post(reverse("paperwork:supplement_pdf", kwargs={"pk": patient.pk}), {"purpose": "ab"})
    assert response.status_code == 400
    assert "用途" in response.content.decode()
    assert not AuditEvent.objects.filter(action__in=["unmask", "export"]).exists()


def test_followup_record(cast: dict[str, Any], followup: FollowUp) -> None:
    client = verified_client(cast["mhc_staff_a"])
    before = AuditEvent.objects.count()
    text = _pdf(client.get(reverse("paperwork:followup_pdf", kwargs={"pk": followup.pk})))
    assert "严重精神障碍患者随访服务记录表" in text and "2026年01月10日" in text
    for label in ("本次随访形式", "若失访，原因", "危险性评估", "目前症状", "自知力", "社会功能情况", "生产劳动及工作",
                  "两次随访期间住院情况", "用药依从性", "是否转诊", "康复措施", "本次随访分类", "用药情况",
                  "下次随访日期", "随访医生签名"):
        assert label in flat(text), label
    assert "利培酮" in text and "2 mg" in text and "2026年01月24日" in text and "李医生" in text
    assert "9 此项不适用\n9" in text  # 生产劳动及工作: 9 in its box
    events = list(AuditEvent.objects.order_by("id")[before:])
    assert [(e.action, e.object_type) for e in events] == [("export", "followups.followup")]
    assert len(pages_text(client.get(reverse("paperwork:followup_pdf", kwargs={"pk": followup.pk})).content)) == 1


def test_print_page_lists_the_forms(cast: dict[str, Any], followup: FollowUp) -> None:
    client = verified_client(cast["community_doctor_a"])
    response = client.get(reverse("paperwork:patient_print", kwargs={"pk": followup.patient_id}))
    assert response.status_code == 200
    page = response.content.decode()
    assert reverse("paperwork:supplement_pdf", kwargs={"pk": followup.patient_id}) in page
    assert reverse("paperwork:followup_pdf", kwargs={"pk": followup.pk}) in page
    assert followup.patient.person.name not in page
    assert AuditEvent.objects.filter(action="view", object_type="patients.patient").exists()


@pytest.mark.parametrize("form", ["supplement", "followup"])
def test_blank_forms(cast: dict[str, Any], form: str) -> None:
    client = verified_client(cast["police_a"])
    text = _pdf(client.get(reverse("paperwork:blank_pdf", kwargs={"form": form})))
    assert ("监护人姓名" if form == "supplement" else "随访日期") in text
    assert "纸质填写用空白表" in text


def test_scope_and_permission(cast: dict[str, Any], towns: list[Region], patient: Patient) -> None:
    elsewhere = PatientFactory(region=towns[1])
    doctor = verified_client(cast["community_doctor_a"])
    assert doctor.get(reverse("paperwork:supplement_pdf", kwargs={"pk": elsewhere.pk})).status_code == 404
    assert doctor.post(reverse("paperwork:supplement_pdf", kwargs={"pk": elsewhere.pk}),
                       {"purpose": "越权尝试打印"}).status_code == 404
    psychiatrist = verified_client(cast["psychiatrist_a"])  # sees the patient, may not print
    assert psychiatrist.get(reverse("paperwork:supplement_pdf", kwargs={"pk": patient.pk})).status_code == 403
    police = verified_client(cast["police_a"])  # partner agency: a danger-1 patient is not theirs to see
    assert police.get(reverse("paperwork:supplement_pdf", kwargs={"pk": patient.pk})).status_code == 404
    assert not AuditEvent.objects.filter(action="export").exists()
    assert doctor.get(reverse("paperwork:blank_pdf", kwargs={"form": "other"})).status_code == 404
