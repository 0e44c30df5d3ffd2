"""Work-list pages, the htmx fragment, the Excel export and the API: scoped, masked, audited, fixed queries."""

from __future__ import annotations

import re
from datetime import timedelta
from io import BytesIO
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tests.helpers import has_cjk, verified_client
from tests.worklists.factories import PatientFactory, clinic
from xinqiao.core.models import AuditAction, AuditEvent
from xinqiao.patients.models import Patient
from xinqiao.worklists import rules

pytestmark = pytest.mark.django_db


@pytest.fixture
def doctor(cast: dict[str, Any], towns: list) -> Any:
    user = cast["community_doctor_a"]
    user.organisation = clinic(towns[0])
    user.save(update_fields=["organisation"])
    return user


def overdue(n: int, days: int = 3, **kwargs: Any) -> list[Patient]:
    today = timezone.localdate()
    return [PatientFactory(next_followup_due=today - timedelta(days=days + i), **kwargs) for i in range(n)]


def test_overview_shows_counts_and_the_top_of_the_overdue_list(doctor: Any, towns: list) -> None:
    today = timezone.localdate()
    late = overdue(7)
    PatientFactory(next_followup_due=today, last_classification=1)
    PatientFactory(awaiting_first_visit_since=today - timedelta(days=20))
    other = overdue(1, region=towns[1])[0]
    response = verified_client(doctor).get(reverse("worklists:overview"))
    assert response.status_code == 200
    html = response.content.decode()
    counts = dict(re.findall(r'id="count-(\w+)".*?data-count="(\d+)"', html, re.S))
    assert counts == {"due_today": "1", "due_week": "1", "overdue": "7", "unstable": "1", "first_visit": "1",
                      "failed_attempts": "0"}
    shown = [int(x) for x in re.findall(r'data-patient="(\d+)"', html)]
    top = rules.settings().overview_top
    assert shown == [p.pk for p in sorted(late, key=lambda p: p.next_followup_due)][:top]
    assert other.pk not in shown
    for p in late:
        assert p.person.name not in html  # names only masked
    assert has_cjk(html) and "逾期" in html
    event = AuditEvent.objects.filter(action=AuditAction.LIST, object_type="patients.patient").latest("id")
    assert event.detail["worklist"] == "overdue" and event.detail["count"] == top
    assert sorted(event.detail["ids"]) == sorted(str(pk) for pk in shown)
    assert event.actor_id == doctor.pk


def test_list_page_paginates_and_htmx_gets_only_the_fragment(doctor: Any) -> None:
    size = rules.settings().page_size
    overdue(size + 3)
    client = verified_client(doctor)
    url = reverse("worklists:list", kwargs={"code": "overdue"})
    first = client.get(url)
    assert first.status_code == 200 and first.content.decode().count('class="list-group-item worklist-row"') == size
    second = client.get(url + "?page=2")
    assert second.content.decode().count('class="list-group-item worklist-row"') == 3
    fragment = client.get(url, headers={"HX-Request": "true"})
    body = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in body and body.lstrip().startswith('<section id="worklist"')
    assert "HX-Request" in fragment["Vary"]
    assert 'hx-get="/worklists/due_today/"' in body


def test_mine_narrows_to_the_doctors_own_patients(doctor: Any) -> None:
    own = overdue(1, responsible_doctor=doctor)[0]
    overdue(2)
    html = verified_client(doctor).get(reverse("worklists:list", kwargs={"code": "overdue"}) + "?mine=1")
    assert [int(x) for x in re.findall(r'data-patient="(\d+)"', html.content.decode())] == [own.pk]


def test_prompt_to_record_lost_to_follow_up_after_three_failed_attempts(doctor: Any) -> None:
    PatientFactory(failed_attempts=3)
    PatientFactory(failed_attempts=1)
    html = verified_client(doctor).get(reverse("worklists:list", kwargs={"code": "failed_attempts"})).content.decode()
    assert html.count("worklist-prompt-lost") == 1
    assert "失访" in html


def test_unknown_list_is_404_and_other_roles_403(doctor: Any, cast: dict) -> None:
    assert verified_client(doctor).get("/worklists/everyone/").status_code == 404
    assert verified_client(doctor).get("/api/v1/worklists/everyone").status_code == 404
    police = verified_client(cast["police_a"])
    assert police.get(reverse("worklists:overview")).status_code == 403
    assert police.get("/api/v1/worklists/overdue").status_code == 403


def test_page_query_count_is_fixed_whatever_the_list_size(doctor: Any) -> None:
    client = verified_client(doctor)
    url = reverse("worklists:list", kwargs={"code": "overdue"})
    overdue(2)
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    overdue(60, responsible_doctor=doctor)
    with CaptureQueriesContext(connection) as big:
        assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as overview:
        assert client.get(reverse("worklists:overview")).status_code == 200
    assert len(small.captured_queries) == len(big.captured_queries) == len(overview.captured_queries)
    patient_queries = [q["sql"] for q in big.captured_queries if '"patients_patient"' in q["sql"]]
    assert len(patient_queries) == 2, patient_queries  # the counts and the page
    # Today 16: session, user, device, permissions, roles (6); the counts and the page (2); the audit
    # event with its savepoint (5); the session save (3). The nav's unread count may add one.
    assert len(big.captured_queries) <= 17, [q["sql"][:80] for q in big.captured_queries]


def test_export_is_masked_scoped_and_audited(doctor: Any, towns: list) -> None:
    rows = overdue(4)
    overdue(1, region=towns[1])
    response = verified_client(doctor).get(reverse("worklists:export", kwargs={"code": "overdue"}))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(response.content)).active
    lines = list(sheet.iter_rows(values_only=True))
    assert len(lines) == 1 + 4
    header = lines[0]
    assert "登记编号" in header and "逾期天数" in header
    numbers = {line[0] for line in lines[1:]}
    assert numbers == {p.register_number for p in rows}
    text = repr(lines)
    for p in rows:
        assert p.person.name not in text and p.person.id_number not in text
    event = AuditEvent.objects.filter(action=AuditAction.EXPORT).latest("id")
    assert event.detail == {"worklist": "overdue", "mine": False, "count": 4, "format": "xlsx", "masked": True}


def test_api_counts_and_page(doctor: Any) -> None:
    today = timezone.localdate()
    late = overdue(3, danger_level=4)
    PatientFactory(awaiting_first_visit_since=today - timedelta(days=20))
    client = verified_client(doctor)
    counts = client.get("/api/v1/worklists/").json()
    assert counts["counts"]["overdue"] == 3 and counts["counts"]["first_visit"] == 1
    assert counts["labels"]["overdue"] == "已逾期"
    before = AuditEvent.objects.filter(action=AuditAction.LIST).count()
    body = client.get("/api/v1/worklists/overdue?page=1").json()
    assert body["count"] == 3 and body["pages"] == 1 and body["code"] == "overdue"
    first = body["results"][0]
    assert first["id"] == late[-1].pk and first["days"] == 5 and first["danger_level"] == 4
    assert "*" in first["name"] and first["name"] != late[-1].person.name
    assert first["next_followup_due"] == (today - timedelta(days=5)).isoformat()
    assert AuditEvent.objects.filter(action=AuditAction.LIST).count() == before + 1
    waiting = client.get("/api/v1/worklists/first_visit").json()["results"][0]
    assert waiting["days"] == 20 and waiting["late"] is True


def test_rows_link_to_the_record_and_to_the_status_change(doctor: Any) -> None:
    prompt = PatientFactory(failed_attempts=3)
    html = verified_client(doctor).get(reverse("worklists:list", kwargs={"code": "failed_attempts"})).content.decode()
    assert f'href="{reverse("patients:patient_detail", kwargs={"pk": prompt.pk})}"' in html
    status = reverse("patients:patient_status", kwargs={"pk": prompt.pk})
    assert f'href="{status}?to_status=lost&amp;loss_reason=4"' in html
