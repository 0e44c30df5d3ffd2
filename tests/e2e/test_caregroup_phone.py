"""Browser test: the township management group and the emergency form on a phone.

A police officer signs in (password, then the forced TOTP set-up), opens the group's patient page,
sees the danger-3 patient with a masked name and no diagnosis, opens the record, and never sees the
danger-0 patient. A community doctor records an emergency on the phone; it lands on the county board.
Nothing may scroll sideways at 390 px.

Run: ``XINQIAO_ENV=test python -m pytest -m flushes tests/e2e/test_caregroup_phone.py``. Leaves
``test-results/e2e-caregroup-phone.png`` and ``e2e-emergency-form-phone.png``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE
from tests.e2e.test_smoke import assert_no_horizontal_scroll, sign_in, totp_now

pytestmark = pytest.mark.e2e


def signed_in(new_page: Any, base: str, username: str) -> Any:
    from tests.factories import PASSWORD

    page = new_page(**PHONE)
    sign_in(page, base, username, PASSWORD)
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/"))
    page.fill("#id_token", totp_now(page.locator("#totp-secret").inner_text()))
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(base + "/")
    return page


def test_police_officer_sees_only_the_groups_at_risk_patients_on_a_phone(
        live_server: Any, new_page: Any, cast: dict, towns: list, results_dir: Any) -> None:
    from tests.caregroups.factories import group, seat
    from tests.patients.factories import PatientFactory

    town_a = towns[0]
    g = group(cast["zongzhi_a"], town_a)
    seat(cast["zongzhi_a"], g, "police", user=cast["police_a"])
    at_risk = PatientFactory(region=town_a, danger_level=3)
    calm = PatientFactory(region=town_a, danger_level=0)

    base = live_server.url
    page = signed_in(new_page, base, "police_a")
    page.goto(f"{base}/caregroups/{g.pk}/")
    page.locator("#patients-link").tap()
    rows = page.locator("#group-patients a")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(at_risk.register_number)
    shown_name = rows.first.locator(".masked").first.inner_text().strip()
    assert "*" in shown_name and shown_name != at_risk.person.name
    expect(page.locator("main")).not_to_contain_text("精神分裂症")
    assert_no_horizontal_scroll(page, "group patients")
    page.screenshot(path=str(results_dir / "e2e-caregroup-phone.png"), full_page=True)
    rows.first.tap()
    expect(page.locator("#f-danger_level")).to_be_visible()
    expect(page.locator("#f-diagnosis")).to_have_count(0)
    assert_no_horizontal_scroll(page, "group patient")
    response = page.goto(f"{base}/caregroups/{g.pk}/patients/{calm.pk}/")
    assert response is not None and response.status == 404


def test_community_doctor_records_an_emergency_on_a_phone(
        live_server: Any, new_page: Any, cast: dict, towns: list, results_dir: Any) -> None:
    from tests.patients.factories import PatientFactory
    from tests.referrals.factories import network
    from xinqiao.referrals.models import EmergencyRecord

    network(cast, towns)
    patient = PatientFactory(region=towns[0], danger_level=2)
    base = live_server.url
    page = signed_in(new_page, base, "community_doctor_a")
    page.goto(base + "/referrals/emergencies/new/")
    assert_no_horizontal_scroll(page, "emergency form")
    page.select_option("#id_subject_category", "1")
    page.fill("#id_patient", patient.register_number)
    page.select_option("#id_danger_level", "3")
    page.select_option("#id_reporter_role", "2")
    page.select_option("#id_reason", "2")
    page.locator('input[name="measures"][value="1"]').check()
    page.select_option("#id_effect", "1")
    page.screenshot(path=str(results_dir / "e2e-emergency-form-phone.png"), full_page=True)
    page.locator("main form button[type=submit]").tap()
    expect(page).to_have_url(re.compile(r"/referrals/emergencies/\d+/$"))
    expect(page.locator("#f-police")).not_to_contain_text("—")
    record = EmergencyRecord.objects.get()
    assert record.patient_id == patient.pk and record.police_notified_at is not None
    page.goto(base + "/referrals/emergencies/")
    expect(page.locator("#emergency-list a")).to_have_count(1)
    assert_no_horizontal_scroll(page, "emergency board")
