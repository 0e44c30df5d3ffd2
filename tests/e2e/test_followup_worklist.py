"""Browser test: a community doctor works the overdue list on a phone and records a follow-up.

Signed in (password, then the forced TOTP set-up), they open the work lists, see an overdue patient
with the days overdue and a masked name, tap "record a follow-up", fill the 随访服务记录表 by tapping
(the follow-up app's own form), save it, and the patient is no longer on the overdue list; the other
overdue patient still is. Nothing may scroll sideways at 390 px.

Run: ``XINQIAO_ENV=test python -m pytest -m flushes tests/e2e/test_followup_worklist.py``. Leaves
``test-results/e2e-worklist-phone.png`` (the list before) and ``…-after-phone.png`` (after).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE
from tests.e2e.test_smoke import assert_no_horizontal_scroll, sign_in, totp_now

pytestmark = pytest.mark.e2e

# A stable home visit, as the doctor taps it (field → code on the paper form).
VISIT = {
    "method": "2", "danger_level": "0", "insight": "1", "sleep": "1", "diet": "1", "self_care": "1",
    "housework": "1", "work": "9", "study": "1", "social": "2", "lock_status": "1", "hospital_status": "0",
    "lab_tests": "1", "adherence": "4", "adverse_reaction": "1", "treatment_effect": "2", "referral": "1",
}


def tap_choice(page: Any, name: str, value: str) -> None:
    """Tap the big label of one coded option (the radio itself is visually hidden)."""
    radio = page.locator(f'#followup-form input[name="{name}"][value="{value}"]')
    page.locator(f'label[for="{radio.get_attribute("id")}"]').tap()
    expect(radio).to_be_checked()


def test_doctor_records_an_overdue_follow_up_and_the_patient_leaves_the_list(
        live_server: Any, new_page: Any, cast: dict, towns: list, results_dir: Any) -> None:
    from django.utils import timezone

    from tests.factories import PASSWORD
    from tests.worklists.factories import PatientFactory, clinic
    from xinqiao.followups.models import FollowUp
    from xinqiao.patients.models import Patient

    town_a, town_b = towns
    doctor = cast["community_doctor_a"]
    doctor.organisation = clinic(town_a)
    doctor.save(update_fields=["organisation"])
    today = timezone.localdate()
    late = PatientFactory(next_followup_due=today - timedelta(days=6), last_followup_date=today - timedelta(days=20),
                          last_classification=2, responsible_doctor=doctor)
    other = PatientFactory(next_followup_due=today - timedelta(days=2), last_classification=3)
    elsewhere = PatientFactory(region=town_b, next_followup_due=today - timedelta(days=9))

    page = new_page(**PHONE)
    base = live_server.url
    sign_in(page, base, doctor.username, PASSWORD)
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/"))
    page.fill("#id_token", totp_now(page.locator("#totp-secret").inner_text()))
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(base + "/")

    # The work lists: two overdue, the longest first, with days overdue and a masked name.
    page.goto(base + "/worklists/")
    expect(page.locator("#count-overdue [data-count]")).to_have_text("2")
    rows = page.locator("#worklist-overdue .worklist-row")
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_attribute("id", f"patient-{late.pk}")
    row = page.locator(f"#patient-{late.pk}")
    expect(row.locator(".worklist-days")).to_contain_text("6")
    shown_name = row.locator(".masked").inner_text().strip()
    assert "*" in shown_name and shown_name != late.person.name
    expect(page.locator(f"#patient-{elsewhere.pk}")).to_have_count(0)
    assert_no_horizontal_scroll(page, "work lists")
    page.screenshot(path=str(results_dir / "e2e-worklist-phone.png"), full_page=True)

    # A tab switch through htmx keeps the page and swaps the list.
    page.locator("#tab-due_today").tap()
    expect(page.locator("#worklist-due_today")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/worklists/due_today/$"))
    page.locator("#tab-overdue").tap()
    expect(page.locator(f"#patient-{late.pk}")).to_be_visible()

    # Record the follow-up on the follow-up app's phone form.
    page.locator(f"#patient-{late.pk} .worklist-record").tap()
    expect(page).to_have_url(re.compile(rf"/followups/patients/{late.pk}/new/$"))
    expect(page.locator('#followup-form input[name="outcome"][value="visited"]')).to_be_checked()
    for name, value in VISIT.items():
        tap_choice(page, name, value)
    assert_no_horizontal_scroll(page, "follow-up form")
    page.wait_for_load_state("networkidle")  # the live proposal (htmx, 300 ms after a change) has answered
    page.locator("#save-followup").tap()
    expect(page).to_have_url(re.compile(r"/followups/\d+/$"))

    followup = FollowUp.objects.get(patient=late)
    late = Patient.objects.get(pk=late.pk)
    assert late.last_followup_date == today == followup.followup_date
    assert late.next_followup_due is not None and late.next_followup_due > today

    # Back on the overdue list: the patient has left it, the other one is still there.
    page.goto(base + "/worklists/overdue/")
    expect(page.locator("#tab-overdue .badge")).to_have_text("1")
    expect(page.locator(f"#patient-{late.pk}")).to_have_count(0)
    expect(page.locator(f"#patient-{other.pk}")).to_be_visible()
    assert_no_horizontal_scroll(page, "overdue list after")
    page.screenshot(path=str(results_dir / "e2e-worklist-after-phone.png"), full_page=True)
