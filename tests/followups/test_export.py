"""``/followups/export/``: the follow-ups a user may see as Excel, filtered, masked as on screen, audited.

Only roles holding ``followups.export_followup`` (community doctor, county centre) may export; the
file holds the user's scope only, the patient's name masked and hidden categories left out (as
``present`` shows them), is one ``export`` audit event with the row count and filters, comes from
one query whatever the number of rows, and a selection above ``export.max_rows`` is refused.
"""

from __future__ import annotations

from datetime import date
from io import BytesIO
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from openpyxl import load_workbook

from tests.followups.factories import make_patient, not_reached, visit
from tests.helpers import login_verified
from xinqiao.core.masks import present
from xinqiao.core.models import AuditAction, AuditEvent
from xinqiao.followups import corrections, services
from xinqiao.followups.models import FollowUp

pytestmark = pytest.mark.django_db
URL = "/followups/export/"
TODAY = date(2025, 4, 30)


def header(name: str) -> str:
    with translation.override("zh-hans"):
        return str(FollowUp._meta.get_field(name).verbose_name)  # type: ignore[union-attr]


def sheet(response: Any) -> list[list[Any]]:
    assert response.status_code == 200, response.content[:2000]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response["Content-Disposition"].startswith('attachment; filename="followups-')
    wb = load_workbook(BytesIO(response.content), read_only=True)
    return [list(row) for row in wb.worksheets[0].iter_rows(values_only=True)]


@pytest.fixture
def data(cast: dict[str, Any], towns: Any) -> dict[str, Any]:
    """Township A: a stable visit (March), a basically stable visit (April), a failed attempt;
    township B: one visit (another county)."""
    a, b = make_patient(towns[0]), make_patient(towns[1])
    doctor_a, doctor_b = cast["community_doctor_a"], cast["community_doctor_b"]
    rows = {
        "stable": services.record_followup(doctor_a, a, visit(followup_date=date(2025, 3, 3)), today=TODAY)[0],
        "basic": services.record_followup(doctor_a, a, visit(followup_date=date(2025, 4, 7), symptoms=(10,), insight=2),
                                          today=TODAY)[0],
        "attempt": services.record_followup(doctor_a, a, not_reached(followup_date=date(2025, 4, 20)), today=TODAY)[0],
        "other": services.record_followup(doctor_b, b, visit(followup_date=date(2025, 3, 5)), today=TODAY)[0],
    }
    return {"a": a, "b": b, **rows}


def test_page_offers_the_filters(client: Any, cast: dict[str, Any], data: dict[str, Any]) -> None:
    login_verified(client, cast["mhc_staff_a"])
    response = client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    for name in ("date_from", "date_to", "township", "classification"):
        assert f'name="{name}"' in html
    assert f'value="{data["a"].township_code}"' in html and f'value="{data["b"].township_code}"' not in html
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()


def test_export_is_scoped_masked_and_a_real_workbook(client: Any, cast: dict[str, Any], data: dict[str, Any]) -> None:
    doctor = cast["community_doctor_a"]
    login_verified(client, doctor)
    rows = sheet(client.get(URL, {"download": "xlsx"}))
    head, body = rows[0], rows[1:]
    with translation.override("zh-hans"):
        assert head[:4] == [translation.gettext("register number"), translation.gettext("township code"),
                            translation.gettext("township"), "姓名"]
    assert len(body) == 3  # township A only
    assert {r[0] for r in body} == {data["a"].register_number}
    person = data["a"].person
    name_col = head.index("姓名")
    assert {r[name_col] for r in body} == {present(doctor, person)["name"]}
    assert all(person.name not in str(cell) for r in body for cell in r)
    # Values as on screen: labels, not codes; lists as their labels.
    cls = head.index(header("classification"))
    assert sorted(str(r[cls]) for r in body if r[cls]) == ["基本稳定", "稳定"]
    assert header("adherence") in head  # the community doctor sees medication


def test_filters_date_range_township_and_class(client: Any, cast: dict[str, Any], data: dict[str, Any]) -> None:
    login_verified(client, cast["mhc_staff_a"])
    town = data["a"].township_code
    april = sheet(client.get(URL, {"download": "xlsx", "date_from": "2025-04-01", "date_to": "2025-04-30"}))
    assert len(april) - 1 == 2
    basic = sheet(client.get(URL, {"download": "xlsx", "classification": "2", "township": town}))
    cls = basic[0].index(header("classification"))
    assert [r[cls] for r in basic[1:]] == ["基本稳定"]
    wrong = client.get(URL, {"download": "xlsx", "date_from": "2025-05-01", "date_to": "2025-04-01"})
    assert wrong.status_code == 400 and 'id="id_date_to-error"' in wrong.content.decode()
    outside = client.get(URL, {"download": "xlsx", "township": data["b"].township_code})
    assert outside.status_code == 400 and 'id="id_township-error"' in outside.content.decode()


def test_export_is_audited_with_count_and_filters_no_values(client: Any, cast: dict[str, Any],
                                                             data: dict[str, Any]) -> None:
    login_verified(client, cast["community_doctor_a"])
    client.get(URL, {"download": "xlsx", "date_from": "2025-03-01"})
    event = AuditEvent.objects.get(action=AuditAction.EXPORT, object_type="followups.followup")
    assert event.detail == {"count": 3, "format": "xlsx", "masked": True, "filters": {"date_from": "2025-03-01"}}
    assert event.actor_id == cast["community_doctor_a"].pk and event.region_code == cast["community_doctor_a"].region_id


def test_masks_follow_the_role(client: Any, cast: dict[str, Any], data: dict[str, Any]) -> None:
    """A regulator granted the export (not in roles.json) gets the regulator's masks: no medication columns."""
    regulator = cast["regulator"]
    login_verified(client, regulator)
    assert client.get(URL).status_code == 403
    regulator.user_permissions.add(Permission.objects.get(codename="export_followup"))
    regulator = type(regulator).objects.get(pk=regulator.pk)
    login_verified(client, regulator)
    rows = sheet(client.get(URL, {"download": "xlsx"}))
    head = rows[0]
    assert len(rows) - 1 == 4  # the city: both townships
    assert header("classification") in head and header("danger_level") in head
    assert header("adherence") not in head and header("adverse_reaction_text") not in head
    name_col = head.index("姓名")
    masked = {present(regulator, data["a"].person)["name"], present(regulator, data["b"].person)["name"]}
    assert {r[name_col] for r in rows[1:]} == masked


def test_roles_without_the_permission_get_403(client: Any, cast: dict[str, Any], data: dict[str, Any]) -> None:
    for user in ("psychiatrist_a", "police_a", "civil_affairs_a", "regulator", "no_role"):
        login_verified(client, cast[user])
        assert client.get(URL, {"download": "xlsx"}).status_code == 403, user
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()


def test_too_many_rows_are_refused_with_a_message(client: Any, cast: dict[str, Any], data: dict[str, Any],
                                                  monkeypatch: Any) -> None:
    monkeypatch.setattr(corrections, "config", lambda: corrections.EditingConfig(export_max_rows=2))
    login_verified(client, cast["community_doctor_a"])
    response = client.get(URL, {"download": "xlsx"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "3" in html and "2" in html and 'id="error-summary"' in html
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()
    assert len(sheet(client.get(URL, {"download": "xlsx", "date_from": "2025-04-01"}))) - 1 == 2


def test_one_query_for_the_rows_whatever_their_number(client: Any, cast: dict[str, Any], data: dict[str, Any]) -> None:
    login_verified(client, cast["community_doctor_a"])

    def followup_selects() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL, {"download": "xlsx"}).status_code == 200
        return sum(1 for q in queries.captured_queries if 'FROM "followups_followup"' in q["sql"])

    few = followup_selects()
    for day in range(1, 8):
        services.record_followup(cast["community_doctor_a"], data["a"], not_reached(followup_date=date(2025, 1, day)),
                                 today=TODAY)
    assert followup_selects() == few == 2  # the count, then the rows (patient, person, township joined)
