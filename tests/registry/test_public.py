"""Public pages and API: the credential look-up (exactly the public fields; a wrong number answers
like "not found"; rate-limited; counted, never logged), the finder, disclosure and complaints."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.registry.factories import BAIYUN, TIANHE, make_institution, make_practitioner
from xinqiao.core.models import AuditEvent, Organisation
from xinqiao.registry import lookup, oversight
from xinqiao.registry.models import Complaint, Credential, LookupCount, Practice, Sanction

pytestmark = pytest.mark.django_db

NAME, NUMBER = "陈思远", "1511000000654321"


@pytest.fixture
def counsellor() -> Any:
    agency = make_institution(None, name="天河心语咨询中心")
    practitioner = make_practitioner(agency, name=NAME, profession="counsellor",
                                     credential=("counsellor_national", NUMBER), issue_date=date(2016, 5, 1))
    second = make_institution(None, name="白云心晴工作室", region_code=BAIYUN, latitude=23.16, longitude=113.27)
    Practice.objects.create(practitioner=practitioner, institution=second, is_primary=False)
    old = make_institution(None, name="已离职机构", region_code=TIANHE)
    Practice.objects.create(practitioner=practitioner, institution=old, is_primary=False,
                            ended_on=date(2020, 1, 1))
    return practitioner


# --- the look-up ------------------------------------------------------------------------------------


def test_a_match_answers_exactly_the_public_fields(counsellor: Any) -> None:
    answer = lookup.lookup(NAME, NUMBER)
    assert tuple(answer) == lookup.PUBLIC_FIELDS
    assert answer["found"] is True and answer["status"] == "valid"
    assert answer["credential_type"].startswith("心理咨询师国家职业资格")
    assert [w["name"] for w in answer["workplaces"]] == ["天河心语咨询中心", "白云心晴工作室"]  # not the old one
    assert set(answer["workplaces"][0]) == {"name", "region", "suspended"}
    assert answer["sanctions"] == []
    flat = repr(answer)
    assert NUMBER not in flat and str(counsellor.pk) not in flat  # nothing else about the record


@pytest.mark.parametrize(("name", "number"), [
    (NAME, "1511000000654322"),  # wrong number
    ("陈思", NUMBER),  # wrong name
    ("无此人", "0000"),  # nobody
    ("", NUMBER), (NAME, "  "),
])
def test_anything_else_answers_like_not_found(counsellor: Any, name: str, number: str) -> None:
    assert lookup.lookup(name, number) == lookup.NOT_FOUND


def test_spacing_case_and_width_do_not_matter(counsellor: Any) -> None:
    assert lookup.lookup(" 陈 思远 ", "1511 0000 0065 4321")["found"]
    Credential.objects.create(practitioner=counsellor, type_code="cps_registered", number="X-22-031")
    assert lookup.lookup(NAME, "x22031")["credential_type"].startswith("中国心理学会")


def test_expired_revoked_and_sanctions(counsellor: Any) -> None:
    credential = counsellor.credentials.get()
    Credential.objects.filter(pk=credential.pk).update(expiry_date=timezone.localdate() - timedelta(days=1))
    assert lookup.lookup(NAME, NUMBER)["status"] == "expired"
    Credential.objects.filter(pk=credential.pk).update(revoked_at=timezone.now())
    assert lookup.lookup(NAME, NUMBER)["status"] == "revoked"
    from tests.factories import UserFactory

    staff = UserFactory(username="proposer")
    Sanction.objects.create(practitioner=counsellor, kind="suspension", status="in_force", public=True,
                            grounds="违反伦理", effective_from=date(2026, 1, 1), ends_on=date(2026, 6, 30),
                            proposed_by=staff, region_id=counsellor.region_id)
    Sanction.objects.create(practitioner=counsellor, kind="warning", status="in_force", public=False,
                            grounds="内部", proposed_by=staff, region_id=counsellor.region_id)
    Sanction.objects.create(practitioner=counsellor, kind="removal", status="proposed", public=True,
                            grounds="待定", proposed_by=staff, region_id=counsellor.region_id)
    sanctions = lookup.lookup(NAME, NUMBER)["sanctions"]
    assert sanctions == [{"kind": "suspension", "status": "in_force", "effective_from": "2026-01-01",
                          "ends_on": "2026-06-30"}]  # neither the private one nor the undecided one


def test_the_page_answers_and_counts_but_logs_nothing(counsellor: Any, client: Client) -> None:
    url = reverse("services:lookup")
    events = AuditEvent.objects.count()
    found = client.post(url, {"name": NAME, "number": NUMBER})
    assert found.status_code == 200
    body = found.content.decode()
    assert 'data-status="valid"' in body and "天河心语咨询中心" in body
    assert NUMBER not in body  # the question is not echoed back
    missing = client.post(url, {"name": NAME, "number": "1511000000654322"})
    wrong_name = client.post(url, {"name": "别人", "number": NUMBER})
    assert answer_section(missing) == answer_section(wrong_name)
    assert 'id="lookup-not-found"' in answer_section(missing)
    assert AuditEvent.objects.count() == events  # counted, not logged
    today = timezone.localdate()
    counts = dict(LookupCount.objects.filter(day=today, channel="page").values_list("outcome", "count"))
    assert counts == {"found": 1, "not_found": 2}


def answer_section(response: Any) -> str:
    body = response.content.decode()
    start = body.index('<section class="card mb-3" id="lookup-answer"')
    return body[start:body.index("</section>", start)]


def test_the_page_is_rate_limited_per_client(counsellor: Any, client: Client, settings: Any) -> None:
    url = reverse("services:lookup")
    statuses = [client.post(url, {"name": "某人", "number": f"N{i}"}, REMOTE_ADDR="203.0.113.9").status_code
                for i in range(21)]
    assert statuses[:20] == [200] * 20 and statuses[20] == 429
    other = client.post(url, {"name": "某人", "number": "N"}, REMOTE_ADDR="203.0.113.10")
    assert other.status_code == 200
    assert LookupCount.objects.get(outcome="limited").count == 1


def test_the_api_answers_alike_for_a_miss_and_a_wrong_number(counsellor: Any, client: Client) -> None:
    url = reverse("api-1:services_lookup")
    hit = client.post(url, {"name": NAME, "number": NUMBER}, content_type="application/json")
    assert hit.status_code == 200 and set(hit.json()) == set(lookup.PUBLIC_FIELDS) and hit.json()["found"]
    wrong = client.post(url, {"name": NAME, "number": NUMBER[:-1] + "9"}, content_type="application/json")
    nobody = client.post(url, {"name": "无此人", "number": "X"}, content_type="application/json")
    assert wrong.status_code == nobody.status_code == 200
    assert wrong.content == nobody.content
    assert wrong.json() == {"found": False, "status": None, "credential_type": None, "workplaces": [],
                            "sanctions": []}
    assert LookupCount.objects.get(channel="api", outcome="not_found").count == 2


def test_the_api_names_a_missing_field(client: Client) -> None:
    response = client.post(reverse("api-1:services_lookup"), {"name": NAME}, content_type="application/json",
                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 422
    assert [d["field"] for d in response.json()["detail"]] == ["number"]


# --- complaints -------------------------------------------------------------------------------------


def test_a_public_complaint_is_stored_once_with_no_address_in_the_log(client: Client) -> None:
    agency = make_institution(None)
    page = client.get(reverse("services:complaint_create") + f"?institution={agency.pk}")
    key = page.context["form"].initial["form_key"]
    data = {"form_key": key, "institution": agency.pk, "category": "privacy",
            "description": "咨询师在候诊区大声谈论我的情况。", "complainant_phone": "13900000000"}
    first = client.post(reverse("services:complaint_create"), data, REMOTE_ADDR="198.51.100.7")
    again = client.post(reverse("services:complaint_create"), data, REMOTE_ADDR="198.51.100.7")
    assert first.status_code == again.status_code == 201
    complaint = Complaint.objects.get()
    assert complaint.institution == agency and complaint.region_id == agency.region_id
    assert first.context["reference"] == again.context["reference"] == complaint.reference
    event = AuditEvent.objects.get(object_type="registry.complaint")
    assert event.remote_addr == "" and event.user_agent == "" and event.actor_id is None
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT description, complainant_phone FROM registry_complaint")
        raw = cursor.fetchone()
    assert raw[0].startswith("v1.") and raw[1].startswith("v1.")
    status = client.post(reverse("services:complaint_status"), {"reference": complaint.reference})
    assert complaint.get_status_display() in status.content.decode()
    unknown = client.post(reverse("services:complaint_status"), {"reference": "ABCDEFGHJK"})
    assert unknown.context["complaint"] is None


def test_a_complaint_names_the_wrong_fields(client: Client) -> None:
    page = client.get(reverse("services:complaint_create"))
    response = client.post(reverse("services:complaint_create"), {
        "form_key": page.context["form"].initial["form_key"], "category": "nonsense", "description": "短"})
    assert response.status_code == 400
    assert {"category", "description"} <= set(response.context["form"].errors)
    assert not Complaint.objects.exists()


def test_staff_handle_complaints_with_masks_and_audited_unmask(cast: dict[str, Any], client: Client) -> None:
    from tests.helpers import login_verified

    room = make_institution(None, name="天河测试咨询室", kind="counselling_room",
                            region_code=cast["community_doctor_a"].region_id, business_licence_number="",
                            licensing_status="")
    complaint, _created = oversight.submit_complaint(oversight.ComplaintInput(
        category="quality", institution_id=room.pk, description="服务态度很差，多次迟到。",
        complainant_name="赵小明", complainant_phone="13912345678"), key="t1")
    login_verified(client, cast["regulator"])
    page = client.get(reverse("registry:complaint_detail", kwargs={"pk": complaint.pk})).content.decode()
    assert "赵*" in page and "赵小明" not in page and "13912345678" not in page
    assert 'id="complainant-phone"' not in page  # hidden from the regulator
    login_verified(client, cast["mhc_staff_a"])
    page = client.get(reverse("registry:complaint_detail", kwargs={"pk": complaint.pk})).content.decode()
    assert "139****5678" in page
    revealed = client.post(reverse("registry:complaint_unmask", kwargs={"pk": complaint.pk}),
                           {"purpose": "回访投诉人核实情况"}).content.decode()
    assert "13912345678" in revealed and "赵小明" in revealed
    assert AuditEvent.objects.filter(action="unmask", object_type="registry.complaint",
                                     purpose="回访投诉人核实情况").exists()
    oversight.transition_complaint(cast["mhc_staff_a"], complaint, "resolve", note="已约谈机构负责人并整改")
    complaint.refresh_from_db()
    assert complaint.status == "resolved" and complaint.closed_at is not None


# --- disclosure -------------------------------------------------------------------------------------


def test_disclosure_shows_grade_demonstration_and_public_sanctions(client: Client) -> None:
    from tests.factories import UserFactory

    good = make_institution(None, name="示范社区心理咨询室")
    good.demonstration, good.demonstration_year, good.grade = True, 2025, "A"
    good.save()
    bad = make_institution(None, name="被警告的咨询中心")
    staff = UserFactory(username="s")
    Sanction.objects.create(institution=bad, kind="warning", status="in_force", public=True, grounds="逾期未整改",
                            effective_from=date(2026, 2, 1), proposed_by=staff, region_id=bad.region_id)
    Sanction.objects.create(institution=bad, kind="suspension", status="proposed", public=True, grounds="待定",
                            proposed_by=staff, region_id=bad.region_id)
    outside = make_institution(None, name="北京某中心", region_code="110101")
    page = client.get(reverse("services:disclosure", kwargs={"code": "4401"}))
    body = page.content.decode()
    assert page.status_code == 200
    assert "示范社区心理咨询室" in body and "优秀" in body and "被警告的咨询中心" in body
    assert body.count('class="small text-danger sanction"') == 1  # the proposed one is not public yet
    assert outside.organisation.name not in body
    api = client.get(reverse("api-1:services_disclosure", kwargs={"code": "4401"})).json()
    by_name = {row["name"]: row for row in api}
    assert by_name["示范社区心理咨询室"]["demonstration"] is True
    assert [s["kind"] for s in by_name["被警告的咨询中心"]["sanctions"]] == ["warning"]
    assert client.get(reverse("services:disclosure", kwargs={"code": "9999"})).status_code == 404
    assert Organisation.objects.filter(name="北京某中心").exists()
