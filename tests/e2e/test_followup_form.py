"""Browser test: the follow-up form on a phone shows the rules' proposal live and records an override.

A community doctor (signed in with the forced TOTP set-up) opens the 随访服务记录表 of a patient who
was basically stable last time, taps danger level 1 and the other items: the proposal panel (htmx,
nothing saved yet) says 基本稳定 with a psychiatrist's guidance and the next visit one month on. The
doctor overrides to 不稳定 without a reason (refused, the error names the field), then with a reason;
the saved follow-up keeps both. Nothing scrolls sideways at 390 px; the failed-attempt outcome hides
the assessment sections.

Run: ``XINQIAO_ENV=test python -m pytest -m flushes tests/e2e/test_followup_form.py``. Leaves
``test-results/e2e-followup-form-phone.png``.
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

VISIT = {
    "method": "1", "danger_level": "1", "insight": "1", "sleep": "1", "diet": "2", "self_care": "1",
    "housework": "1", "work": "2", "study": "1", "social": "2", "lock_status": "1", "hospital_status": "0",
    "lab_tests": "1", "adherence": "1", "adverse_reaction": "1", "treatment_effect": "2", "referral": "1",
}


def tap_choice(page: Any, name: str, value: str) -> None:
    radio = page.locator(f'#followup-form input[name="{name}"][value="{value}"]')
    page.locator(f'label[for="{radio.get_attribute("id")}"]').tap()
    expect(radio).to_be_checked()


def test_live_proposal_and_override_on_a_phone(live_server: Any, new_page: Any, cast: dict, towns: list,
                                               results_dir: Any) -> None:
    from django.utils import timezone

    from tests.factories import PASSWORD
    from tests.followups.factories import make_patient
    from xinqiao.followups.models import FollowUp
    from xinqiao.followups.rules import add_months

    today = timezone.localdate()
    patient = make_patient(towns[0], registered_on=today - timedelta(days=200))
    FollowUp.objects.create(patient=patient, region_id=patient.region_id, followup_date=today - timedelta(days=14),
                            method=2, danger_level=1, insight=1, classification=2, proposed_classification=2)
    doctor = cast["community_doctor_a"]

    page = new_page(**PHONE)
    base = live_server.url
    sign_in(page, base, doctor.username, PASSWORD)
    page.fill("#id_token", totp_now(page.locator("#totp-secret").inner_text()))
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(base + "/")

    page.goto(f"{base}/followups/patients/{patient.pk}/new/")
    expect(page.locator("#proposal")).to_contain_text("填写表单时")
    for name, value in VISIT.items():
        tap_choice(page, name, value)
    proposal = page.locator("#proposed-class")
    expect(proposal).to_have_text("基本稳定")
    expect(page.locator("#proposed-next")).to_have_text(add_months(today, 1).isoformat())
    expect(page.locator("#proposal")).to_contain_text("精神科医师")
    assert not FollowUp.objects.filter(followup_date=today).exists()  # only a proposal so far
    assert_no_horizontal_scroll(page, "follow-up form")
    page.screenshot(path=str(results_dir / "e2e-followup-form-phone.png"), full_page=True)

    # Override without a reason: refused, the error names the field; then with one.
    tap_choice(page, "classification", "1")
    page.locator("#save-followup").tap()
    expect(page.locator("#id_override_reason-error")).to_be_visible()
    expect(page.locator('#followup-form input[name="classification"][value="1"]')).to_be_checked()
    page.fill("#id_override_reason", "家属诉近两天夜间吵闹、拒药，需尽快复诊")
    page.locator("#save-followup").tap()
    expect(page).to_have_url(re.compile(r"/followups/\d+/$"))
    saved = FollowUp.objects.get(patient=patient, followup_date=today)
    assert (saved.proposed_classification, saved.classification) == (2, 1)
    assert saved.needs_referral and saved.override_reason.startswith("家属")
    expect(page.locator("#needs-referral")).to_be_visible()

    # A failed attempt hides the assessment sections.
    page.goto(f"{base}/followups/patients/{patient.pk}/new/")
    tap_choice(page, "outcome", "not_reached")
    expect(page.locator("#section-risk")).to_be_hidden()
    expect(page.locator("#section-not-reached")).to_be_visible()
    expect(page.locator("#id_not_reached_reason")).to_be_visible()
